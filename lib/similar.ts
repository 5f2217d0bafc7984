/**
 * Exact nearest-neighbour search over stored song vectors: L2-normalised
 * float32 rows in one contiguous matrix, scored by a single pass of dot
 * products (cosine) or distances (Euclidean on the raw vectors).
 *
 * @module
 */

import { ArgumentError } from "./errors.ts";

/** Search metrics. */
export const METRICS = ["cosine", "euclidean"] as const;
/** One of {@linkcode METRICS}. */
export type Metric = typeof METRICS[number];

/** A search result. */
export interface Hit {
  id: string;
  /** Cosine similarity, or Euclidean distance. */
  score: number;
}

/**
 * An in-memory index of vectors.
 *
 * @example
 * ```ts
 * import { VectorIndex } from "./similar.ts";
 * const index = VectorIndex.from(new Map([["a", [1, 0]], ["b", [0, 1]], ["c", [1, 0.1]]]));
 * console.assert(index.search([1, 0], 1, "cosine")[0].id === "a");
 * ```
 */
export class VectorIndex {
  readonly ids: string[];
  readonly dim: number;
  /** Rows × dim, L2-normalised (cosine). */
  readonly unit: Float32Array;
  /** Rows × dim, as stored (Euclidean). */
  readonly raw: Float32Array;

  private constructor(ids: string[], dim: number, unit: Float32Array, raw: Float32Array) {
    this.ids = ids;
    this.dim = dim;
    this.unit = unit;
    this.raw = raw;
  }

  /** Build from id → vector. All vectors must have one length. */
  static from(vectors: Map<string, ArrayLike<number>>): VectorIndex {
    const ids = [...vectors.keys()];
    const dim = ids.length ? vectors.get(ids[0])!.length : 0;
    const unit = new Float32Array(ids.length * dim), raw = new Float32Array(ids.length * dim);
    ids.forEach((id, r) => {
      const v = vectors.get(id)!;
      if (v.length !== dim) throw new ArgumentError(`vector ${id} has ${v.length} values, the others ${dim}`);
      let s = 0;
      for (let d = 0; d < dim; d++) s += v[d] * v[d];
      const n = Math.sqrt(s) || 1;
      for (let d = 0; d < dim; d++) {
        raw[r * dim + d] = v[d];
        unit[r * dim + d] = v[d] / n;
      }
    });
    return new VectorIndex(ids, dim, unit, raw);
  }

  /** The k best matches of a query vector (excluding `exclude`, e.g. the query's own id). */
  search(query: ArrayLike<number>, k: number, metric: Metric = "cosine", exclude?: string): Hit[] {
    if (query.length !== this.dim) {
      throw new ArgumentError(`query has ${query.length} values, the index ${this.dim}`);
    }
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`-k must be a positive integer, got ${k}`);
    const n = this.ids.length, dim = this.dim;
    const scores = new Float32Array(n);
    if (metric === "cosine") {
      let s = 0;
      for (let d = 0; d < dim; d++) s += query[d] * query[d];
      const inv = 1 / (Math.sqrt(s) || 1);
      const q = Float32Array.from(query, (x) => x * inv);
      const m = this.unit;
      for (let r = 0, o = 0; r < n; r++, o += dim) {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += m[o + d] * q[d];
        scores[r] = dot;
      }
    } else {
      const q = Float32Array.from(query);
      const m = this.raw;
      for (let r = 0, o = 0; r < n; r++, o += dim) {
        let s = 0;
        for (let d = 0; d < dim; d++) {
          const x = m[o + d] - q[d];
          s += x * x;
        }
        scores[r] = Math.sqrt(s);
      }
    }
    // partial selection of the k best
    const better = metric === "cosine" ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    const top: Hit[] = [];
    for (let r = 0; r < n; r++) {
      if (this.ids[r] === exclude) continue;
      const s = scores[r];
      if (top.length < k || better(s, top[top.length - 1].score)) {
        let i = top.length < k ? top.length : k - 1;
        if (top.length < k) top.push({ id: "", score: 0 });
        while (i > 0 && better(s, top[i - 1].score)) {
          top[i] = top[i - 1];
          i--;
        }
        top[i] = { id: this.ids[r], score: s };
      }
    }
    return top;
  }
}
