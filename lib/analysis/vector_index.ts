/**
 * Exact nearest-neighbour search over stored song vectors: L2-normalised
 * float32 rows in one contiguous matrix, scored by a single pass of dot
 * products (cosine) or distances (Euclidean on the raw vectors).
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { Store } from "../store/sqlite_store.ts";

/** Search metrics. */
export const METRICS = ["cosine", "euclidean"] as const;
/** One of {@linkcode METRICS}. */
export type Metric = typeof METRICS[number];

/** A search result. */
export interface Hit {
  /** The song's id. */
  id: string;
  /** Cosine similarity, or Euclidean distance. */
  score: number;
}

/**
 * An in-memory index of vectors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VectorIndex } from "./vector_index.ts";
 * const index = VectorIndex.from(new Map([["a", [1, 0]], ["b", [0, 1]], ["c", [1, 0.1]]]));
 * assert.ok(index.search([1, 0], 1, "cosine")[0].id === "a");
 * ```
 */
export class VectorIndex {
  /** Song ids, one per row. */
  readonly ids: string[];
  /** Values per vector. */
  readonly dim: number;
  /** Rows × dim, each row L2-normalised. */
  readonly unit: Float32Array;
  /** The L2 norm of each stored vector (Euclidean distances come from `unit` and these). */
  readonly norms: Float32Array;

  private constructor(ids: string[], dim: number, unit: Float32Array, norms: Float32Array) {
    this.ids = ids;
    this.dim = dim;
    this.unit = unit;
    this.norms = norms;
  }

  #rows?: Map<string, number>;

  /** The row of an id, or -1. */
  row(id: string): number {
    this.#rows ??= new Map(this.ids.map((x, i) => [x, i]));
    return this.#rows.get(id) ?? -1;
  }

  /** The stored vector of row `r` (unit row × norm). */
  vector(r: number): Float32Array {
    const n = this.norms[r];
    return this.unit.slice(r * this.dim, (r + 1) * this.dim).map((x) => x * n);
  }

  /** Wrap unit rows and norms as they are (from a cache). */
  static fromParts(ids: string[], dim: number, unit: Float32Array, norms: Float32Array): VectorIndex {
    return new VectorIndex(ids, dim, unit, norms);
  }

  /** Build from id → vector. All vectors must have one length. */
  static from(vectors: Map<string, ArrayLike<number>>): VectorIndex {
    return VectorIndex.fromRows([...vectors].map(([id, vector]) => ({ id, vector })));
  }

  /** Build from a stream of rows, without holding them all (one float32 matrix grows instead). */
  static fromRows(rows: Iterable<{ id: string; vector: ArrayLike<number> }>): VectorIndex {
    const ids: string[] = [];
    let dim = -1;
    let raw = new Float32Array(0);
    for (const { id, vector } of rows) {
      if (dim < 0) dim = vector.length;
      if (vector.length !== dim) {
        throw new ArgumentError(`vector ${id} has ${vector.length} values, the others ${dim}`);
      }
      const need = (ids.length + 1) * dim;
      if (need > raw.length) {
        const grown = new Float32Array(Math.max(need, raw.length * 2));
        grown.set(raw);
        raw = grown;
      }
      raw.set(vector, ids.length * dim);
      ids.push(id);
    }
    return VectorIndex.fromMatrix(ids, Math.max(0, dim), raw.subarray(0, ids.length * Math.max(0, dim)));
  }

  /** Wrap a row-major float32 matrix (normalised in place: it becomes `unit`). */
  static fromMatrix(ids: string[], dim: number, raw: Float32Array): VectorIndex {
    const norms = new Float32Array(ids.length);
    for (let r = 0, o = 0; r < ids.length; r++, o += dim) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += raw[o + d] * raw[o + d];
      const n = Math.sqrt(s);
      norms[r] = n;
      const inv = 1 / (n || 1);
      for (let d = 0; d < dim; d++) raw[o + d] *= inv;
    }
    return new VectorIndex(ids, dim, raw, norms);
  }

  /** The k best matches of a query vector (excluding `exclude`, e.g. the query's own id). */
  search(query: ArrayLike<number>, k: number, metric: Metric = "cosine", exclude?: string): Hit[] {
    if (query.length !== this.dim) {
      throw new ArgumentError(`query has ${query.length} values, the index ${this.dim}`);
    }
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`-k must be a positive integer, got ${k}`);
    const n = this.ids.length, dim = this.dim;
    const scores = new Float32Array(n);
    let qq = 0;
    for (let d = 0; d < dim; d++) qq += query[d] * query[d];
    const qn = Math.sqrt(qq);
    const q = Float32Array.from(query, (x) => x / (qn || 1));
    const m = this.unit;
    for (let r = 0, o = 0; r < n; r++, o += dim) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += m[o + d] * q[d];
      scores[r] = dot;
    }
    if (metric === "euclidean") {
      // |x − q|² = |x|² + |q|² − 2 |x| |q| (x̂ · q̂)
      for (let r = 0; r < n; r++) {
        const xn = this.norms[r];
        scores[r] = Math.sqrt(Math.max(0, xn * xn + qq - 2 * xn * qn * scores[r]));
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

const CACHE_MAGIC = "OL3VIDX1";

/** Serialise an index with the store's vectors version. */
export function encodeIndexCache(index: VectorIndex, version: number): Uint8Array {
  const ids = new TextEncoder().encode(JSON.stringify(index.ids));
  const head = 8 + 8 + 4 + 4 + 4;
  const pad = (4 - ((head + ids.length) % 4)) % 4;
  const out = new Uint8Array(head + ids.length + pad + index.norms.byteLength + index.unit.byteLength);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(CACHE_MAGIC), 0);
  view.setFloat64(8, version, true);
  view.setUint32(16, index.ids.length, true);
  view.setUint32(20, index.dim, true);
  view.setUint32(24, ids.length, true);
  out.set(ids, head);
  const at = head + ids.length + pad;
  out.set(new Uint8Array(index.norms.buffer, index.norms.byteOffset, index.norms.byteLength), at);
  out.set(
    new Uint8Array(index.unit.buffer, index.unit.byteOffset, index.unit.byteLength),
    at + index.norms.byteLength,
  );
  return out;
}

/** Read an index cache; null when it is missing, corrupt or not of this version. */
export function decodeIndexCache(bytes: Uint8Array, version: number): VectorIndex | null {
  if (bytes.length < 28 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CACHE_MAGIC) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getFloat64(8, true) !== version) return null;
  const count = view.getUint32(16, true), dim = view.getUint32(20, true), idLen = view.getUint32(24, true);
  const start = 28 + idLen + ((4 - ((28 + idLen) % 4)) % 4);
  if (start + count * 4 + count * dim * 4 !== bytes.length || (bytes.byteOffset + start) % 4 !== 0) {
    return null;
  }
  try {
    const ids = JSON.parse(new TextDecoder().decode(bytes.subarray(28, 28 + idLen))) as string[];
    if (ids.length !== count) return null;
    // views on the file's bytes: no copy
    const norms = new Float32Array(bytes.buffer, bytes.byteOffset + start, count);
    const unit = new Float32Array(bytes.buffer, bytes.byteOffset + start + count * 4, count * dim);
    return VectorIndex.fromParts(ids, dim, unit, norms);
  } catch {
    return null;
  }
}

/**
 * The index of every stored vector, from a cache file beside the database
 * (`<db>.vectors-cache`) when it matches the store's vectors version, else
 * read from SQLite and cached (best effort: a read-only folder just means no cache).
 */
export function loadIndex(dbPath: string): VectorIndex {
  const store = Store.open(dbPath, { readOnly: true });
  try {
    store.db.exec("BEGIN"); // one consistent snapshot: the version and the rows agree
    try {
      const version = store.vectorsVersion();
      const cachePath = `${dbPath}.vectors-cache`;
      if (version >= 0) {
        try {
          const cached = decodeIndexCache(Deno.readFileSync(cachePath), version);
          if (cached) return cached;
        } catch { /* no cache yet */ }
      }
      const index = VectorIndex.fromRows(store.vectorRows());
      if (version >= 0) {
        try {
          const tmp = `${cachePath}.${crypto.randomUUID()}.tmp`;
          Deno.writeFileSync(tmp, encodeIndexCache(index, version));
          Deno.renameSync(tmp, cachePath);
        } catch { /* not writable: no cache */ }
      }
      return index;
    } finally {
      store.db.exec("COMMIT");
    }
  } finally {
    store.close();
  }
}
