/**
 * t-SNE time for 100, 1 000 and 5 000 points (above 400 points a seeded
 * sample of 400 is mapped: exact t-SNE is quadratic), and exact search over
 * 100 000 stored 512-d vectors.
 */
import { tsneMap } from "../lib/analysis/tsne_map.ts";
import { loadIndex, VectorIndex } from "../lib/analysis/vector_index.ts";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "../lib/store/store.ts";
import { Rng } from "../lib/util/rng.ts";

const rng = new Rng(1);
const clustered = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => Float64Array.from({ length: 512 }, (_, d) => (d === i % 10 ? 5 : 0) + rng.normal()),
  );

for (const n of [100, 1000, 5000]) {
  const data = clustered(n);
  Deno.bench(`t-SNE of ${n} points (512-d)`, { group: "tsne", n: 1, warmup: 0 }, () => {
    tsneMap(data, { seed: 1 });
  });
}

const N = 100_000;
const vectors = new Map<string, Float32Array>();
for (let i = 0; i < N; i++) vectors.set(`song_${i}`, Float32Array.from({ length: 512 }, () => rng.normal()));
Deno.bench(`build the index of ${N} vectors`, { group: "similar", n: 3, warmup: 0 }, () => {
  VectorIndex.from(vectors);
});
const index = VectorIndex.from(vectors);
const query = vectors.get("song_123")!;
Deno.bench(`similar: top 10 of ${N} tracks, cosine`, { group: "similar" }, () => {
  index.search(query, 10, "cosine", "song_123");
});
Deno.bench(`similar: top 10 of ${N} tracks, euclidean`, { group: "similar" }, () => {
  index.search(query, 10, "euclidean", "song_123");
});

// end to end, as `deno task similar <id>` does it: the index from its cache file beside the database
const dir = await Deno.makeTempDir({ prefix: "openl3-similar-" });
const db = `${dir}/songs.db`;
await (await openStore(db)).close(); // created and migrated
const raw = new DatabaseSync(db);
raw.exec("BEGIN");
const insert = raw.prepare("INSERT INTO songs_vectors(song_id, vector) VALUES (?, ?)");
for (const [id, v] of vectors) insert.run(id, new Uint8Array(Float64Array.from(v).buffer));
raw.exec("COMMIT");
raw.close();
const store = await openStore(db, { readOnly: true });
await loadIndex(store); // builds the cache
Deno.bench(`similar end to end: load the cached index of ${N} tracks + top 10`, {
  group: "similar",
  n: 5,
  warmup: 1,
}, async () => {
  const { index: idx } = await loadIndex(store);
  idx.search(idx.vector(idx.row("song_123")), 10, "cosine", "song_123");
});
globalThis.addEventListener("unload", () => {
  store.close();
  Deno.removeSync(dir, { recursive: true });
});
