/**
 * What a map of the collection starts from: a PCA projection of the song
 * vectors and their k nearest neighbours in it — exact for small
 * collections, from a usearch HNSW graph for large ones.
 *
 * @module
 */

import { Rng } from "../util/rng.ts";
import type { KnnGraph } from "./umap.ts";

/** Options of {@linkcode pcaProject}. */
export interface PcaOptions {
  /**
   * Rows the covariance is estimated from (a seeded sample above that).
   * @default {10000}
   */
  sample?: number;
  /**
   * Seed of the sample and of the subspace iteration.
   * @default {1}
   */
  seed?: number;
}

/**
 * Project `n` rows of `d` values (row-major) onto their top `k` principal
 * directions (centred; covariance from a sample; subspace iteration), as
 * scikit-learn's `PCA(n_components=k).fit_transform` up to each axis' sign.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { pcaProject } from "./knn.ts";
 * // points on a line y = 2x: one component carries everything
 * const x = new Float32Array([0, 0, 1, 2, 2, 4, 3, 6]);
 * const p = pcaProject(x, 4, 2, 1);
 * assert.ok(Math.abs(Math.abs(p[3] - p[0]) - Math.hypot(3, 6)) < 1e-4);
 * ```
 */
export function pcaProject(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  options: PcaOptions = {},
): Float32Array {
  if (x.length !== n * d) throw new RangeError(`pcaProject: ${x.length} values for ${n} rows × ${d}`);
  k = Math.min(k, d, n);
  const rng = new Rng(options.seed ?? 1);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n || 1;
  let rows = Array.from({ length: n }, (_, i) => i);
  const sample = options.sample ?? 10_000;
  if (n > sample) {
    for (let i = 0; i < sample; i++) {
      const j = i + Math.floor(rng.uniform() * (n - i));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows = rows.slice(0, sample);
  }
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (const i of rows) {
    for (let j = 0; j < d; j++) centred[j] = x[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      const off = a * d;
      for (let b = a; b < d; b++) cov[off + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a];
  // subspace iteration on the covariance, Gram–Schmidt each round
  let q = Array.from({ length: k }, () => Float64Array.from({ length: d }, () => rng.normal()));
  const z = new Float64Array(d);
  for (let it = 0; it < 40; it++) {
    q = q.map((v) => {
      z.fill(0);
      for (let a = 0; a < d; a++) {
        let s = 0;
        const off = a * d;
        for (let b = 0; b < d; b++) s += cov[off + b] * v[b];
        z[a] = s;
      }
      return Float64Array.from(z);
    });
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let a = 0; a < d; a++) dot += q[i][a] * q[j][a];
        for (let a = 0; a < d; a++) q[i][a] -= dot * q[j][a];
      }
      let norm = 0;
      for (let a = 0; a < d; a++) norm += q[i][a] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let a = 0; a < d; a++) q[i][a] /= norm;
    }
  }
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      const v = q[c];
      for (let j = 0; j < d; j++) s += (x[i * d + j] - mean[j]) * v[j];
      out[i * k + c] = s;
    }
  }
  return out;
}

/** Exact k nearest neighbours (Euclidean), each point first in its own row. Quadratic: for small n. */
export function exactKnn(x: Float32Array, n: number, d: number, k: number): KnnGraph {
  k = Math.min(k, n);
  const indices = new Int32Array(n * k), distances = new Float32Array(n * k);
  const dist = new Float64Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = x[i * d + c] - x[j * d + c];
        s += t * t;
      }
      dist[j] = j === i ? -1 : s; // itself first
      order[j] = j;
    }
    const top = Array.from(order).sort((p, r) => dist[p] - dist[r]).slice(0, k);
    for (let c = 0; c < k; c++) {
      indices[i * k + c] = top[c];
      distances[i * k + c] = top[c] === i ? 0 : Math.sqrt(dist[top[c]]);
    }
  }
  return { n, k, indices, distances };
}

/**
 * Approximate k nearest neighbours (Euclidean) from a usearch HNSW index
 * built on the rows, on every core; each point first in its own row.
 */
export async function approximateKnn(x: Float32Array, n: number, d: number, k: number): Promise<KnnGraph> {
  k = Math.min(k, n);
  const mod = await import("usearch");
  // deno-lint-ignore no-explicit-any
  const { Index } = ((mod as any).default ?? mod) as any;
  const index = new Index({ metric: "l2sq", dimensions: d, connectivity: 16, quantization: "f32" });
  const threads = navigator.hardwareConcurrency || 1;
  const rows = Array.from({ length: n }, (_, i) => x.subarray(i * d, (i + 1) * d));
  const keys = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  index.add(keys, rows, threads);
  const found = index.search(rows, k + 1, threads);
  const indices = new Int32Array(n * k).fill(-1), distances = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    indices[i * k] = i;
    let c = 1;
    const count = Number(found.counts[i]);
    for (let r = 0; r < count && c < k; r++) {
      const j = Number(found.keys[i * (k + 1) + r]);
      if (j === i) continue;
      indices[i * k + c] = j;
      distances[i * k + c] = Math.sqrt(Math.max(0, found.distances[i * (k + 1) + r]));
      c++;
    }
  }
  return { n, k, indices, distances };
}
