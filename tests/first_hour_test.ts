/**
 * The first hour, as a new user types the commands: the next step is always named, nothing is silent,
 * nothing is redone. `simple-embed` skips what is unchanged and says which weights it found; `embed`
 * without `--db` will not mix a collection into the demo's database; `similar` knows a song stored by its
 * file name from its path, and shows progress while it embeds a new file; a run asking for another
 * configuration is refused before any work, the difference first; progress in a log is lines, never
 * carriage returns; the explorer refuses a text file before it loads a model.
 */
import { join } from "node:path";
import { assert, denoTask, slowTest } from "./helpers.ts";
import { convertedTestWeights } from "./test_model.ts";
import { encodeMp3 } from "../lib/audio/mp3_encode.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { fetchOfficialWeights } from "../lib/model/model_store.ts";
import { run as serve } from "../serve.ts";
import { Store } from "../lib/store/sqlite_store.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-first-hour-" });
const weights = join(root, "w.h5"), models = join(root, "models");
await convertedTestWeights(weights, models, 6);
const previews = join(root, "previews");
await Deno.mkdir(previews);
const tone = (f: number, sr = 22050) =>
  Float32Array.from({ length: sr * 2 }, (_, t) => 0.3 * Math.sin(2 * Math.PI * f * t / sr));
for (const [name, f] of [["bell_sound", 880], ["low_hum", 110], ["mid_tone", 440]] as const) {
  await Deno.writeFile(join(previews, `${name}.mp3`), encodeMp3([tone(f)], 22050));
}
const db = join(root, "songs.db");
const script = (name: string) => new URL(`../${name}`, import.meta.url).pathname;

Deno.test("offline, the download's message names the demo that works here", async () => {
  await assert.rejects(
    () =>
      fetchOfficialWeights({
        repr: "mel256",
        content: "music",
        modelsDir: join(root, "none"),
        baseUrl: "http://127.0.0.1:9/",
      }),
    /the whole demo offline: deno task demo-test-weights/,
  );
});

Deno.test("simple-embed: a rerun skips the unchanged files and says which weights it found, and why", async () => {
  const first = await denoTask([
    "simple-embed",
    "--previews",
    previews,
    "--db",
    db,
    "--weights",
    weights,
    "--models-dir",
    models,
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /3 embedded, 0 skipped/);
  const again = await denoTask(["simple-embed", "--previews", previews, "--db", db, "--models-dir", models]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 embedded, 3 skipped/);
  assert.match(
    again.stderr,
    /note: weights .*\.(h5|onnx): .*songs\.db's songs were embedded with them \(UNTRAINED test weights, found by the hash it recorded\)/,
  );
});

slowTest(
  "embed without --db will not mix a collection into the demo's database (simple-embed's file-name ids)",
  async () => {
    const cwd = join(root, "cwd");
    await Deno.mkdir(join(cwd, "metadata"), { recursive: true });
    await Deno.copyFile(db, join(cwd, "metadata", "songs.db"));
    const mine = join(root, "mine");
    await Deno.mkdir(mine);
    await Deno.writeFile(join(mine, "song.wav"), encodeWav([tone(300, 16000)], 16000));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script("embed.ts"), mine, "--weights", weights, "--models-dir", models],
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.match(
      stderr,
      /^error: metadata\/songs\.db holds 3 songs of the demo .*Give --db PATH for your collection \(say --db metadata\/music\.db\)/,
    );
    assert.equal(stderr.trim().split("\n").length, 1);
  },
);

Deno.test("similar: a path that names a song stored by its file name is that song (not embedded again)", async () => {
  const r = await denoTask(["similar", join(previews, "bell_sound.mp3"), "--db", db, "--models-dir", models]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /embedding/);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 2, "the two other songs: not bell_sound itself");
  assert.ok(!lines.some((l) => /bell_sound/.test(l)));
});

Deno.test("similar NEWFILE says what it does while it embeds, with progress", async () => {
  const fresh = join(root, "fresh.wav");
  await Deno.writeFile(fresh, encodeWav([tone(660, 16000)], 16000));
  const r = await denoTask([
    "similar",
    fresh,
    "--db",
    db,
    "--models-dir",
    models,
    "--backend",
    "native",
    "--device",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /embedding .*fresh\.wav the way the stored songs were \(it is not stored\)…/);
  assert.match(r.stderr, /embedding: 100% · \d+ s/);
  assert.ok(!r.stderr.includes("\r"), "lines in a log, no carriage returns");
});

slowTest(
  "a run of another configuration is refused before any work (no calibration), the difference first",
  async () => {
    const r = await denoTask([
      "embed",
      previews,
      "--db",
      db,
      "--models-dir",
      join(root, "fresh-models"),
      "--weights",
      weights,
      "--precision",
      "int8",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: .*songs\.db holds fp32 embeddings; this run asks for int8 embeddings: use another --db, or leave out --precision/,
    );
    assert.doesNotMatch(r.stderr, /calibrating/);
  },
);

slowTest(
  "progress in a log: lines now and then, never a carriage return (the int8 calibration included)",
  async () => {
    const r = await denoTask([
      "embed",
      previews,
      "--db",
      join(root, "int8.db"),
      "--models-dir",
      join(root, "int8-models"),
      "--weights",
      weights,
      "--precision",
      "int8",
      "--hop",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /calibrating the int8 network \(once for these weights\): 77\/77 windows, [\d.]+ s\n/,
    );
    assert.ok(!r.stderr.includes("\r"), JSON.stringify(r.stderr.slice(0, 300)));
  },
);

Deno.test("explorer: a text file dropped is refused before any model is loaded", async () => {
  const running = await serve({ db, port: 0, verbose: false, model: { modelsDir: join(root, "no-models") } });
  try {
    const res = await fetch(`${running.url}api/embed`, {
      method: "POST",
      body: "just some notes\n",
      headers: { "x-filename": "notes.txt" },
    });
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.slice(0, -1), [{ stage: "received" }], "no model loaded");
    assert.match(lines.at(-1).error, /^notes\.txt: not an audio file this tool reads/);
  } finally {
    await running.shutdown();
  }
});

Deno.test("compare: a subset gets its own folder; the same collection, the same map and colours; tables fit or say where", async () => {
  // 14 songs with long names, stored in two row orders
  const names = [
    "Nina Simone/Feeling Good (Remastered 2013)",
    "Nina Simone/Sinnerman",
    "Miles Davis/So What",
    "Miles Davis/Blue in Green",
    "Radiohead/Everything In Its Right Place",
    "Radiohead/Idioteque",
    "Aphex Twin/Avril 14th",
    "Aphex Twin/Windowlicker",
    "Bach/Goldberg Variations - Aria",
    "Bach/Cello Suite No. 1 in G major, BWV 1007 - Prelude",
    "Daft Punk/Around the World",
    "Daft Punk/Da Funk",
    "Björk/Jóga",
    "Björk/Hyperballad",
  ];
  const vector = (i: number) =>
    Float64Array.from(
      { length: 512 },
      (_, d) => Math.max(0, Math.sin((i >> 1) * 1.7 + d * 0.05) + 0.3 * Math.cos(i * 5.1 + d * 0.31)),
    );
  const dbs: string[] = [];
  for (const order of ["forward", "reverse"]) {
    const path = join(root, `compare-${order}.db`);
    const s = Store.open(path);
    const idx = names.map((_, i) => i);
    if (order === "reverse") idx.reverse();
    for (const i of idx) s.putVector(`/music/${names[i]}.flac`, vector(i));
    s.close();
    dbs.push(path);
  }
  const outs = dbs.map((d) => join(root, `${d.split("/").pop()}-out`));
  for (const [i, d] of dbs.entries()) {
    const r = await denoTask(["compare", "--db", d, "--out-dir", outs[i], "--png", join(outs[i], "map.png")]);
    assert.equal(r.code, 0, r.stderr);
    // not a terminal: the tables fit 120 columns (numbered columns), or the report says where they went
    const lines = r.stdout.split("\n");
    const tables = lines.slice(
      lines.indexOf("Cosine similarity"),
      lines.indexOf("Most similar pairs (cosine)"),
    );
    assert.ok(tables.length > 2 * names.length, r.stdout);
    assert.deepEqual(tables.filter((l) => l.length > 120), [], "no table line wider than 120 columns");
    assert.match(r.stdout, /^Cosine similarity$/m);
  }
  const svg = await Promise.all(outs.map((o) => Deno.readTextFile(join(o, "map.svg"))));
  assert.equal(svg[0], svg[1], "the same collection stored in another order: the same map, the same colours");

  // no two labels overlap (their boxes as the plot estimates them: 7 px a character of 12 px type)
  const labels = [
    ...svg[0].matchAll(
      /<text class="label" x="([\d.]+)" y="([\d.]+)"[^>]*?(?: text-anchor="(\w+)")?>([^<]*)</g,
    ),
  ]
    .map(([, x, y, anchor, text]) => {
      const w = text.replace(/&[a-z]+;/g, "x").length * 7,
        left = anchor === "end" ? +x - w : anchor === "middle" ? +x - w / 2 : +x;
      return [left, +y - 10, left + w, +y + 3];
    });
  assert.equal(labels.length, names.length);
  for (let a = 0; a < labels.length; a++) {
    for (let b = a + 1; b < labels.length; b++) {
      const [p, q] = [labels[a], labels[b]];
      assert.ok(!(p[0] < q[2] && q[0] < p[2] && p[1] < q[3] && q[1] < p[3]), `labels ${a} and ${b} overlap`);
    }
  }

  // the heatmap's canvas is its grid, labels and colour bar: at most a fifth of it is left blank at the bottom
  const heat = await Deno.readTextFile(join(outs[0], "similarity_heatmap.svg"));
  const height = Number(/height="(\d+(?:\.\d+)?)"/.exec(heat)![1]);
  const lowest = Math.max(
    ...[...heat.matchAll(/<rect class="cell" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)]
      .map(([, y, h]) => +y + +h),
  );
  const labelRoom = 6.3 * Math.max(...names.map((n) => Math.min(40, n.split("/")[1].length))) + 20;
  assert.ok(height - lowest - labelRoom <= 0.2 * height, `height ${height}, grid ends at ${lowest}`);

  // a subset, without --out-dir: its own folder, said in the report; the collection's files untouched
  const before = await Deno.readTextFile(join(outs[0], "cosine_similarity.csv"));
  const ids = [`/music/${names[0]}.flac`, `/music/${names[1]}.flac`, `/music/${names[2]}.flac`];
  const sub = await denoTask(["compare", "--db", dbs[0], "--ids", ids.join(",")]);
  assert.equal(sub.code, 0, sub.stderr);
  const said = /written to (\S*subset-[0-9a-f]{8})\//.exec(sub.stdout)?.[1];
  const folder = said && (said.startsWith("/") ? said : new URL(`../${said}`, import.meta.url).pathname);
  assert.ok(folder, sub.stdout);
  assert.match(sub.stdout, /a subset \(--ids, 3 songs\)/);
  const written = [...Deno.readDirSync(folder!)].map((e) => e.name).sort();
  assert.deepEqual(written, [
    "cosine_similarity.csv",
    "embedding_visualization.png",
    "embedding_visualization.svg",
    "euclidean_distance.csv",
    "nearest_neighbours.csv",
    "similarity_heatmap.png",
    "similarity_heatmap.svg",
  ]);
  assert.equal(await Deno.readTextFile(join(outs[0], "cosine_similarity.csv")), before);
  await Deno.remove(folder!, { recursive: true });
});

Deno.test("first hour: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
