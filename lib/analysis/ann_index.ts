/**
 * Similarity over millions of songs: the unit vectors — an int8 copy of them,
 * or the float32 rows themselves — are scanned with SIMD (usearch's
 * `exactSearch`, on every core) to propose candidates, which are re-ranked
 * exactly ({@linkcode VectorIndex.searchRows}). Above
 * {@linkcode ANN_THRESHOLD} songs the explorer scans int8 codes (built once,
 * then fastest per query) and `similar` the float32 rows (one query: no
 * build).
 *
 * Why a quantized scan and not a graph (HNSW): on this project's benchmark
 * (`deno task bench-ann`, random 512-d vectors, 2 cores) an HNSW graph (M 32,
 * ef 1 024, 1 024 candidates re-ranked) reached recall@10 0.80 at 100 000
 * songs after a 148 s build, where the int8 scan gives 1.00 after 0.6 s: random
 * high-dimensional vectors have no neighbourhoods for a graph to follow, and
 * the scan's int8 codes keep every dimension.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { countNonFinite } from "../util/vector_math.ts";
import type { Hit, VectorIndex } from "./vector_index.ts";
import { loadUsearch, type Usearch } from "./usearch.ts";

/** Songs from which the SIMD scan is used (below, the plain exact search is fast enough). */
export const ANN_THRESHOLD = 50_000;

/** What the scan reads: int8 codes (a quarter of the memory, built once) or the float32 rows. */
export type ScanPrecision = "i8" | "f32";

/**
 * Codes of a vector index's unit rows (int8 scaled per dimension, or the float32 rows), scanned to propose
 * candidates that are then re-ranked exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VectorIndex } from "./vector_index.ts";
 * import { QuantizedIndex } from "./ann_index.ts";
 *
 * const exact = VectorIndex.from(new Map([["a", [1, 0]], ["b", [0.8, 0.6]], ["c", [0, 1]]]));
 * const index = await QuantizedIndex.build(exact);
 * assert.deepEqual(index.search([1, 0.1], 2).map((h) => h.id), ["a", "b"]);
 * ```
 */
export class QuantizedIndex {
  /** The exact index it re-ranks with. */
  readonly exact: VectorIndex;
  /**
   * Row-major codes: int8, row r, dimension d = round(127 · (unit[r, d] − mean[d]) / scale[d]); or the
   * float32 unit rows themselves.
   */
  readonly codes: Int8Array | Float32Array;
  /** The largest |unit[·, d] − mean[d]| of each dimension (int8 codes; ones for float32). */
  readonly scale: Float32Array;
  readonly #lib: Usearch;

  private constructor(
    exact: VectorIndex,
    codes: Int8Array | Float32Array,
    scale: Float32Array,
    lib: Usearch,
  ) {
    this.exact = exact;
    this.codes = codes;
    this.scale = scale;
    this.#lib = lib;
  }

  /**
   * Quantize every row of `exact` (one pass for the scales, one for the codes), or with `"f32"` scan its
   * rows as they are.
   */
  static async build(exact: VectorIndex, precision: ScanPrecision = "i8"): Promise<QuantizedIndex> {
    if (precision !== "i8" && precision !== "f32") {
      throw new ArgumentError(`precision must be "i8" or "f32", got "${precision}"`);
    }
    const lib = await loadUsearch();
    const n = exact.ids.length, d = exact.dim, unit = exact.unit;
    if (precision === "f32") return new QuantizedIndex(exact, unit, new Float32Array(d).fill(1), lib);
    // Centred: q · x = q · (x − mean) + q · mean, and the last term is the same for every row, so the ranking
    // is that of q · (x − mean). Embeddings share a large common part (max-pooled ReLU outputs are all
    // positive); coding what is left of it keeps the codes' resolution on what tells songs apart.
    const mean = new Float64Array(d);
    for (let o = 0; o < n * d; o += d) for (let i = 0; i < d; i++) mean[i] += unit[o + i];
    for (let i = 0; i < d; i++) mean[i] /= n || 1;
    const scale = new Float32Array(d);
    for (let o = 0; o < n * d; o += d) {
      for (let i = 0; i < d; i++) {
        const a = Math.abs(unit[o + i] - mean[i]);
        if (a > scale[i]) scale[i] = a;
      }
    }
    const inv = Float64Array.from(scale, (s) => s > 0 ? 127 / s : 0);
    const codes = new Int8Array(n * d);
    for (let o = 0; o < n * d; o += d) {
      for (let i = 0; i < d; i++) codes[o + i] = Math.round((unit[o + i] - mean[i]) * inv[i]);
    }
    return new QuantizedIndex(exact, codes, scale, lib);
  }

  /**
   * The `k` nearest rows to `query` by cosine, `exclude` (an id) left out: the `candidates` best by the int8
   * inner product, re-ranked with the exact cosines. The query is coded as q[d] · scale[d], so that its
   * inner product with a row's codes ranks the rows as the cosine does, up to rounding.
   */
  search(
    query: ArrayLike<number>,
    k: number,
    exclude?: string,
    candidates: number = Math.max(1024, 4 * k),
  ): Hit[] {
    const d = this.exact.dim, n = this.exact.ids.length;
    if (query.length !== d) throw new ArgumentError(`query has ${query.length} values, the index ${d}`);
    if (!Number.isInteger(candidates) || candidates < 1) {
      throw new ArgumentError(`candidates must be a positive integer, got ${candidates}`);
    }
    if (countNonFinite(query) > 0) throw new ArgumentError("the query vector holds NaN or infinite values");
    if (n === 0) return [];
    const weighted = Float64Array.from({ length: d }, (_, i) => query[i] * this.scale[i]);
    let top = 0;
    for (const w of weighted) if (Math.abs(w) > top) top = Math.abs(w);
    // a query orthogonal to every stored dimension (all zero): every candidate is as good as another
    const code = this.codes instanceof Float32Array
      ? Float32Array.from(weighted, (w) => top > 0 ? w / top : 0)
      : Int8Array.from(weighted, (w) => top > 0 ? Math.round(127 * w / top) : 0);
    const count = Math.min(n, candidates + (exclude === undefined ? 0 : 1));
    const found = this.#lib.exactSearch(this.codes, code, d, count, this.#lib.MetricKind.IP, 0);
    const rows = Array.from(found.keys, Number);
    return this.exact.searchRows(query, rows, k, exclude);
  }
}
