/**
 * The collection embedder end to end, on generated audio and seeded random
 * (untrained) weights: schema and BLOB format, ids, resume/skip/force,
 * changed files, failures, concurrent writers, an interrupted run, npz output.
 */
import { convertedTestWeights } from "./test_model.ts";
import { DatabaseSync } from "node:sqlite";
import { assert, assertAllClose, fixture, slowTest } from "./helpers.ts";
import { run as makeTestWeights } from "../make_test_weights.ts";
import { run as simpleEmbed } from "../simple_embed.ts";
import { run as embed } from "../embed.ts";
import { run as similar } from "../similar.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { encodeMp3 } from "../lib/audio/mp3_encode.ts";
import { blobToVector, SCHEMA_VERSION, Store, StoreError } from "../lib/store/sqlite_store.ts";
import { decodeNpz } from "../lib/util/npz.ts";
import { createEmbedder } from "../lib/pipeline/embedder.ts";
import { embedFile } from "../lib/pipeline/embed_song.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-embed-" });
const models = `${root}/models`;
const weights = `${root}/random.h5`;
// converted once; every run below finds the cached .onnx
await convertedTestWeights(weights, models, 4);
const base = {
  weights,
  modelsDir: models,
  backend: "native" as const,
  device: "cpu" as const,
  quiet: true,
  batchSize: 8,
};

function tone(freq: number, seconds: number, sr = 16000): Float32Array {
  return Float32Array.from(
    { length: Math.round(sr * seconds) },
    (_, i) => 0.4 * Math.sin(2 * Math.PI * freq * i / sr),
  );
}

async function folder(name: string, files: Record<string, Uint8Array>): Promise<string> {
  const dir = `${root}/${name}`;
  await Deno.mkdir(dir, { recursive: true });
  for (const [f, bytes] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${f}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeFile(`${dir}/${f}`, bytes);
  }
  return dir;
}

Deno.test("simple_embed: one 4 096-byte float64 vector per mp3 (file stem ids), the max over frames", async () => {
  const dir = await folder("previews", {
    "low.mp3": encodeMp3([tone(220, 1, 22050)], 22050),
    "high.mp3": encodeMp3([tone(1760, 1, 22050)], 22050),
    "notes.txt": new TextEncoder().encode("not audio"),
  });
  const db = `${root}/simple/songs.db`;
  const s = await simpleEmbed({
    previews: dir,
    db,
    weights,
    modelsDir: models,
    backend: "native",
    device: "cpu",
    quiet: true,
  });
  assert.equal(s.embedded, 2);
  assert.equal(s.failed, 0);
  const raw = new DatabaseSync(db);
  const rows = raw.prepare("SELECT song_id, vector FROM songs_vectors ORDER BY song_id").all() as {
    song_id: string;
    vector: Uint8Array;
  }[];
  raw.close();
  assert.deepEqual(rows.map((r) => r.song_id), ["high", "low"]);
  for (const r of rows) assert.equal(r.vector.length, 4096);
  // byte-exact: float64 little-endian of the max over the frame embeddings computed directly
  const e = await createEmbedder({
    weights,
    modelsDir: models,
    backend: "native",
    device: "cpu",
    verbose: false,
  });
  const direct = await embedFile(e, `${dir}/low.mp3`);
  await e.close();
  const expected = new Float64Array(512).fill(-Infinity);
  for (let w = 0; w < direct.windows; w++) {
    for (let d = 0; d < 512; d++) expected[d] = Math.max(expected[d], direct.embedding[w * 512 + d]);
  }
  const expectedBytes = new Uint8Array(expected.buffer);
  assert.deepEqual(rows[1].vector, expectedBytes);
  assert.deepEqual(blobToVector(rows[1].vector), expected);
});

Deno.test("embed: ids are unique across folders and stable; rerun skips, --force redoes, a changed file is redone", async () => {
  const a = await folder("lib_a", { "intro.wav": encodeWav([tone(300, 1)], 16000) });
  const b = await folder("lib_b", {
    "intro.wav": encodeWav([tone(500, 1)], 16000),
    "deep/outro.wav": encodeWav([tone(700, 0.4)], 16000), // shorter than a window: padded, not failed
  });
  const db = `${root}/ids.db`;
  const first = await embed({ ...base, inputs: [a, b], db });
  assert.equal(first.embedded, 3);
  assert.equal(first.failed, 0);
  const store = Store.open(db);
  const ids = [...store.vectors().keys()];
  store.close();
  assert.equal(ids.length, 3);
  assert.ok(
    ids.some((id) => id.endsWith("lib_a/intro.wav")) && ids.some((id) => id.endsWith("lib_b/intro.wav")),
  );
  const again = await embed({ ...base, inputs: [a, b], db });
  assert.deepEqual([again.embedded, again.skipped], [0, 3]);
  const forced = await embed({ ...base, inputs: [b], db, force: true });
  assert.deepEqual([forced.embedded, forced.skipped], [2, 0]);
  await Deno.writeFile(`${b}/intro.wav`, encodeWav([tone(900, 1)], 16000));
  const changed = await embed({ ...base, inputs: [a, b], db });
  assert.deepEqual([changed.embedded, changed.skipped], [1, 2]);
  // another configuration (mean pooling) is refused before any work: one configuration per database
  await assert.rejects(
    () => embed({ ...base, inputs: [a], db, pool: "mean" }),
    /holds max pooling; this run asks for mean pooling: use another --db, or leave out --pool/,
  );
  // removed files are pruned on request
  await Deno.remove(`${b}/deep/outro.wav`);
  const pruned = await embed({ ...base, inputs: [b], db, prune: true });
  assert.equal(pruned.pruned, 1);
  const after = Store.open(db);
  assert.equal(after.vectors().size, 2);
  after.close();
});

Deno.test("embed: a bad file is recorded in failures and the run goes on; frames and npz are kept on request", async () => {
  const dir = await folder("mixed", {
    "good.wav": encodeWav([tone(440, 1)], 16000),
    "broken.mp3": new Uint8Array(3000).fill(7),
    "empty.flac": new Uint8Array(0),
    "tagged.flac": await Deno.readFile(fixture("tone440_44k_stereo.flac")),
  });
  const db = `${root}/mixed.db`;
  const out = `${root}/npz`;
  const s = await embed({ ...base, inputs: [dir], db, frames: true, outputDir: out });
  assert.deepEqual([s.embedded, s.failed], [2, 2]);
  const store = Store.open(db);
  const failures = store.failures();
  assert.equal(failures.length, 2);
  assert.ok(failures.some((f) => f.path.endsWith("broken.mp3") && /unrecognised/.test(f.error)));
  assert.ok(failures.some((f) => f.path.endsWith("empty.flac") && /empty/.test(f.error)));
  const tagged = store.song([...store.vectors().keys()].find((k) => k.endsWith("tagged.flac"))!)!;
  assert.deepEqual(tagged.tags, { title: "Tone 440", artist: "Fixture Maker", album: "Test Tones" });
  assert.equal(tagged.channels, 2);
  assert.equal(tagged.format, "flac");
  const id = [...store.vectors().keys()].find((k) => k.endsWith("good.wav"))!;
  const frames = store.frames(id);
  const song = store.song(id)!;
  assert.equal(song.format, "wav");
  assert.equal(song.windows, 6);
  assert.equal(frames.vectors.length, 6);
  assert.deepEqual(frames.timestamps, [0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5]);
  const vec = store.vectors().get(id)!;
  for (let d = 0; d < 512; d++) assert.equal(vec[d], Math.max(...frames.vectors.map((f) => f[d])));
  store.close();
  const npzFiles = [...Deno.readDirSync(out)].map((e) => e.name).filter((n) => n.endsWith(".npz"));
  assert.equal(npzFiles.length, 2);
  const npz = await decodeNpz(await Deno.readFile(`${out}/${npzFiles.find((f) => f.includes("good"))}`));
  assert.deepEqual(npz.embedding.shape, [6, 512]);
  assertAllClose(npz.embedding.data.subarray(0, 512), frames.vectors[0], 0);
});

slowTest(
  "embed --output-dir: <stem>.npz as openl3 names it, a hash where stems clash, --suffix, and a missing npz is rewritten",
  async () => {
    const a = await folder("npz_a", { "intro.wav": encodeWav([tone(300, 1)], 16000) });
    const b = await folder("npz_b", {
      "intro.wav": encodeWav([tone(500, 1)], 16000),
      "outro.wav": encodeWav([tone(700, 1)], 16000),
    });
    const db = `${root}/npz_names.db`;
    const out = `${root}/npz_names`;
    await embed({ ...base, inputs: [a, b], db, outputDir: out });
    const names = [...Deno.readDirSync(out)].map((e) => e.name).filter((n) => n.endsWith(".npz")).sort();
    assert.equal(names.length, 3);
    assert.ok(names.includes("outro.npz"), names.join(", "));
    const clashing = names.filter((n) => n.startsWith("intro-"));
    assert.equal(clashing.length, 2, names.join(", "));
    for (const n of clashing) assert.match(n, /^intro-[0-9a-f]{8}\.npz$/);
    assert.ok(!names.some((n) => n.startsWith(".") || n.includes("__")), "no hidden or path-mangled names");
    // unchanged and stored, but its npz is gone: it is written again (the others are skipped)
    await Deno.remove(`${out}/outro.npz`);
    const again = await embed({ ...base, inputs: [a, b], db, outputDir: out });
    assert.deepEqual([again.embedded, again.skipped], [1, 2]);
    assert.ok((await Deno.stat(`${out}/outro.npz`)).isFile);
    // openl3's --suffix
    const suffixed = `${root}/npz_suffix`;
    await embed({ ...base, inputs: [b], db, outputDir: suffixed, suffix: "mel256", force: true });
    assert.deepEqual(
      [...Deno.readDirSync(suffixed)].map((e) => e.name).filter((n) => n.endsWith(".npz")).sort(),
      [
        "intro_mel256.npz",
        "outro_mel256.npz",
      ],
    );
  },
);

const cli = (args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "embed.ts",
      ...args,
      "--weights",
      weights,
      "--models-dir",
      models,
      "--backend",
      "native",
      "--device",
      "cpu",
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  });

/** Read a child's output until `text` appears (or to the end), returning what was read. */
async function readUntil(reader: ReadableStreamDefaultReader<string>, text?: string): Promise<string> {
  let seen = "";
  while (text === undefined || !seen.includes(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  return seen;
}

slowTest("embed: two processes writing one database both finish, and it stays sound", async () => {
  const x = await folder("proc_x", {
    "1.wav": encodeWav([tone(200, 1)], 16000),
    "2.wav": encodeWav([tone(250, 1)], 16000),
  });
  const y = await folder("proc_y", {
    "1.wav": encodeWav([tone(300, 1)], 16000),
    "2.wav": encodeWav([tone(350, 1)], 16000),
  });
  const db = `${root}/shared.db`;
  const [px, py] = [cli([x, "--db", db, "--quiet"]).spawn(), cli([y, "--db", db, "--quiet"]).spawn()];
  const [ox, oy] = await Promise.all([px.output(), py.output()]);
  assert.equal(ox.code, 0, new TextDecoder().decode(ox.stderr));
  assert.equal(oy.code, 0, new TextDecoder().decode(oy.stderr));
  const store = Store.open(db);
  assert.equal(store.integrityCheck(), "ok");
  assert.equal(store.vectors().size, 4);
  store.close();
});

for (const workers of ["0", "2"]) {
  slowTest(
    `embed (--workers ${workers}): killed mid-run (SIGKILL), the database is sound and a rerun completes the rest once`,
    async () => {
      const files: Record<string, Uint8Array> = {};
      for (let i = 0; i < 5; i++) files[`t${i}.wav`] = encodeWav([tone(200 + 100 * i, 1.5)], 16000);
      const dir = await folder(`killed_${workers}`, files);
      const db = `${root}/killed_${workers}.db`;
      const child = cli([dir, "--db", db, "--batch-size", "2", "--workers", workers]).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      await readUntil(reader, "✓");
      child.kill("SIGKILL");
      await child.status;
      await reader.cancel();
      await child.stderr.cancel();
      const store = Store.open(db);
      assert.equal(store.integrityCheck(), "ok");
      const stored = store.vectors().size;
      store.close();
      assert.ok(stored >= 1 && stored < 5, `${stored} songs stored before the kill`);
      const rerun = await embed({ ...base, inputs: [dir], db });
      assert.equal(rerun.skipped, stored);
      assert.equal(rerun.embedded, 5 - stored);
      const after = Store.open(db);
      assert.equal(after.vectors().size, 5);
      const songs = after.db.prepare("SELECT count(*) AS n FROM songs").get() as { n: number };
      assert.equal(Number(songs.n), 5, "no duplicates");
      after.close();
    },
  );

  slowTest(
    `embed (--workers ${workers}): Ctrl-C (SIGINT) stops after the current batch, prints the summary, exits 130, stores no half song`,
    async () => {
      const files: Record<string, Uint8Array> = {};
      for (let i = 0; i < 4; i++) files[`c${i}.wav`] = encodeWav([tone(300 + 50 * i, 2)], 16000);
      const dir = await folder(`ctrl_c_${workers}`, files);
      const db = `${root}/ctrl_c_${workers}.db`;
      const child = cli([dir, "--db", db, "--batch-size", "2", "--workers", workers]).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = await readUntil(reader, "✓");
      child.kill("SIGINT");
      out += await readUntil(reader);
      const status = await child.status;
      await child.stderr.cancel();
      assert.equal(status.code, 130, out);
      assert.match(out, /embedded, 0 skipped, 0 failed of 4 files .*INTERRUPTED/);
      const store = Store.open(db);
      assert.equal(store.integrityCheck(), "ok");
      const stored = store.vectors().size;
      const done = (out.match(/✓/g) ?? []).length;
      assert.equal(stored, done, "every stored song was reported, nothing half-written");
      assert.ok(stored < 4);
      store.close();
    },
  );
}

Deno.test("store: a full disk is a clear StoreError and what was stored survives", () => {
  const path = `${root}/full.db`;
  const store = Store.open(path);
  store.putVector("first", new Float64Array(512).fill(1));
  // SQLite reports SQLITE_FULL when the file may not grow: the same error as a full disk
  const pages = Number((store.db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count);
  store.db.exec(`PRAGMA max_page_count = ${pages + 2}`);
  const big = new Float64Array(512 * 8);
  assert.throws(() => {
    for (let i = 0; i < 50; i++) store.putVector(`song_${i}`, big);
  }, /full\.db: storing song_\d+ failed: .*full.*\(the disk is full: what was stored before is kept\)/);
  store.close();
  const again = Store.open(path);
  assert.equal(again.integrityCheck(), "ok");
  assert.deepEqual(Array.from(again.vectors().get("first")!.subarray(0, 3)), [1, 1, 1]);
  again.close();
});

Deno.test("similar: a new file is embedded as the stored songs were, compared, and stored only with --store", async () => {
  const dir = await folder("sim", {
    "a.wav": encodeWav([tone(300, 1)], 16000),
    "b.wav": encodeWav([tone(2000, 1)], 16000),
  });
  const db = `${root}/sim.db`;
  await embed({ ...base, inputs: [dir], db, pool: "mean", hopSize: 0.5 });
  const query = `${root}/sim_query.wav`;
  await Deno.writeFile(query, encodeWav([tone(300, 1)], 16000)); // the same sound as a.wav
  const opts = {
    query,
    db,
    weights,
    modelsDir: models,
    backend: "native" as const,
    device: "cpu" as const,
    verbose: false,
  };
  const r = await similar({ ...opts, k: 2 });
  assert.equal(r.queryId, undefined);
  assert.ok(r.hits[0].id.endsWith("sim/a.wav"), r.hits[0].id);
  assert.ok(
    r.hits[0].score > 0.999999,
    `same sound, same configuration (mean pooling, hop 0.5): ${r.hits[0].score}`,
  );
  let store = Store.open(db);
  assert.equal(store.vectors().size, 2, "not stored without --store");
  store.close();
  const stored = await similar({ ...opts, k: 1, store: true });
  assert.ok(stored.queryId?.endsWith("sim_query.wav"));
  store = Store.open(db);
  assert.equal(store.vectors().size, 3);
  assert.equal(store.storedConfigs().length, 1, "stored with the database's configuration");
  store.close();
  const other = `${root}/other.h5`;
  await makeTestWeights({ out: other, seed: 99 });
  await Deno.writeFile(`${root}/sim_q2.wav`, encodeWav([tone(500, 1)], 16000));
  await assert.rejects(
    () => similar({ ...opts, query: `${root}/sim_q2.wav`, weights: other }),
    /embedded with other weights/,
  );
});

Deno.test("store: an original-project database (songs_vectors only) is migrated with its data", () => {
  const path = `${root}/original.db`;
  const raw = new DatabaseSync(path);
  raw.exec("CREATE TABLE songs_vectors(song_id TEXT PRIMARY KEY, vector BLOB NOT NULL)");
  raw.prepare("INSERT INTO songs_vectors VALUES (?, ?)").run(
    "old_song",
    new Uint8Array(new Float64Array([1.5, -2]).buffer),
  );
  raw.close();
  const store = Store.open(path);
  assert.equal(store.version, SCHEMA_VERSION);
  assert.deepEqual(Array.from(store.vectors().get("old_song")!), [1.5, -2]);
  const tables =
    (store.db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as {
      name: string;
    }[]).map((t) => t.name);
  assert.deepEqual(tables, [
    "config_claim",
    "failures",
    "frames",
    "meta",
    "model_configs",
    "roots",
    "songs",
    "songs_vectors",
    "timelines",
  ]);
  // the v3 triggers count changes to the vectors
  const before = store.vectorsVersion();
  store.putVector("new_song", new Float64Array([0, 1]));
  assert.equal(store.vectorsVersion(), before + 1);
  store.close();
});

Deno.test("store: writing to a read-only database is a clear StoreError and keeps what is stored", () => {
  const path = `${root}/ro.db`;
  const w = Store.open(path);
  w.putVector("kept", new Float64Array([1, 2, 3]));
  w.close();
  const ro = Store.open(path, { readOnly: true });
  assert.throws(() => ro.putVector("new", new Float64Array(3)), StoreError);
  assert.throws(
    () => ro.putVector("new", new Float64Array(3)),
    /ro\.db: storing new failed: .*read-only|readonly/,
  );
  assert.deepEqual(Array.from(ro.vectors().get("kept")!), [1, 2, 3]);
  ro.close();
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

Deno.test("embed -o: an .npz always holds its own song's frames, across runs (another song of the same name, a missing or stale file)", async () => {
  const a = await folder("npzrun_a", { "x.wav": encodeWav([tone(300, 1.2)], 16000) });
  const b = await folder("npzrun_b", { "x.wav": encodeWav([tone(900, 0.6)], 16000) });
  const db = `${root}/npz_runs.db`, out = `${root}/npz_runs_out`;
  const opts = { ...base, db, outputDir: out, hopSize: 0.5 };
  await embed({ ...opts, inputs: [a] });
  const first = await Deno.readFile(`${out}/x.npz`);
  const second = await embed({ ...opts, inputs: [b] });
  assert.equal(second.embedded, 1);
  assert.deepEqual(await Deno.readFile(`${out}/x.npz`), first, "a's x.npz is not replaced by b's");
  const bNames = [...Deno.readDirSync(out)].map((e) => e.name).filter((n) => /^x-[0-9a-f]{8}\.npz$/.test(n));
  assert.equal(bNames.length, 1, "b's frames under a name of their own");
  const rerun = await embed({ ...opts, inputs: [a] });
  assert.deepEqual([rerun.embedded, rerun.skipped], [0, 1], "a is unchanged and its file holds it");
  assert.deepEqual(await Deno.readFile(`${out}/x.npz`), first);
  // a missing file, or one overwritten by something else, is written again
  await Deno.writeFile(`${out}/x.npz`, await Deno.readFile(`${out}/${bNames[0]}`));
  await Deno.writeTextFile(
    `${out}/.openl3-npz-manifest.json`,
    (await Deno.readTextFile(`${out}/.openl3-npz-manifest.json`)).replace(
      /"x\.npz": \{[^}]*\}/,
      '"x.npz": {}',
    ),
  );
  const stale = await embed({ ...opts, inputs: [a] });
  assert.equal(stale.embedded, 1);
  assert.deepEqual(await Deno.readFile(`${out}/x.npz`), first, "rewritten with a's frames");
  await Deno.remove(`${out}/x.npz`);
  const missing = await embed({ ...opts, inputs: [a] });
  assert.equal(missing.embedded, 1);
  assert.deepEqual(await Deno.readFile(`${out}/x.npz`), first);
});
