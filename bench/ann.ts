/**
 * `deno task bench-ann`: search over many songs against the exact search, on
 * random 512-d vectors (the hard case: no structure to exploit) or clustered
 * ones, at 100 000 and 1 000 000 songs — build time, recall@10 (the share of
 * the exact top 10 returned) and query latency, for each strategy in the same
 * run:
 *
 * - `exact`: `VectorIndex.search`, plain TypeScript (the truth);
 * - `scan i8`: the explorer's `QuantizedIndex` (int8 codes, SIMD scan, 1 024
 *   candidates re-ranked exactly);
 * - `scan f32`: `similar`'s (the float32 rows scanned with SIMD, re-ranked);
 * - `hnsw`: a usearch HNSW graph (M 32, efAdd 128, ef 1 024, 1 024
 *   candidates re-ranked exactly), at sizes up to `--hnsw-max` (its build
 *   takes minutes at 100 000 on two cores).
 *
 *     deno task bench-ann [--sizes 100000,1000000] [--queries 100] [--data random|clustered] [--hnsw-max 100000]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Hit, VectorIndex } from "../lib/analysis/vector_index.ts";
import { QuantizedIndex } from "../lib/analysis/ann_index.ts";
import { Rng } from "../lib/util/rng.ts";
import usearch from "usearch";

const { values } = parseArgs({
  options: {
    sizes: { type: "string" },
    queries: { type: "string" },
    data: { type: "string" },
    "hnsw-max": { type: "string" },
  },
});
const data = values.data ?? "random";
if (data !== "random" && data !== "clustered") {
  throw new Error(`--data must be random or clustered, got "${data}"`);
}
const sizes = (values.sizes ?? "100000,1000000").split(",").map(Number);
const queries = Number(values.queries ?? 100);
const hnswMax = Number(values["hnsw-max"] ?? 100_000);
const d = 512, k = 10, candidates = 1024;

/** An HNSW graph with exact re-ranking, for comparison (the product uses the scan). */
function buildHnsw(exact: VectorIndex) {
  // deno-lint-ignore no-explicit-any
  const { Index } = usearch as any;
  const graph = new Index({
    metric: "ip",
    dimensions: d,
    connectivity: 32,
    quantization: "f32",
    expansion_add: 128,
    expansion_search: 1024,
  });
  const n = exact.ids.length;
  for (let start = 0; start < n; start += 10_000) {
    const end = Math.min(n, start + 10_000);
    const keys = BigUint64Array.from({ length: end - start }, (_, i) => BigInt(start + i));
    graph.add(keys, exact.unit.subarray(start * d, end * d), navigator.hardwareConcurrency);
  }
  return (q: Float32Array): Hit[] => {
    const found = graph.search(q, candidates, 1);
    return exact.searchRows(q, Array.from(found.keys as BigUint64Array, Number), k);
  };
}

console.log(
  `search over ${data} 512-d vectors, ${queries} queries, ${navigator.hardwareConcurrency} cores; ` +
    `each strategy re-ranks ${candidates} candidates with the exact cosine`,
);
console.log("| songs | strategy | build | recall@10 | query |");
console.log("|---|---|---|---|---|");
for (const n of sizes) {
  const rng = new Rng(n);
  const raw = new Float32Array(n * d);
  // clustered: 1 000 centres, each song a centre plus noise (closer to real embeddings than pure noise)
  const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: d }, () => rng.normal()));
  const sample = (i: number) =>
    data === "random"
      ? Float32Array.from({ length: d }, () => rng.normal())
      : Float32Array.from(centres[i % 1000], (c) => c + 0.6 * rng.normal());
  for (let i = 0; i < n; i++) raw.set(sample(i), i * d);
  const exact = VectorIndex.fromMatrix(Array.from({ length: n }, (_, i) => `s${i}`), d, raw);
  const qs = Array.from({ length: queries }, (_, i) => sample(i * 7 + 3));
  const exactQueries = n > 200_000 ? Math.min(queries, 20) : queries;
  let t = performance.now();
  const truth = qs.slice(0, exactQueries).map((q) => exact.search(q, k, "cosine"));
  const exactMs = (performance.now() - t) / exactQueries;
  const row = (name: string, build: string, recall: string, ms: number) =>
    console.log(`| ${n.toLocaleString("en")} | ${name} | ${build} | ${recall} | ${ms.toFixed(2)} ms |`);
  row("exact (TypeScript)", "—", "1", exactMs);
  const strategies: [string, () => Promise<(q: Float32Array) => Hit[]>][] = [
    ["scan i8", async () => {
      const index = await QuantizedIndex.build(exact, "i8");
      return (q) => index.search(q, k, undefined, candidates);
    }],
    ["scan f32", async () => {
      const index = await QuantizedIndex.build(exact, "f32");
      return (q) => index.search(q, k, undefined, candidates);
    }],
  ];
  if (n <= hnswMax) strategies.push(["hnsw", () => Promise.resolve(buildHnsw(exact))]);
  for (const [name, build] of strategies) {
    t = performance.now();
    const search = await build();
    const buildS = (performance.now() - t) / 1000;
    t = performance.now();
    const got = qs.map((q) => search(q));
    const ms = (performance.now() - t) / queries;
    let hit = 0;
    truth.forEach((tr, i) => {
      const ids = new Set(got[i].map((h) => h.id));
      for (const h of tr) if (ids.has(h.id)) hit++;
    });
    row(name, `${buildS.toFixed(1)} s`, (hit / (exactQueries * k)).toFixed(4), ms);
  }
}
