/**
 * `deno task bench-duplicates`: the duplicates search proved on a generated collection with known answers
 * — songs (tests/generated_songs.ts), copies of some made by ffmpeg every way a collection meets them
 * (MP3 96–320 kbit/s, Ogg, Opus, FLAC, M4A/AAC, 22.05–96 kHz, mono, ±6 dB, 0–3 s trimmed or padded) and
 * other versions of others (tempo ±3–6 %, pitch ±1 semitone, another reverb) — embedded with
 * `deno task embed` as a user runs it (the timelines are stored then), then `deno task duplicates`'s
 * search: recall of the same-recording pairs, different songs grouped (must be none), versions reported
 * apart from copies, the time taken. Then the search over 10 000 songs' timelines (spliced from the
 * generated ones: every song a different sequence of pieces), timed.
 *
 *     deno task bench-duplicates [--songs 200] [--seconds 30] [--with-copies 40] [--copies 3]
 *                                [--with-versions 30] [--scale 10000] [--keep DIR] [--seed 1]
 *
 * The embedding runs at `--hop 1` and `--precision int8` to keep the benchmark under half an hour on two
 * cores: the timelines do not depend on the hop, the precision or the weights (they are built from the
 * audio the windows are cut from).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { generateCollection } from "../tests/generated_songs.ts";
import { convertedTestWeights } from "../tests/test_model.ts";
import { run as duplicates } from "../duplicates.ts";
import { type DuplicateSong, findDuplicates } from "../lib/analysis/duplicates.ts";
import { openStore } from "../lib/store/store.ts";
import { Rng } from "../lib/util/rng.ts";
import { TIMELINE_BYTES_PER_MINUTE } from "../lib/frontend/timeline.ts";

const { values } = parseArgs({
  options: {
    songs: { type: "string" },
    seconds: { type: "string" },
    "with-copies": { type: "string" },
    copies: { type: "string" },
    "with-versions": { type: "string" },
    scale: { type: "string" },
    keep: { type: "string" },
    seed: { type: "string" },
  },
});
const plan = {
  songs: Number(values.songs ?? 200),
  seconds: Number(values.seconds ?? 30),
  withCopies: Number(values["with-copies"] ?? 40),
  copiesPerSong: Number(values.copies ?? 3),
  withVersions: Number(values["with-versions"] ?? 30),
  seed: Number(values.seed ?? 1),
};
const dir = values.keep ?? await Deno.makeTempDir({ prefix: "openl3-bench-duplicates-" });
await Deno.mkdir(dir, { recursive: true });
const music = join(dir, "music"), db = join(dir, "songs.db");
const answersFile = join(dir, "answers.json");
let answers: {
  files: string[];
  recording: [string, number][];
  versionOf: [string, number][];
  how: [string, string][];
};
let t = performance.now();
if (await Deno.stat(answersFile).then(() => true, () => false)) {
  answers = JSON.parse(await Deno.readTextFile(answersFile));
} else {
  const c = await generateCollection(music, plan);
  answers = { files: c.files, recording: [...c.recording], versionOf: [...c.versionOf], how: [...c.how] };
  await Deno.writeTextFile(answersFile, JSON.stringify(answers));
}
console.log(
  `generated ${answers.files.length} files (${plan.songs} songs of ~${plan.seconds} s; ${plan.withCopies} with ` +
    `${plan.copiesPerSong} copies, ${plan.withVersions} with another version) in ${
      ((performance.now() - t) / 1000).toFixed(0)
    } s`,
);
const weights = join(dir, "w.h5"), models = join(dir, "models");
// a kept folder keeps its weights: new ones (another sha256) would not match the kept database
if (!await Deno.stat(weights).then(() => true, () => false)) await convertedTestWeights(weights, models, 1);
t = performance.now();
const embed = await new Deno.Command(Deno.execPath(), {
  args: [
    "task",
    "--quiet",
    "embed",
    music,
    "--db",
    db,
    "--weights",
    weights,
    "--models-dir",
    models,
    "--hop",
    "1",
    "--precision",
    "int8",
    "--quiet",
  ],
  cwd: new URL("..", import.meta.url).pathname,
  stdout: "piped",
  stderr: "inherit",
}).output();
if (!embed.success) throw new Error(`bench-duplicates: the embed failed (exit ${embed.code}); see above`);
console.log(
  `embed: ${new TextDecoder().decode(embed.stdout).trim()} (${
    ((performance.now() - t) / 1000).toFixed(0)
  } s)`,
);

const recording = new Map(answers.recording),
  versionOf = new Map(answers.versionOf),
  how = new Map(answers.how);
const result = await duplicates({ db, onLine: () => {} });
const copyOf = new Map<string, number>(), versionGroup = new Map<string, number>();
result.groups.forEach((g, i) => {
  for (const s of g.songs) (g.kind === "copies" ? copyOf : versionGroup).set(s.id, i);
});
let pairs = 0, found = 0, wrongCopies = 0, versionsAsCopies = 0;
const missed: string[] = [];
const files = answers.files;
for (let i = 0; i < files.length; i++) {
  for (let j = i + 1; j < files.length; j++) {
    const a = files[i], b = files[j];
    const same = copyOf.has(a) && copyOf.get(a) === copyOf.get(b);
    if (recording.get(a) === recording.get(b)) {
      pairs++;
      if (same) found++;
      else missed.push(`${how.get(a)} / ${how.get(b)}`);
    } else if (same) {
      if (versionOf.get(a) === recording.get(b) || versionOf.get(b) === recording.get(a)) versionsAsCopies++;
      else wrongCopies++;
    }
  }
}
let versionsFound = 0, wrongVersionGroups = 0;
for (const [v, master] of versionOf) {
  const g = versionGroup.get(v);
  if (g !== undefined && result.groups[g].songs.some((s) => recording.get(s.id) === master)) versionsFound++;
}
for (const g of result.groups.filter((g) => g.kind === "versions")) {
  if (new Set(g.songs.map((s) => versionOf.get(s.id) ?? recording.get(s.id))).size > 1) wrongVersionGroups++;
}
console.log(`\n| figure | value |\n|---|---|`);
console.log(`| files compared | ${result.songs} |`);
console.log(`| same-recording pairs found (recall) | ${found} of ${pairs} (${(found / pairs).toFixed(3)}) |`);
console.log(`| different songs grouped as copies | ${wrongCopies} |`);
console.log(`| versions grouped as copies | ${versionsAsCopies} |`);
console.log(`| versions reported as versions of their song | ${versionsFound} of ${versionOf.size} |`);
console.log(`| versions groups holding two different songs | ${wrongVersionGroups} |`);
console.log(`| search time (deno task duplicates' run) | ${result.seconds.toFixed(1)} s |`);
console.log(`| timeline bytes per minute of audio | ${TIMELINE_BYTES_PER_MINUTE} |`);
if (missed.length) console.log(`\nmissed pairs: ${missed.join("; ")}`);

// scale: 10 000 songs' timelines, spliced from the generated ones (each a sequence of 5 s pieces)
const scale = Number(values.scale ?? 10_000);
const store = await openStore(db, { readOnly: true });
const timelines = [...(await store.timelines()).values()];
await store.close();
const rng = new Rng(3);
const songs: DuplicateSong[] = [];
for (let i = 0; i < scale; i++) {
  const steps = Math.round((120 + 120 * rng.uniform()) / 0.25), bands = timelines[0].bands;
  const codes = new Uint8Array(steps * bands);
  for (let at = 0; at < steps; at += 20) {
    const src = timelines[Math.floor(rng.uniform() * timelines.length)];
    const srcSteps = src.codes.length / bands;
    const from = Math.floor(rng.uniform() * Math.max(1, srcSteps - 20));
    const n = Math.min(20, steps - at, srcSteps - from);
    codes.set(src.codes.subarray(from * bands, (from + n) * bands), at * bands);
  }
  songs.push({ id: `s${i}`, path: `s${i}`, duration: steps * 0.25, timeline: { ...timelines[0], codes } });
}
t = performance.now();
const groups = findDuplicates(songs);
console.log(
  `\nsearch over ${scale.toLocaleString("en")} songs' timelines (2–4 min each, spliced from the generated ` +
    `songs): ${((performance.now() - t) / 1000).toFixed(1)} s, ${groups.length} groups`,
);
if (!values.keep) await Deno.remove(dir, { recursive: true });
