/**
 * Every reader opens every database this project or the original project
 * ever wrote: the original's `songs_vectors` alone (user_version 0), and each
 * schema version this tool has written (1 to the current one), built here
 * from the schema's own migrations. On each: `similar` ranks by the exact
 * cosine computed in the test, `compare` reads every song, and the explorer
 * shows every song on the map with its neighbours — songs with no stored
 * file are listed without a path and their audio is refused (404).
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { assert } from "./helpers.ts";
import { MIGRATIONS, SCHEMA_VERSION, Store, vectorToBlob } from "../lib/store/sqlite_store.ts";
import { Rng } from "../lib/util/rng.ts";
import { run as similar } from "../similar.ts";
import { run as compare } from "../compare_embeddings.ts";
import { Explorer } from "../lib/server/explorer.ts";
import { createHandler } from "../lib/server/routes.ts";

const SONGS = 6;
const root = await Deno.makeTempDir({ prefix: "openl3-legacy-" });
const rng = new Rng(19);
const vectors = Array.from({ length: SONGS }, () => Float64Array.from({ length: 512 }, () => rng.normal()));
const ids = Array.from({ length: SONGS }, (_, i) => `song_${i}`);

/** A database as schema version `v` left it (0: the original project's), holding the songs. */
function fixture(v: number): string {
  const path = join(root, `v${v}.db`);
  const db = new DatabaseSync(path);
  for (let m = 0; m < Math.max(1, v); m++) db.exec(MIGRATIONS[m]);
  db.exec(`PRAGMA user_version = ${v}`);
  const ins = db.prepare("INSERT INTO songs_vectors(song_id, vector) VALUES (?, ?)");
  ids.forEach((id, i) => ins.run(id, vectorToBlob(vectors[i])));
  if (v >= 2) {
    db.exec(
      `INSERT INTO model_configs(id, key, input_repr, content_type, embedding_size, weights_hash, hop_size,
               center, pooling, frontend, backend, tool_version)
             VALUES (1, 'k', 'mel256', 'music', 512, 'abc', 0.1, 1, 'max', 'cpu', 'native', '0.1')`,
    );
    const song = db.prepare(`INSERT INTO songs(song_id, path, duration, sample_rate, channels, format, size,
               content_hash, tags, windows, config_id, embedded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`);
    // the first two songs have a stored file path (that does not exist here), the others none
    ids.slice(0, 2).forEach((id, i) =>
      song.run(id, join(root, `${id}.wav`), 30, 44100, 2, "wav", 100, `h${i}`, null, 291, 1, "2025-01-01")
    );
  }
  db.close();
  return path;
}

function cosine(a: Float64Array, b: Float64Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

const expected = ids.filter((id) => id !== ids[0]).map((id) => ({
  id,
  score: cosine(vectors[0], vectors[ids.indexOf(id)]),
})).sort((a, b) => b.score - a.score);

for (let v = 0; v <= SCHEMA_VERSION; v++) {
  Deno.test(`schema version ${v}${v === 0 ? " (the original project's songs_vectors)" : ""}: similar, compare and the explorer read it`, async () => {
    const db = fixture(v);
    const { hits } = await similar({ query: ids[0], k: 3, db, verbose: false });
    assert.deepEqual(hits.map((h) => h.id), expected.slice(0, 3).map((e) => e.id));
    hits.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i].score) < 1e-6, `${h.score}`));

    const out = join(root, `compare-v${v}`);
    const result = await compare({ db, outDir: out, png: join(out, "map.png"), print: false });
    assert.equal(result.ids.length, SONGS);

    const explorer = await Explorer.open(db, {});
    try {
      const handle = createHandler(explorer, { log: () => {} });
      const get = (path: string) => handle(new Request(`http://127.0.0.1${path}`));
      const songs = await (await get("/api/songs")).json();
      assert.equal(songs.count, SONGS);
      const byId = new Map(songs.songs.map((s: { id: string }) => [s.id, s]));
      for (const id of ids.slice(2)) assert.equal((byId.get(id) as { path?: string }).path, undefined);
      const map = await (await get("/api/map")).json();
      assert.ok([...map.x, ...map.y].every(Number.isFinite));
      const near = await (await get(`/api/similar/${ids[0]}?k=3`)).json();
      assert.deepEqual(
        near.neighbours.map((n: { id: string }) => n.id),
        expected.slice(0, 3).map((e) => e.id),
      );
      const audio = await get(`/api/audio/${ids[SONGS - 1]}`);
      assert.equal(audio.status, 404, "no file stored: no audio");
      await audio.body?.cancel();
    } finally {
      await explorer.close();
    }
  });
}

Deno.test("a database that mixes two configurations (older versions wrote them): similar stays within the asked song's, compare asks for --config", async () => {
  const db = join(root, "mixed.db");
  const store = Store.open(db);
  const base = {
    inputRepr: "mel256" as const,
    contentType: "music" as const,
    weightsHash: "f".repeat(64),
    hopSize: 0.1,
    center: true,
    pooling: "max" as const,
    precision: "fp32" as const,
    weightsProvenance: "custom" as const,
    frontend: "cpu" as const,
    backend: "native" as const,
    toolVersion: "0.0.1",
  };
  const small = { ...base, embeddingSize: 512 as const }, large = { ...base, embeddingSize: 6144 as const };
  const r = new Rng(7);
  const song = (id: string) => ({
    songId: id,
    path: `/m/${id}.wav`,
    duration: 1,
    sampleRate: 16000,
    channels: 1,
    format: "wav",
    size: 1,
    contentHash: id,
    windows: 1,
  });
  const v512 = new Map<string, Float64Array>();
  for (let i = 0; i < 4; i++) {
    const v = Float64Array.from({ length: 512 }, () => r.normal());
    v512.set(`s${i}`, v);
    store.putSong(song(`s${i}`), v, small);
  }
  for (let i = 0; i < 3; i++) {
    store.putSong(song(`L${i}`), Float64Array.from({ length: 6144 }, () => r.normal()), large);
  }
  store.close();
  const { hits } = await similar({ query: "s0", k: 10, db, verbose: false });
  const want = ["s1", "s2", "s3"].map((id) => ({ id, score: cosine(v512.get("s0")!, v512.get(id)!) }))
    .sort((a, b) => b.score - a.score);
  assert.deepEqual(hits.map((h) => h.id), want.map((w) => w.id), "only the songs of its configuration");
  const big = await similar({ query: "L1", k: 10, db, verbose: false });
  assert.deepEqual(big.hits.map((h) => h.id).sort(), ["L0", "L2"]);
  const out = join(root, "compare-mixed");
  await assert.rejects(
    () => compare({ db, outDir: out, png: join(out, "map.png"), print: false }),
    /mixes 2 model configurations .*1: mel256\/music\/512, .*, 4 songs; 2: mel256\/music\/6144, .*, 3 songs: choose one with --config N/,
  );
  const second = await compare({ db, outDir: out, png: join(out, "map.png"), print: false, config: 2 });
  assert.deepEqual([...second.ids].sort(), ["L0", "L1", "L2"]);
});

Deno.test("legacy formats: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
