/**
 * What a map of the collection starts from: the k nearest neighbours of the
 * song vectors' PCA projection (`pca.ts`) — exact for small collections, from
 * a usearch HNSW graph for large ones.
 *
 * @module
 */

import type { KnnGraph } from "./umap.ts";

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
