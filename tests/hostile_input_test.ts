/**
 * Trust nothing that comes in: every case of the hostile corpus
 * (`hostile_inputs.ts`) is handled with one clear line naming the file and
 * the problem, nothing non-finite is stored or ranked, nothing stalls, and a
 * damaged cache or weights file is never used as if it were sound.
 */
import { DatabaseSync } from "node:sqlite";
import { assert, loadIndexOf } from "./helpers.ts";
import {
  constantWav,
  corrupt,
  mkfifo,
  partlyNonFiniteWav,
  patchedRateWav,
  poisonedWeights,
  tone,
} from "./hostile_inputs.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { writeRandomWeights } from "../lib/model/random_weights.ts";
import { loadModel, officialWeightsName } from "../lib/model/model_store.ts";
import { Store } from "../lib/store/sqlite_store.ts";
import { sha256 } from "../lib/util/hash.ts";
import { calibrationPath } from "../lib/model/model_store.ts";

import { run as embed } from "../embed.ts";
import { run as compare } from "../compare_embeddings.ts";
import { run as similar } from "../similar.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-hostile-" });
const repo = new URL("..", import.meta.url).pathname;
const models = `${root}/models`;
const weights = `${root}/random.h5`;
await writeRandomWeights({ out: weights, seed: 4 });
const base = {
  weights,
  modelsDir: models,
  backend: "native" as const,
  device: "cpu" as const,
  batchSize: 8,
  verbose: false,
  onProgress: () => {},
};

async function cli(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}/${script}`, ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

async function write(dir: string, files: Record<string, Uint8Array>): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(`${dir}/${name}`, bytes);
  return dir;
}

function storedValues(db: string): { id: string; bytes: Uint8Array }[] {
  const raw = new DatabaseSync(db, { readOnly: true });
  try {
    return (raw.prepare("SELECT song_id AS id, vector AS bytes FROM songs_vectors").all() as {
      id: string;
      bytes: Uint8Array;
    }[]);
  } finally {
    raw.close();
  }
}

Deno.test("non-finite audio is a per-file failure saying how many samples; nothing is stored for it", async () => {
  const dir = await write(`${root}/nonfinite`, {
    "nan.wav": constantWav(NaN),
    "inf.wav": constantWav(Infinity),
    "some.wav": partlyNonFiniteWav(3),
    "good.wav": encodeWav([tone(330, 1)], 16000),
  });
  const db = `${root}/nonfinite.db`;
  const lines: string[] = [];
  const s = await embed({ ...base, inputs: [dir], db, onFile: (l) => lines.push(l) });
  assert.deepEqual([s.embedded, s.failed], [1, 3]);
  assert.ok(
    lines.some((l) => /^✗ .*nan\.wav: 16000 of 16000 samples are not finite numbers \(NaN or ±Inf\)/.test(l)),
    lines.join("\n"),
  );
  assert.ok(lines.some((l) => /^✗ .*inf\.wav: 16000 of 16000 samples are not finite/.test(l)));
  assert.ok(lines.some((l) => /^✗ .*some\.wav: 6 of 16000 samples are not finite/.test(l)));
  for (const l of lines.filter((l) => l.startsWith("✗"))) {
    assert.equal(l.split(root).length, 2, `the file is named once: ${l}`);
  }
  const stored = storedValues(db);
  assert.equal(stored.length, 1);
  assert.ok(stored[0].id.endsWith("good.wav"));
  // a rerun does not skip them: they are still failures, one row each, with the count of attempts
  await embed({ ...base, inputs: [dir], db, quiet: true });
  const store = Store.open(db, { readOnly: true });
  const failures = store.failures();
  store.close();
  assert.equal(failures.length, 3);
  assert.ok(failures.every((f) => f.attempts === 2), JSON.stringify(failures));
});

Deno.test("a network that gives NaN stores nothing: a failure naming the file and the backend", async () => {
  const poisoned = `${root}/poisoned.h5`;
  await poisonedWeights(poisoned);
  const dir = await write(`${root}/poison`, { "a.wav": encodeWav([tone(330, 1)], 16000) });
  const db = `${root}/poison.db`;
  const lines: string[] = [];
  const s = await embed({
    ...base,
    weights: poisoned,
    inputs: [dir],
    db,
    frames: true,
    onFile: (l) => lines.push(l),
  });
  assert.equal(s.failed, 1);
  assert.match(
    lines.join("\n"),
    /✗ .*a\.wav: the network \(native\) gave \d+ NaN or infinite values: not stored/,
  );
  assert.equal(storedValues(db).length, 0);
});

Deno.test("absurd headers are refused at once: a 1 Hz sample rate, more audio than --max-duration", async () => {
  const dir = await write(`${root}/headers`, {
    "one_hz.wav": patchedRateWav(1),
    "three_seconds.wav": encodeWav([tone(440, 3)], 16000),
  });
  const lines: string[] = [];
  const s = await embed({
    ...base,
    inputs: [dir],
    db: `${root}/headers.db`,
    maxDuration: 2,
    onFile: (l) => lines.push(l),
  });
  assert.equal(s.failed, 2);
  const text = lines.join("\n");
  assert.match(text, /one_hz\.wav: sample rate 1 Hz is outside what audio files use \(1000–768000 Hz\)/);
  assert.match(text, /three_seconds\.wav: 0\.0 h of audio is more than the 0\.0 h limit \(--max-duration\)/);
});

Deno.test("special files are refused, not read: a FIFO and a device named on the command line, a FIFO in a folder", async () => {
  const fifo = `${root}/pipe.wav`;
  await mkfifo(fifo);
  const dir = await write(`${root}/with_fifo`, { "good.wav": encodeWav([tone(330, 1)], 16000) });
  await mkfifo(`${dir}/also_a_pipe.wav`);
  const args = ["--weights", weights, "--models-dir", models, "--backend", "native", "--device", "cpu"];
  const r = await cli("embed.ts", [fifo, "/dev/zero", "--db", `${root}/special.db`, ...args]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✗ .*pipe\.wav: is a FIFO \(named pipe\), not a regular file/);
  assert.match(r.stdout, /✗ \/dev\/zero: is a device, not a regular file/);
  const lines: string[] = [];
  const s = await embed({ ...base, inputs: [dir], db: `${root}/special.db`, onFile: (l) => lines.push(l) });
  assert.deepEqual([s.embedded, s.failed], [1, 0]);
  assert.match(lines.join("\n"), /note: passed over .*also_a_pipe\.wav \(not a regular file\)/);
});

Deno.test("odd names and links: a newline in a name stays on one line; links are followed, loops once", async () => {
  const dir = await write(`${root}/names`, { "new\nline.wav": encodeWav([tone(330, 1)], 16000) });
  const elsewhere = await write(`${root}/elsewhere`, { "linked.wav": encodeWav([tone(550, 1)], 16000) });
  await Deno.symlink(`${elsewhere}/linked.wav`, `${dir}/file_link.wav`);
  await Deno.symlink(elsewhere, `${dir}/folder_link`);
  await Deno.symlink(dir, `${dir}/loop`); // a link back up the tree
  await Deno.symlink(`${root}/nowhere.wav`, `${dir}/broken.wav`);
  const lines: string[] = [];
  const s = await embed({ ...base, inputs: [dir], db: `${root}/names.db`, onFile: (l) => lines.push(l) });
  // the named file, and the linked file, reached twice (through a file link and a folder link): once
  assert.equal(s.failed, 0, lines.join("\n"));
  assert.deepEqual([s.total, s.embedded], [2, 2]);
  for (const l of lines) assert.ok(!l.includes("\n"), `one line: ${JSON.stringify(l)}`);
  assert.ok(lines.some((l) => l.includes("new\\nline.wav")));
  assert.match(lines.join("\n"), /note: passed over .*broken\.wav \(not a regular file\)/);
});

Deno.test("a file emptied after it was embedded loses its old vector; compare no longer shows it", async () => {
  const dir = await write(`${root}/emptied`, {
    "a.wav": encodeWav([tone(330, 1)], 16000),
    "b.wav": encodeWav([tone(660, 1)], 16000),
    "c.wav": encodeWav([tone(990, 1)], 16000),
  });
  const db = `${root}/emptied.db`;
  await embed({ ...base, inputs: [dir], db, quiet: true });
  await Deno.writeFile(`${dir}/c.wav`, new Uint8Array(0));
  const s = await embed({ ...base, inputs: [dir], db, quiet: true });
  assert.deepEqual([s.skipped, s.failed], [2, 1]);
  const r = await compare({
    db,
    outDir: `${root}/emptied_out`,
    png: `${root}/emptied_out/map.png`,
    print: false,
  });
  assert.deepEqual(r.ids.map((id) => id.replace(/^.*\//, "")), ["a.wav", "b.wav"]);
});

Deno.test("stored NaN and wrong-length vectors are named (database, song) and left out of compare and similar", async () => {
  const db = `${root}/poisoned_store.db`;
  const store = Store.open(db);
  for (let i = 0; i < 6; i++) {
    store.putVector(`ok_${i}`, Float64Array.from({ length: 8 }, (_, d) => Math.sin(i + d) + 2));
  }
  store.close();
  const raw = new DatabaseSync(db);
  const nan = new Float64Array(8).fill(NaN);
  raw.prepare("INSERT INTO songs_vectors VALUES (?, ?)").run("nan_song", new Uint8Array(nan.buffer));
  raw.prepare("INSERT INTO songs_vectors VALUES (?, ?)").run("short_song", new Uint8Array(12));
  raw.close();
  const { index, rejected } = await loadIndexOf(db);
  assert.equal(index.ids.length, 6);
  assert.deepEqual(rejected.map((r) => [r.songId, r.db]).sort(), [["nan_song", db], ["short_song", db]]);
  assert.match(rejected.find((r) => r.songId === "nan_song")!.problem, /holds 8 NaN or infinite values/);
  assert.match(
    rejected.find((r) => r.songId === "short_song")!.problem,
    /12 bytes, not a whole number of float64/,
  );
  const hits = (await similar({ query: "ok_0", db, k: 10, verbose: false })).hits;
  assert.equal(hits.length, 5);
  assert.ok(hits.every((h) => h.id.startsWith("ok_") && Number.isFinite(h.score)));
  const r = await compare({ db, outDir: `${root}/ps_out`, png: `${root}/ps_out/map.png`, print: false });
  assert.equal(r.ids.length, 6);
  assert.ok(r.cosine.every((row) => row.every(Number.isFinite)));
  // the CLI says so on stderr, naming the database and the song
  const c = await cli("similar.ts", ["ok_0", "--db", db, "-k", "2"]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(
    c.stderr,
    new RegExp(`warning: ${db}: the vector of nan_song holds 8 NaN or infinite values: left out`),
  );
  assert.equal(c.stdout.trim().split("\n").length, 2);
});

Deno.test("similar's cache answers only for its own database: a rebuilt one with as many changes is read afresh", async () => {
  const db = `${root}/rebuilt.db`;
  const make = (prefix: string) => {
    const s = Store.open(db);
    for (let i = 0; i < 4; i++) {
      s.putVector(
        `${prefix}_${i}`,
        Float64Array.from({ length: 4 }, (_, d) => i + d + 1),
      );
    }
    s.close();
  };
  make("first");
  assert.equal((await loadIndexOf(db)).cached, false);
  assert.equal((await loadIndexOf(db)).cached, true, "the second load comes from the cache");
  for (const f of [db, `${db}-wal`, `${db}-shm`]) await Deno.remove(f).catch(() => {});
  make("second"); // same number of changes, another database
  const again = await loadIndexOf(db);
  assert.equal(again.cached, false);
  assert.deepEqual(again.index.ids, ["second_0", "second_1", "second_2", "second_3"]);
  const hits = (await similar({ query: "second_0", db, k: 1, verbose: false })).hits;
  assert.ok(hits[0].id.startsWith("second_"));
});

Deno.test("similar on an empty or one-song database says so, without loading any model", async () => {
  const empty = `${root}/empty.db`;
  Store.open(empty).close();
  const r1 = await cli("similar.ts", ["anything", "--db", empty, "--models-dir", `${root}/no_models_here`]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /^error: .*empty\.db holds no songs yet: embed some first/);
  const one = `${root}/one.db`;
  const s = Store.open(one);
  s.putVector("only", new Float64Array([1, 2, 3]));
  s.close();
  const r2 = await cli("similar.ts", ["only", "--db", one]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /holds only this song: there is nothing to compare it with/);
});

Deno.test("compare: an --out-dir that is a file and -k 0 are clear errors", async () => {
  const db = `${root}/k.db`;
  const s = Store.open(db);
  s.putVector("x", new Float64Array([1, 0]));
  s.putVector("y", new Float64Array([0, 1]));
  s.close();
  await Deno.writeTextFile(`${root}/a_file`, "");
  const r1 = await cli("compare_embeddings.ts", ["--db", db, "--out-dir", `${root}/a_file`]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /^error: .*a_file \(--out-dir\): is a file, not a folder\n$/);
  const r2 = await cli("compare_embeddings.ts", ["--db", db, "-k", "0"]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /^error: -k must be a whole number ≥ 1, got "0"/);
});

Deno.test("a damaged cached model is rebuilt from the weights, with a message, and gives the same numbers", async () => {
  const dir = `${root}/cache_models`;
  const opts = {
    repr: "mel256" as const,
    content: "music" as const,
    embeddingSize: 512 as const,
    modelsDir: dir,
  };
  const first = await loadModel({ ...opts, weights, verbose: false });
  for (const damage of ["flip", "truncate", "garbage", "empty"] as const) {
    if (damage === "flip") await corrupt(first.cached!, 4096);
    else if (damage === "truncate") {
      await Deno.writeFile(first.cached!, (await Deno.readFile(first.cached!)).subarray(0, 1000));
    } else {
      // garbage or nothing, with its own hash recorded beside it: the hash does not make it a model
      const bytes = damage === "empty" ? new Uint8Array(0) : crypto.getRandomValues(new Uint8Array(65536));
      await Deno.writeFile(first.cached!, bytes);
      await Deno.writeTextFile(`${first.cached!}.sha256`, `${await sha256(bytes)}\n`);
    }
    const errors: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    let again;
    try {
      again = await loadModel({ ...opts, weights });
    } finally {
      console.error = error;
    }
    assert.match(
      errors.join("\n"),
      /warning: the cached model .*\.onnx is damaged \(.*\): rebuilding it from /,
    );
    assert.deepEqual(again.onnx, first.onnx, `${damage}: rebuilt exactly`);
    assert.deepEqual(await Deno.readFile(first.cached!), first.onnx, `${damage}: the cache is whole again`);
  }
});

Deno.test("weights placed where the official file goes are checked against its blob id before use", async () => {
  const dir = `${root}/fake_official`;
  await Deno.mkdir(dir);
  const path = `${dir}/${officialWeightsName("mel256", "music")}`;
  await writeRandomWeights({ out: path, seed: 1 });
  const r = await cli("embed.ts", [
    `${root}/nonfinite/good.wav`,
    "--db",
    `${root}/fake.db`,
    "--models-dir",
    dir,
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: .*openl3_audio_mel256_music-v0_4_0\.h5\.gz is not the published openl3_audio_mel256_music-v0_4_0\.h5\.gz \(git blob id [0-9a-f]{40}, expected 15e4836[0-9a-f]+\): delete it to download the official file, or pass --weights .* to use it knowingly\n$/,
  );
  // knowingly: accepted, and recorded as custom weights
  const s = await embed({
    ...base,
    weights: path,
    inputs: [`${root}/nonfinite/good.wav`],
    db: `${root}/fake.db`,
    quiet: true,
  });
  assert.equal(s.embedded, 1);
  const raw = new DatabaseSync(`${root}/fake.db`, { readOnly: true });
  const p = raw.prepare("SELECT weights_provenance AS p FROM model_configs").get() as { p: string };
  raw.close();
  assert.equal(p.p, "untrained", "the file says what it is");
});

Deno.test("a truncated weights file is one line of error, with no HDF5 diagnostics", async () => {
  const bytes = await Deno.readFile(weights);
  const truncated = `${root}/truncated.h5`;
  await Deno.writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const r = await cli("embed.ts", [
    `${root}/nonfinite/good.wav`,
    "--db",
    `${root}/t.db`,
    "--weights",
    truncated,
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: .*truncated\.h5: truncated HDF5 file \(\d+ bytes, its superblock declares \d+\)\n$/,
  );
});

Deno.test("weights that are a device, a FIFO or a folder are refused at once, in one line", async () => {
  const fifo = `${root}/weights.fifo`;
  await mkfifo(fifo);
  const wav = `${await write(`${root}/device_weights`, {
    "a.wav": encodeWav([tone(440, 1, 44100)], 44100),
  })}/a.wav`;
  for (
    const [path, why] of [
      ["/dev/zero", /\/dev\/zero: not a regular file \(a device, FIFO or socket\)/],
      [fifo, /weights\.fifo: not a regular file \(a device, FIFO or socket\)/],
      [root, /: not a regular file \(a folder\)/],
    ] as const
  ) {
    const r = await cli("embed.ts", [
      wav,
      "--db",
      `${root}/dev.db`,
      "--weights",
      path,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

Deno.test("a poisoned int8 calibration is measured again, said in one line; no song gets a zero or shared vector", async () => {
  const dir = `${root}/calibration_models`;
  const opts = {
    repr: "mel256" as const,
    content: "music" as const,
    embeddingSize: 512 as const,
    modelsDir: dir,
    weights,
    precision: "int8" as const,
  };
  const first = await loadModel({ ...opts, verbose: false });
  const file = calibrationPath(dir, first);
  const sound = await Deno.readFile(file);
  const good = JSON.parse(new TextDecoder().decode(sound));
  // every implausible range is named (calibration_test.ts has each kind); here, an edit without its hash
  const poisons: [string, (c: typeof good) => void, boolean, RegExp][] = [
    ["edited, hash not", (c) => c.ranges[0].max = 8, false, /SHA-256 [0-9a-f]{16}…, recorded/],
  ];
  for (const [what, poison, rehash, note] of poisons) {
    const c = structuredClone(good);
    poison(c);
    const bytes = new TextEncoder().encode(JSON.stringify(c));
    await Deno.writeFile(file, bytes);
    if (rehash) await Deno.writeTextFile(`${file}.sha256`, `${await sha256(bytes)}\n`);
    await Deno.remove(first.cached!);
    const errors: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => errors.push(a.join(" "));
    let again;
    try {
      again = await loadModel({ ...opts, verbose: true });
    } finally {
      console.error = error;
    }
    const notes = errors.filter((l) => l.includes("calibration") && l.includes("damaged"));
    assert.equal(notes.length, 1, `${what}: ${errors.join("\n")}`);
    assert.match(
      notes[0],
      /^note: the int8 calibration .*\.calibration-v1\.json is damaged \(.*\): measuring again$/,
    );
    assert.match(notes[0], note, what);
    assert.deepEqual(await Deno.readFile(file), sound, `${what}: measured again to the same ranges`);
    assert.deepEqual(again.onnx, first.onnx, `${what}: the same int8 network`);
  }

  // end to end: a poisoned calibration (hash and all) and no int8 model; embed stores distinct, non-zero vectors
  const c = structuredClone(good);
  c.ranges.forEach((r: { max: number }) => r.max = 1e30);
  const bytes = new TextEncoder().encode(JSON.stringify(c));
  await Deno.writeFile(file, bytes);
  await Deno.writeTextFile(`${file}.sha256`, `${await sha256(bytes)}\n`);
  await Deno.remove(first.cached!);
  const songs = await write(`${root}/calibration_songs`, {
    "low.wav": encodeWav([tone(220, 2, 44100)], 44100),
    "high.wav": encodeWav([tone(3520, 2, 44100)], 44100),
  });
  const db = `${root}/calibration.db`;
  const r = await cli("embed.ts", [
    songs,
    "--db",
    db,
    "--weights",
    weights,
    "--models-dir",
    dir,
    "--precision",
    "int8",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /note: the int8 calibration .* is damaged \(range 1 is \[0, 1e\+30\]: not an activation range\): measuring again/,
  );
  const stored = storedValues(db);
  assert.equal(stored.length, 2);
  for (const s of stored) assert.ok(s.bytes.some((b) => b !== 0), `${s.id}: not all zero`);
  assert.notDeepEqual(stored[0].bytes, stored[1].bytes, "two songs, two vectors");
});

Deno.test("a damaged database or one that is not a database: one line from every command, never a trace", async () => {
  const dir = `${root}/damaged_db`;
  await Deno.mkdir(dir);
  await Deno.writeFile(`${dir}/a.wav`, encodeWav([tone(440, 1, 44100)], 44100));
  const sound = `${dir}/sound.db`;
  const store = Store.open(sound);
  const rng = (i: number) => Float64Array.from({ length: 512 }, (_, d) => Math.sin(i * 7.1 + d * 0.37));
  for (let i = 0; i < 300; i++) store.putVector(`song_${i}`, rng(i));
  store.close();
  const bytes = await Deno.readFile(sound);
  const garbage = `${dir}/garbage.db`, halved = `${dir}/halved.db`, flipped = `${dir}/flipped.db`;
  await Deno.writeFile(garbage, crypto.getRandomValues(new Uint8Array(65536)));
  await Deno.writeFile(halved, bytes.subarray(0, bytes.length >> 1));
  const damaged = bytes.slice();
  for (let p = 4096; p < damaged.length; p += 997) damaged[p] ^= 0x5a; // every page past the first
  await Deno.writeFile(flipped, damaged);
  for (const db of [garbage, halved, flipped]) {
    for (
      const [script, args] of [
        ["similar.ts", ["--db", db, "song_1"]],
        ["compare_embeddings.ts", ["--db", db, "--out-dir", `${dir}/out`]],
        ["duplicates.ts", ["--db", db]],
        ["serve.ts", ["--db", db, "--port", "1"]],
        ["embed.ts", [`${dir}/a.wav`, "--db", db, "--weights", weights, "--models-dir", models]],
      ] as const
    ) {
      const r = await cli(script, [...args]);
      const what = `${script} on ${db.split("/").pop()}`;
      assert.ok(!/Uncaught|\n\s+at /.test(r.stderr), `${what}: a trace\n${r.stderr}`);
      if (db === garbage) {
        assert.equal(r.code, 1, `${what}\n${r.stderr}`);
        assert.match(
          r.stderr,
          /garbage\.db: open failed: file is not a database \(not a SQLite database, or a damaged one/,
        );
      }
      if (r.code !== 0) {
        const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
        assert.equal(errors.length, 1, `${what}\n${r.stderr}`);
      }
    }
  }
});

Deno.test("compare: control and bidi characters in song names make escaped labels, a PNG, and one line per row", async () => {
  const db = `${root}/control_names.db`;
  const store = Store.open(db);
  const ids = [
    "a\x01b",
    "line\nbreak",
    "tab\tx",
    "bell\x07",
    "esc\x1b[31mred",
    "ok",
    "rtl\u202eevil",
    "del\x7f",
  ];
  ids.forEach((id, i) =>
    store.putVector(id, Float64Array.from({ length: 512 }, (_, d) => Math.sin(i * 3.3 + d * 0.1)))
  );
  store.close();
  const out = `${root}/control_out`;
  const r = await cli("compare_embeddings.ts", ["--db", db, "--out-dir", out, "--png", `${out}/map.png`]);
  assert.equal(r.code, 0, r.stderr);
  // every row of the matrix is one line, and no raw control or bidi character reaches the terminal
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f\u202e]/.test(r.stdout), "escaped");
  const lines = r.stdout.split("\n");
  const matrix = lines.slice(lines.indexOf("Cosine similarity") + 2, lines.indexOf("Euclidean distance") - 1);
  assert.equal(matrix.length, ids.length, "one line per song");
  assert.ok(matrix.every((l) => l.trim().split(/\s+/).length === ids.length + 2), r.stdout);
  assert.match(r.stdout, /line\\nbreak/);
  assert.match(r.stdout, /rtl\\u202eevil/);
  for (const f of ["map.png", "similarity_heatmap.png", "similarity_heatmap.svg", "cosine_similarity.csv"]) {
    assert.ok((await Deno.stat(`${out}/${f}`)).size > 0, f);
  }
  const svg = await Deno.readTextFile(`${out}/map.svg`);
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(svg), "the SVG is XML");
  assert.match(svg, /esc\\u001b\[31mred/);
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
