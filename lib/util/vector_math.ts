/**
 * Vector arithmetic shared by every floor: cosine similarity, Euclidean
 * distance, L2 normalisation, and a finiteness check. Float64 throughout.
 *
 * @module
 */

/** Cosine similarity of two vectors (0 when either is all zeros). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Euclidean distance. */
export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** L2-normalised copy. */
export function normalize(v: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s) || 1;
  return Float64Array.from(v, (x) => x / n);
}

/**
 * How many values are NaN or ±Infinity (0 for a vector that may be stored or ranked).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countNonFinite } from "./vector_math.ts";
 * assert.equal(countNonFinite([1, NaN, Infinity, -2]), 2);
 * ```
 */
export function countNonFinite(v: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) n++;
  return n;
}
