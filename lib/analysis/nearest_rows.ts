/**
 * The rows of a vector index nearest to several query directions at once,
 * by cosine: a plain loop over the unit rows for small collections, usearch's
 * SIMD scan of the float32 rows on every core for large ones (one pass over
 * the matrix for all queries). Every score returned is the exact cosine,
 * computed here; only the choice of candidates comes from the scan.
 *
 * Many queries that are combinations of a few vectors (the points of a
 * path, all in the planes of its anchors) cost one scan of those few
 * ({@linkcode nearestRowsInSpan}): a row's score for each point is then the
 * same combination of its scores for the anchors.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import type { VectorIndex } from "./vector_index.ts";
import { loadUsearch } from "./usearch.ts";

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

/** The `k` best of `scores` (ties to the lower row), best first; `scratch` holds a row index per score. */
function topOf(
  scores: Float32Array,
  rows: Int32Array | null,
  k: number,
  scratch: Int32Array = new Int32Array(scores.length),
): NearestRows {
  const n = scores.length;
  k = Math.min(k, n);
  // a threshold from a sample, then a sort of what passes it (a full sort of a million keys is slower)
  let cut = -Infinity;
  if (n > 4 * k && n > 4096) {
    const sample = Float32Array.from({ length: 4096 }, (_, i) => scores[Math.floor((i * n) / 4096)]).sort();
    cut = sample[Math.max(0, 4096 - Math.ceil((4096 * 2 * k) / n) - 1)];
  }
  let m = 0;
  for (let r = 0; r < n; r++) if (scores[r] >= cut) scratch[m++] = r;
  if (m < k) { for (m = 0; m < n; m++) scratch[m] = m; }
  const sorted = Array.from(scratch.subarray(0, m)).sort((a, b) => scores[b] - scores[a] || a - b).slice(
    0,
    k,
  );
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
  const lib = await loadUsearch();
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

/**
 * The `k` rows nearest each query (by cosine, best first) where query j is `Σ_b weights[j][b] · unit(basis[b])`:
 * the same answer as {@linkcode nearestRows} on those queries, for the cost of scanning the few basis vectors
 * (a path of 30 songs between two anchors: 2 scans, not 28). Each row's cosine with every basis vector is
 * computed once (by usearch's SIMD scan for large collections, here for small ones); a query's candidates are
 * the rows whose combination of those is highest, with a margin, and are then scored exactly against the
 * query itself.
 *
 * @throws {ArgumentError} for a basis vector of another length than the index's, a weight row of another
 *   length than the basis, a non-finite weight, or a `k` below 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VectorIndex } from "./vector_index.ts";
 * import { nearestRowsInSpan } from "./nearest_rows.ts";
 * const index = VectorIndex.from(new Map([["a", [1, 0]], ["b", [0.7, 0.7]], ["c", [0, 1]]]));
 * // half way between the two axes: b first
 * const [near] = await nearestRowsInSpan(index, [[1, 0], [0, 1]], [[0.5, 0.5]], 1);
 * assert.deepEqual(Array.from(near.rows), [1]);
 * ```
 */
export async function nearestRowsInSpan(
  index: VectorIndex,
  basis: ArrayLike<number>[],
  weights: number[][],
  k: number,
): Promise<NearestRows[]> {
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`k must be a whole number ≥ 1, got ${k}`);
  const n = index.ids.length, d = index.dim, b = basis.length;
  for (const q of basis) {
    if (q.length !== d) throw new ArgumentError(`a basis vector of ${q.length} values: the index has ${d}`);
  }
  for (const w of weights) {
    if (w.length !== b) throw new ArgumentError(`a weight row of ${w.length} values: the basis has ${b}`);
    if (!w.every(Number.isFinite)) throw new ArgumentError(`weights must be finite, got [${w.join(", ")}]`);
  }
  const units = basis.map(unitVector);
  const queries = weights.map((w) => {
    const q = new Float32Array(d);
    w.forEach((x, j) => {
      if (x !== 0) { for (let i = 0; i < d; i++) q[i] += x * units[j][i]; }
    });
    return unitVector(q);
  });
  if (n === 0) return queries.map(() => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
  // every row's cosine with every basis vector
  const along = units.map(() => new Float32Array(n));
  if (n < SCAN_THRESHOLD) {
    for (let r = 0; r < n; r++) units.forEach((u, j) => along[j][r] = rowCosine(index, r, u));
  } else {
    const lib = await loadUsearch();
    // a few basis vectors at a time: the scan returns every row's key and distance (12 bytes a row each)
    for (let from = 0; from < b; from += 4) {
      const part = units.slice(from, from + 4);
      const flat = new Float32Array(part.length * d);
      part.forEach((u, i) => flat.set(u, i * d));
      const all = lib.exactSearch(index.unit, flat, d, n, lib.MetricKind.IP, 0);
      part.forEach((_, i) => {
        const out = along[from + i];
        for (let at = i * n, end = at + n; at < end; at++) out[Number(all.keys[at])] = 1 - all.distances[at];
      });
    }
  }
  const count = Math.min(n, k + 64);
  const score = new Float32Array(n);
  const kept = new Int32Array(n);
  return queries.map((q, j) => {
    score.fill(0);
    weights[j].forEach((x, i) => {
      if (x === 0) return;
      const a = along[i];
      for (let r = 0; r < n; r++) score[r] += x * a[r];
    });
    const rows = topOf(score, null, count, kept).rows;
    const exact = Float32Array.from(rows, (r) => rowCosine(index, r, q));
    return topOf(exact, rows, k);
  });
}
