/**
 * The rows of a vector index nearest to several query directions at once,
 * by cosine: a plain loop over the unit rows for small collections, usearch's
 * SIMD scan of the float32 rows on every core for large ones (one pass over
 * the matrix for all queries). Every score returned is the exact cosine,
 * computed here; only the choice of candidates comes from the scan.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import type { VectorIndex } from "./vector_index.ts";

/** Rows from which the SIMD scan proposes the candidates (below, every row is scored here). */
export const SCAN_THRESHOLD = 20_000;

/** The rows nearest one query, best first, with their cosines. */
export interface NearestRows {
  /** Rows of the index. */
  rows: Int32Array;
  /** Their cosines with the query, in the same order (non-increasing). */
  scores: Float32Array;
}

/** A unit float32 copy of a vector (all zeros stay zeros). */
export function unitVector(v: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  return Float32Array.from(v, (x) => x * inv);
}

/** The cosine of row `r` with unit vector `q`. */
export function rowCosine(index: VectorIndex, r: number, q: Float32Array): number {
  const m = index.unit, d = index.dim, o = r * d;
  let dot = 0;
  for (let i = 0; i < d; i++) dot += m[o + i] * q[i];
  return dot;
}

/** The cosine of two rows. */
export function rowsCosine(index: VectorIndex, a: number, b: number): number {
  const m = index.unit, d = index.dim, oa = a * d, ob = b * d;
  let dot = 0;
  for (let i = 0; i < d; i++) dot += m[oa + i] * m[ob + i];
  return dot;
}

interface Usearch {
  exactSearch(
    dataset: Float32Array,
    queries: Float32Array,
    dimensions: number,
    count: number,
    metric: string,
    threads?: number,
  ): { keys: BigUint64Array };
  MetricKind: { IP: string };
}

/** The `k` best of `scores` (ties to the lower row), best first. */
function topOf(scores: Float32Array, rows: Int32Array | null, k: number): NearestRows {
  const n = scores.length;
  k = Math.min(k, n);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  // a threshold from a sample, then a sort of what passes it (a full sort of a million keys is slower)
  let pass = order;
  if (n > 4 * k && n > 4096) {
    const sample = Float32Array.from({ length: 4096 }, (_, i) => scores[Math.floor((i * n) / 4096)]).sort();
    const cut = sample[Math.max(0, 4096 - Math.ceil((4096 * 2 * k) / n) - 1)];
    const kept = order.filter((i) => scores[i] >= cut);
    if (kept.length >= k) pass = kept;
  }
  const sorted = Array.from(pass).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
  return {
    rows: Int32Array.from(sorted, (i) => rows ? rows[i] : i),
    scores: Float32Array.from(sorted, (i) => scores[i]),
  };
}

/**
 * The `k` rows nearest each query (any length, not necessarily unit), by cosine, best first.
 *
 * @throws {ArgumentError} for a query of another length than the index's vectors, or a `k` below 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VectorIndex } from "./vector_index.ts";
 * import { nearestRows } from "./nearest_rows.ts";
 * const index = VectorIndex.from(new Map([["a", [1, 0]], ["b", [0.6, 0.8]], ["c", [0, 1]]]));
 * const [near] = await nearestRows(index, [[1, 0.2]], 2);
 * assert.deepEqual(Array.from(near.rows), [0, 1]);
 * ```
 */
export async function nearestRows(
  index: VectorIndex,
  queries: ArrayLike<number>[],
  k: number,
): Promise<NearestRows[]> {
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`k must be a whole number ≥ 1, got ${k}`);
  const n = index.ids.length, d = index.dim;
  for (const q of queries) {
    if (q.length !== d) throw new ArgumentError(`a query of ${q.length} values: the index has ${d}`);
  }
  const units = queries.map(unitVector);
  if (n === 0) return units.map(() => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
  if (n < SCAN_THRESHOLD || k * 4 >= n) {
    return units.map((q) => {
      const scores = new Float32Array(n);
      for (let r = 0; r < n; r++) scores[r] = rowCosine(index, r, q);
      return topOf(scores, null, k);
    });
  }
  const mod = await import("usearch");
  const lib = ((mod as { default?: unknown }).default ?? mod) as Usearch;
  // candidates from the scan (a margin over k: its float32 sums may order near-ties otherwise), re-scored
  const count = Math.min(n, k + 64);
  const flat = new Float32Array(units.length * d);
  units.forEach((q, i) => flat.set(q, i * d));
  const found = lib.exactSearch(index.unit, flat, d, count, lib.MetricKind.IP, 0);
  return units.map((q, i) => {
    const rows = Int32Array.from(found.keys.subarray(i * count, (i + 1) * count), Number);
    const scores = Float32Array.from(rows, (r) => rowCosine(index, r, q));
    return topOf(scores, rows, k);
  });
}
