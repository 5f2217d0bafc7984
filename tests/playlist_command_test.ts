/**
 * `deno task playlist` and `deno task duplicates` as a person types them, on a small tagged collection of
 * generated songs (one re-encoded copy, one faster live version): a radio and a path written as M3U8 and
 * JSON, the rules (no artist twice in a row, the artist cap, no copy of a recording twice, exclusions),
 * and every bad input as one line with its exit status; the duplicates found and told apart.
 */
import { join, relative } from "node:path";
import { assert, denoTask } from "./helpers.ts";
import { embedCollection } from "../lib/pipeline/collection.ts";
import { parseM3u } from "../lib/util/m3u.ts";
import { embeddedSongFolder, FOLDER_SONGS } from "./song_folder.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-playlist-" });
const { weights, models, music, db } = await embeddedSongFolder(root);
const common = ["--db", db, "--models-dir", models];
const file = (rel: string) => join(music, rel);
const artistOf = new Map(FOLDER_SONGS.map((s) => [file(s.rel), s.artist ?? `folder ${s.rel.split("/")[0]}`]));
const copyPair = [file("Beta/b1.mp3"), file("Beta/b1 (radio copy).mp3")];

Deno.test("playlist radio → M3U8 (relative paths, #EXTINF) and JSON: the seed first, the rules kept", async () => {
  const out = join(root, "lists", "radio.m3u8");
  await Deno.mkdir(join(root, "lists"), { recursive: true });
  const r = await denoTask(["playlist", file("Alpha/a1.flac"), "-n", "7", "-o", out, "--json", ...common]);
  assert.equal(r.code, 0, r.stderr);
  const text = await Deno.readTextFile(out);
  assert.match(text, /^#EXTM3U\n#EXTINF:1[12],Alpha - First Light\n\.\.\/music\/Alpha\/a1\.flac\n/);
  const entries = parseM3u(text, join(root, "lists"));
  assert.equal(entries.length, 7);
  const json = JSON.parse(r.stdout);
  assert.equal(json.mode, "radio");
  assert.deepEqual(json.songs.map((s: { path: string }) => s.path), entries.map((e) => e.path));
  assert.equal(json.songs[0].step, null);
  for (const s of json.songs.slice(1)) assert.ok(s.step > -1 && s.step <= 1 && typeof s.score === "number");
  for (const k of ["id", "path", "title", "duration", "score", "step"]) assert.ok(k in json.songs[1], k);
  const paths = entries.map((e) => e.path);
  for (let i = 1; i < paths.length; i++) {
    assert.notEqual(artistOf.get(paths[i]), artistOf.get(paths[i - 1]), `${paths[i - 1]} → ${paths[i]}`);
  }
  assert.ok(
    !(paths.includes(copyPair[0]) && paths.includes(copyPair[1])),
    "never both copies of a recording",
  );
  const untagged = paths.filter((p) => p.includes("/Gamma/")).length;
  if (untagged) {
    assert.match(r.stderr, new RegExp(`${untagged} of 7 songs have no artist tag: their folder stands`));
  } else assert.doesNotMatch(r.stderr, /no artist tag/);
  // no half-written file is left beside it
  assert.deepEqual([...Deno.readDirSync(join(root, "lists"))].map((e) => e.name), ["radio.m3u8"]);
});

Deno.test("playlist path: A first, B last, n songs; each step's cosine, the worst, and the baselines", async () => {
  const r = await denoTask([
    "playlist",
    file("Alpha/a1.flac"),
    "--to",
    file("Gamma/g2.ogg"),
    "-n",
    "5",
    ...common,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.match(r.stderr, /songs have no artist tag: their folder stands for their artist/, "g2 has no tag");
  assert.equal(lines.length, 6);
  assert.match(lines[0], /^ {2}1 {9}Alpha – First Light \(0:1[12]\) {2}.*a1\.flac$/);
  assert.match(lines[4], /Grey.*g2\.ogg$/);
  assert.match(
    lines[5],
    /^path: worst step -?\d\.\d{3} \(the great-circle fill's .*, the nearest-neighbour chain's .*, the direct jump/,
  );
  const json = JSON.parse(
    (await denoTask([
      "playlist",
      file("Alpha/a1.flac"),
      "--to",
      file("Gamma/g2.ogg"),
      "-n",
      "5",
      "--json",
      ...common,
    ]))
      .stdout,
  );
  assert.equal(json.mode, "path");
  const worst = Math.min(...json.songs.slice(1).map((s: { step: number }) => s.step));
  assert.ok(Math.abs(json.steps.path.worst - worst) < 1e-9);
  assert.ok(json.steps.path.worst >= json.steps.direct - 1e-9, "no step is worse than the direct jump");
});

Deno.test("playlist --exclude an earlier list; --max-per-artist that cannot be filled says how far it got", async () => {
  const first = join(root, "first.m3u8");
  assert.equal(
    (await denoTask(["playlist", file("Beta/b2.mp3"), "-n", "4", "-o", first, ...common])).code,
    0,
  );
  const played = parseM3u(await Deno.readTextFile(first), root).map((e) => e.path);
  const r = await denoTask([
    "playlist",
    file("Beta/b2.mp3"),
    "-n",
    "5",
    "--exclude",
    first,
    "--json",
    ...common,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const again = JSON.parse(r.stdout).songs.map((s: { path: string }) => s.path);
  assert.deepEqual(again.filter((p: string) => played.slice(1).includes(p)), [], "nothing already played");
  const capped = await denoTask([
    "playlist",
    file("Beta/b2.mp3"),
    "-n",
    "9",
    "--max-per-artist",
    "1",
    ...common,
  ]);
  assert.equal(capped.code, 1, capped.stderr);
  assert.match(capped.stderr, /note: the rules let [45] of 9 songs in, .*by the artist cap rule/);
  assert.ok(capped.stdout.trim().split("\n").length >= 4, "the list it could make is printed");
});

Deno.test("playlist: bad input is one line and exit status 2 (or 1), nothing written", async () => {
  const out = join(root, "never.m3u8");
  const cases: [string[], number, RegExp][] = [
    [
      ["playlist", "Alfa/a1", "-o", out, ...common],
      2,
      /"Alfa\/a1" is neither a stored song .* nor an audio file \(nearest stored: ".*a1\.flac"\)/,
    ],
    [["playlist", file("Alpha/a1.flac"), "--to", file("Alpha/a1.flac"), ...common], 2, /are the same song/],
    [["playlist", file("Alpha/a1.flac"), "-n", "1", ...common], 2, /-n must be a whole number ≥ 2, got "1"/],
    [["playlist", file("Alpha/a1.flac"), "--drift", "2", ...common], 2, /--drift must be from 0 to 1, got 2/],
    [["playlist", "--via", file("Alpha/a1.flac"), file("Beta/b1.mp3"), ...common], 2, /--via needs --to/],
    [["playlist", file("Alpha/a1.flac"), "--db", join(root, "none.db")], 1, /none\.db: no such database/],
  ];
  for (const [args, code, message] of cases) {
    const r = await denoTask(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.equal(await Deno.stat(out).then(() => true, () => false), false);
  // an empty database
  const empty = join(root, "empty.db");
  await embedCollection({
    inputs: [file("Alpha/a1.flac")],
    db: empty,
    weights,
    modelsDir: models,
    backend: "native",
    device: "cpu",
    hopSize: 1,
    quiet: true,
  });
  const { openStore } = await import("../lib/store/store.ts");
  const s = await openStore(empty);
  await s.remove([file("Alpha/a1.flac")]);
  await s.close();
  const r = await denoTask(["playlist", file("Alpha/a1.flac"), "--db", empty]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /holds no songs yet/);
});

Deno.test("playlist from an audio file that is not stored: embedded as the stored songs were", async () => {
  const outside = join(root, "outside.flac");
  await Deno.copyFile(file("Delta/d1.flac"), outside);
  const r = await denoTask(["playlist", outside, "-n", "3", "--json", "--weights", weights, ...common]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /embedding .*outside\.flac the way the stored songs were/);
  const songs = JSON.parse(r.stdout).songs;
  assert.equal(songs[0].path, outside);
  assert.equal(songs[0].id, undefined, "not stored");
  assert.equal(songs.length, 3);
  assert.ok(
    !songs.slice(1).some((s: { path: string }) => s.path === file("Delta/d1.flac")),
    "its copy is not offered",
  );
});

Deno.test("duplicates: the re-encoded copy grouped with its original (the original kept), the live version apart", async () => {
  const r = await denoTask(["duplicates", "--db", db, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { groups } = JSON.parse(r.stdout);
  const copies = groups.filter((g: { kind: string }) => g.kind === "copies");
  assert.equal(copies.length, 1, JSON.stringify(groups));
  assert.deepEqual(copies[0].songs.map((s: { path: string }) => s.path).sort(), [...copyPair].sort());
  assert.equal(copies[0].best, copyPair[0], "the 256 kbit/s stereo file over the 96 kbit/s mono one");
  const versions = groups.filter((g: { kind: string }) => g.kind === "versions");
  assert.equal(versions.length, 1, JSON.stringify(groups));
  assert.deepEqual(
    versions[0].songs.map((s: { path: string }) => relative(music, s.path)).sort(),
    ["Delta/d1 (live, faster).flac", "Delta/d1.flac"],
  );
  const text = await denoTask(["duplicates", "--db", db]);
  assert.match(text.stdout, /copies of one recording — keep .*b1\.mp3: the highest bitrate/);
  const csv = await denoTask(["duplicates", "--db", db, "--csv"]);
  assert.match(
    csv.stdout,
    /^group,kind,best,id,path,format,kbit_per_s,seconds,score,offset_s\n1,copies,yes,/,
  );
});

Deno.test("playlist-and-duplicates: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
