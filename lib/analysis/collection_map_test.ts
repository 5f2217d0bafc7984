import { join } from "node:path";
import { assert } from "../../tests/helpers.ts";
import { Rng } from "../util/rng.ts";
import { VectorIndex } from "./vector_index.ts";
import {
  type CollectionMap,
  decodeMap,
  encodeMap,
  extendMap,
  loadMap,
  MAX_PLACED_SHARE,
  MIN_PLACED,
  PLACEMENT_NEIGHBOURS,
} from "./collection_map.ts";

const d = 16;
const rng = new Rng(9);
const vectors = new Map<string, number[]>();
for (let i = 0; i < 40; i++) vectors.set(`old${i}`, Array.from({ length: d }, () => rng.normal()));
const fresh = Array.from(
  { length: 4 },
  (_, i) => [`new${i}`, Array.from({ length: d }, () => rng.normal())] as const,
);
const oldIndex = VectorIndex.from(vectors);
const oldMap: CollectionMap = {
  xy: Float32Array.from({ length: 80 }, (_, i) => i * 0.5 - 7),
  clusters: Int32Array.from({ length: 40 }, (_, i) => i % 3),
  method: "exact t-SNE (perplexity 13)",
  placed: 0,
};

/** The rows of `ids`, in that order. */
function indexOf(ids: string[]): VectorIndex {
  const all = new Map<string, number[]>([...vectors, ...fresh]);
  return VectorIndex.from(new Map(ids.map((id) => [id, all.get(id)!])));
}

Deno.test("extendMap: mapped songs keep their place; an added one sits at the mean of its nearest", () => {
  // the new songs come in the middle: the rows move, the places must follow the ids
  const ids = [...vectors.keys()];
  ids.splice(10, 0, fresh[0][0], fresh[1][0]);
  const index = indexOf(ids);
  const map = extendMap({ index: oldIndex, map: oldMap }, index)!;
  assert.ok(map, "extended");
  assert.equal(map.placed, 2);
  assert.equal(map.method, oldMap.method);
  ids.forEach((id, r) => {
    const o = oldIndex.row(id);
    if (o < 0) return;
    assert.equal(map.xy[2 * r], oldMap.xy[2 * o]);
    assert.equal(map.xy[2 * r + 1], oldMap.xy[2 * o + 1]);
    assert.equal(map.clusters[r], oldMap.clusters[o]);
  });
  for (const [id, v] of fresh.slice(0, 2)) {
    // the nearest mapped songs by cosine, in float64, computed here
    const cos = (a: number[], b: number[]) =>
      a.reduce((s, x, i) => s + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
    const near = [...vectors].map(([oid, w]) => ({ o: oldIndex.row(oid), c: cos(v, w) }))
      .sort((a, b) => b.c - a.c).slice(0, PLACEMENT_NEIGHBOURS);
    const r = index.row(id);
    const mx = near.reduce((s, n) => s + oldMap.xy[2 * n.o], 0) / near.length;
    const my = near.reduce((s, n) => s + oldMap.xy[2 * n.o + 1], 0) / near.length;
    assert.ok(Math.abs(map.xy[2 * r] - mx) < 1e-5 && Math.abs(map.xy[2 * r + 1] - my) < 1e-5, `${id} placed`);
    const votes = [0, 0, 0];
    for (const n of near) votes[oldMap.clusters[n.o]]++;
    assert.equal(votes[map.clusters[r]], Math.max(...votes), "the cluster most neighbours have");
  }
});

Deno.test("extendMap: a removed or changed song, or too many added, means a new layout (null)", () => {
  const ids = [...vectors.keys()];
  assert.equal(extendMap({ index: oldIndex, map: oldMap }, indexOf(ids.slice(1))), null, "removed");
  const changed = new Map(vectors);
  changed.set("old3", changed.get("old3")!.map((x, i) => i === 0 ? x + 1e-3 : x));
  assert.equal(extendMap({ index: oldIndex, map: oldMap }, VectorIndex.from(changed)), null, "changed");
  // 4 added to 40: kept (4 ≤ 10); with 7 placed before, 11 is more than 10 and than 4.4
  const four = indexOf([...ids, ...fresh.map(([id]) => id)]);
  assert.equal(MIN_PLACED, 10);
  assert.ok(extendMap({ index: oldIndex, map: { ...oldMap, placed: 6 } }, four));
  assert.equal(extendMap({ index: oldIndex, map: { ...oldMap, placed: 7 } }, four), null, "too many placed");
  // a large map keeps up to a tenth of its songs placed: 150 mapped + 15 added = 165 (≤ 16.5), not 2 more
  const big = new Map(
    Array.from({ length: 165 }, (_, i) => [`b${i}`, Array.from({ length: d }, () => rng.normal())]),
  );
  const bigOld = VectorIndex.from(new Map([...big].slice(0, 150)));
  const bigMap = { ...oldMap, xy: new Float32Array(300), clusters: new Int32Array(150) };
  assert.ok(15 <= MAX_PLACED_SHARE * 165 && 17 > MAX_PLACED_SHARE * 165);
  assert.ok(extendMap({ index: bigOld, map: bigMap }, VectorIndex.from(big)));
  assert.equal(extendMap({ index: bigOld, map: { ...bigMap, placed: 2 } }, VectorIndex.from(big)), null);
  // nothing added: the same map
  assert.deepEqual(extendMap({ index: oldIndex, map: oldMap }, indexOf(ids))!.xy, oldMap.xy);
});

Deno.test("loadMap: an extended map is cached with its count of placed songs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openl3-map-" });
  try {
    const db = join(dir, "songs.db");
    const index = indexOf([...vectors.keys(), "new0"]);
    const key = { databaseId: 5, version: 8, rows: 41 };
    const first = await loadMap(db, index, key, { previous: { index: oldIndex, map: oldMap } });
    assert.equal(first.cached, false);
    assert.equal(first.map.placed, 1);
    const again = await loadMap(db, index, key);
    assert.equal(again.cached, true);
    assert.equal(again.map.placed, 1);
    assert.deepEqual(again.map.xy, first.map.xy);
    const round = decodeMap(encodeMap(oldMap, { ...key, rows: 40 }))!;
    assert.equal(round.map.placed, 0);
    assert.deepEqual(round.map.clusters, oldMap.clusters);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
