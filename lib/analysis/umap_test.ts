import { assert, slowTest } from "../../tests/helpers.ts";
import { Rng } from "../util/rng.ts";
import { approximateKnn, exactKnn } from "./knn.ts";
import { pcaProject } from "./pca.ts";
import { fuzzyGraph, smoothKnnDistances, umapLayout } from "./umap.ts";
import { clusterCount, computeMap, decodeMap, encodeMap } from "./collection_map.ts";
import { VectorIndex } from "./vector_index.ts";

/** `n` points in `d` dimensions around `c` well-separated centres; the centre of each. */
function blobs(n: number, d: number, c: number, seed = 1): { x: Float32Array; label: number[] } {
  const rng = new Rng(seed);
  const centres = Array.from({ length: c }, () => Array.from({ length: d }, () => rng.normal() * 10));
  const x = new Float32Array(n * d), label: number[] = [];
  for (let i = 0; i < n; i++) {
    label.push(i % c);
    for (let j = 0; j < d; j++) x[i * d + j] = centres[i % c][j] + rng.normal();
  }
  return { x, label };
}

/** Share of each point's `k` nearest in `y` (2-D) that have its label. */
function sameLabelShare(y: Float32Array, label: number[], k = 10): number {
  const n = label.length;
  let same = 0;
  for (let i = 0; i < n; i++) {
    const d = Array.from(
      { length: n },
      (_, j) => [(y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2, j],
    );
    d.sort((a, b) => a[0] - b[0]);
    for (const [, j] of d.slice(1, k + 1)) if (label[j] === label[i]) same++;
  }
  return same / (n * k);
}

Deno.test("exactKnn: itself first, then by distance (closed form on a line)", () => {
  const x = new Float32Array([0, 1, 3, 7]); // 1-D
  const g = exactKnn(x, 4, 1, 3);
  assert.deepEqual(Array.from(g.indices.subarray(0, 3)), [0, 1, 2]);
  assert.deepEqual(Array.from(g.distances.subarray(0, 3)), [0, 1, 3]);
  assert.deepEqual(Array.from(g.indices.subarray(9, 12)), [3, 2, 1]);
  assert.deepEqual(Array.from(g.distances.subarray(9, 12)), [0, 4, 6]);
});

Deno.test("approximateKnn (usearch HNSW) finds ≥ 95 % of the exact neighbours", async () => {
  const { x } = blobs(1500, 16, 5, 2);
  const exact = exactKnn(x, 1500, 16, 10);
  const approx = await approximateKnn(x, 1500, 16, 10);
  let hits = 0;
  for (let i = 0; i < 1500; i++) {
    assert.equal(approx.indices[i * 10], i, "itself first");
    const truth = new Set(exact.indices.subarray(i * 10, i * 10 + 10));
    for (const j of approx.indices.subarray(i * 10, i * 10 + 10)) if (truth.has(j)) hits++;
  }
  assert.ok(hits / 15000 >= 0.95, `recall ${hits / 15000}`);
});

Deno.test("pcaProject: the first component carries the most variance, components are uncorrelated", () => {
  const rng = new Rng(4);
  const n = 400, x = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rng.normal() * 5, b = rng.normal() * 2, c = rng.normal() * 0.5;
    x.set([a + b, a - b, c], i * 3); // variances 50 along (1,1), 8 along (1,−1), 0.25
  }
  const p = pcaProject(x, n, 3, 2);
  const v = [0, 0], cov = [0];
  for (let i = 0; i < n; i++) {
    v[0] += p[2 * i] ** 2 / n;
    v[1] += p[2 * i + 1] ** 2 / n;
    cov[0] += p[2 * i] * p[2 * i + 1] / n;
  }
  assert.ok(Math.abs(v[0] - 50) < 8 && Math.abs(v[1] - 8) < 2, `variances ${v}`);
  assert.ok(Math.abs(cov[0]) < 1e-3 * v[0], `covariance ${cov[0]}`);
});

Deno.test("smooth_knn_dist: Σ exp(−(d − ρ)/σ) = log2(k); the fuzzy graph is symmetric with weights in (0, 1]", () => {
  const { x } = blobs(200, 8, 4, 5);
  const g = exactKnn(x, 200, 8, 15);
  const { rho, sigma } = smoothKnnDistances(g);
  for (let i = 0; i < 200; i++) {
    let s = 0;
    for (let j = 1; j < 15; j++) s += Math.exp(-Math.max(0, g.distances[i * 15 + j] - rho[i]) / sigma[i]);
    assert.ok(Math.abs(s - Math.log2(15)) < 1e-3, `point ${i}: ${s}`);
    assert.equal(rho[i], g.distances[i * 15 + 1]);
  }
  const f = fuzzyGraph(g);
  const w = new Map<string, number>();
  for (let e = 0; e < f.weight.length; e++) w.set(`${f.head[e]},${f.tail[e]}`, f.weight[e]);
  for (const [key, v] of w) {
    const [a, b] = key.split(",");
    assert.equal(w.get(`${b},${a}`), v, `edge ${key}`);
    assert.ok(v > 0 && v <= 1);
  }
});

Deno.test("umapLayout keeps separated clusters apart (10 nearest in 2-D share the cluster ≥ 95 %)", () => {
  const { x, label } = blobs(600, 20, 4, 6);
  const g = exactKnn(x, 600, 20, 15);
  const init = new Float32Array(1200);
  const rng = new Rng(7);
  for (let i = 0; i < init.length; i++) init[i] = rng.uniform() * 20 - 10;
  assert.ok(sameLabelShare(init, label) < 0.5, "the random start mixes them");
  const y = umapLayout(g, init, { epochs: 200 });
  assert.ok(sameLabelShare(y, label) >= 0.95, `${sameLabelShare(y, label)}`);
  assert.ok(y.every(Number.isFinite));
});

slowTest("computeMap: t-SNE for small sets, UMAP above; clusters; the cache format round-trips", async () => {
  for (const n of [60, 2600]) {
    const { x, label } = blobs(n, 32, 3, 8);
    const index = VectorIndex.fromMatrix(label.map((_, i) => `song${i}`), 32, x);
    const stages: string[] = [];
    const map = await computeMap(index, { onProgress: (s) => stages.push(s) });
    assert.equal(map.xy.length, 2 * n);
    assert.ok(map.xy.every(Number.isFinite));
    assert.match(map.method, n <= 2000 ? /t-SNE/ : /UMAP/);
    assert.ok(stages.includes("k-means"));
    assert.equal(new Set(map.clusters).size, Math.min(clusterCount(n), n));
    if (n > 500) assert.ok(sameLabelShare(map.xy.subarray(0, 1200), label.slice(0, 600)) > 0.9);
    const back = decodeMap(encodeMap(map, { databaseId: 5, version: 9, rows: n }))!;
    assert.deepEqual(back.key, { databaseId: 5, version: 9, rows: n });
    assert.deepEqual(back.map.xy, map.xy);
    assert.deepEqual(back.map.clusters, map.clusters);
  }
  assert.equal(decodeMap(new Uint8Array([1, 2, 3])), null);
});
