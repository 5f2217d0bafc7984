/**
 * Exact nearest-neighbour search over stored song vectors: L2-normalised
 * float32 rows in one contiguous matrix, scored by a single pass of dot
 * products (cosine) or distances (Euclidean on the raw vectors).
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { countNonFinite } from "../util/vector_math.ts";
import type { RejectedVector } from "../store/vector_codec.ts";
import type { SongStore } from "../store/store.ts";
import { writeFileAtomicSync } from "../util/atomic_file.ts";

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

  #check(query: ArrayLike<number>, k: number) {
    if (query.length !== this.dim) {
      throw new ArgumentError(`query has ${query.length} values, the index ${this.dim}`);
    }
    if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`-k must be a positive integer, got ${k}`);
    if (countNonFinite(query) > 0) throw new ArgumentError("the query vector holds NaN or infinite values");
  }

  /** The query as a float32 unit vector, and its norm. */
  #unitQuery(query: ArrayLike<number>): { q: Float32Array; qq: number; qn: number } {
    let qq = 0;
    for (let d = 0; d < this.dim; d++) qq += query[d] * query[d];
    const qn = Math.sqrt(qq);
    return { q: Float32Array.from(query, (x) => x / (qn || 1)), qq, qn };
  }

  /** The cosine of unit query `q` with row `r`, as {@linkcode search} computes it. */
  #cosine(q: Float32Array, r: number): number {
    const m = this.unit, dim = this.dim, o = r * dim;
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += m[o + d] * q[d];
    return Math.fround(dot);
  }

  /**
   * The k best matches by cosine among the given rows only (candidates from an approximate index): the same
   * scores and the same order as {@linkcode search} gives them when the k best are among the rows.
   */
  searchRows(query: ArrayLike<number>, rows: ArrayLike<number>, k: number, exclude?: string): Hit[] {
    this.#check(query, k);
    const { q } = this.#unitQuery(query);
    const sorted = Int32Array.from(rows).sort(); // ties go to the earlier row, as in a full search
    const hits: { r: number; score: number }[] = [];
    for (const r of sorted) {
      if (r < 0 || r >= this.ids.length) throw new ArgumentError(`row ${r} is not in the index`);
      if (this.ids[r] !== exclude) hits.push({ r, score: this.#cosine(q, r) });
    }
    hits.sort((a, b) => b.score - a.score || a.r - b.r);
    return hits.slice(0, k).map((h) => ({ id: this.ids[h.r], score: h.score }));
  }

  /** The k best matches of a query vector (excluding `exclude`, e.g. the query's own id). */
  search(query: ArrayLike<number>, k: number, metric: Metric = "cosine", exclude?: string): Hit[] {
    this.#check(query, k);
    const n = this.ids.length;
    const scores = new Float32Array(n);
    const { q, qq, qn } = this.#unitQuery(query);
    for (let r = 0; r < n; r++) scores[r] = this.#cosine(q, r);
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

const CACHE_MAGIC = "OL3VIDX2";

/** What a cache file was made from: the database's identity, and the rows left out of it. */
export interface CacheKey {
  /** The database's random id (meta `database_id`). */
  databaseId: number;
  /** Its vectors counter when the cache was written. */
  version: number;
  /** Rows in `songs_vectors` then (indexed and left out together). */
  rows: number;
  /** The rows left out, with the reason, reported again on every load. */
  rejected: RejectedVector[];
}

/** Serialise an index with the key it must match. */
export function encodeIndexCache(index: VectorIndex, key: CacheKey): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify({ ...key, ids: index.ids }));
  const head = 8 + 4 + 4 + 4;
  const pad = (4 - ((head + text.length) % 4)) % 4;
  const out = new Uint8Array(head + text.length + pad + index.norms.byteLength + index.unit.byteLength);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(CACHE_MAGIC), 0);
  view.setUint32(8, index.ids.length, true);
  view.setUint32(12, index.dim, true);
  view.setUint32(16, text.length, true);
  out.set(text, head);
  const at = head + text.length + pad;
  out.set(new Uint8Array(index.norms.buffer, index.norms.byteOffset, index.norms.byteLength), at);
  out.set(
    new Uint8Array(index.unit.buffer, index.unit.byteOffset, index.unit.byteLength),
    at + index.norms.byteLength,
  );
  return out;
}

/** Read an index cache and its key; null when it is not a whole, well-formed cache. */
export function decodeIndexCache(bytes: Uint8Array): { index: VectorIndex; key: CacheKey } | null {
  if (bytes.length < 20 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CACHE_MAGIC) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8, true), dim = view.getUint32(12, true), textLen = view.getUint32(16, true);
  const start = 20 + textLen + ((4 - ((20 + textLen) % 4)) % 4);
  if (start + count * 4 + count * dim * 4 !== bytes.length || (bytes.byteOffset + start) % 4 !== 0) {
    return null;
  }
  try {
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + textLen))) as CacheKey & {
      ids: string[];
    };
    if (!Array.isArray(meta.ids) || meta.ids.length !== count) return null;
    // views on the file's bytes: no copy
    const norms = new Float32Array(bytes.buffer, bytes.byteOffset + start, count);
    const unit = new Float32Array(bytes.buffer, bytes.byteOffset + start + count * 4, count * dim);
    // the numbers are checked too: finite, positive norms and unit rows (a tampered cache is rebuilt, never
    // ranked: a row scaled by 1e31 would otherwise rank first against everything)
    for (let r = 0; r < count; r++) {
      if (!(Number.isFinite(norms[r]) && norms[r] >= 0)) return null;
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += unit[r * dim + d] * unit[r * dim + d];
      if (!(Math.abs(sum - 1) < 1e-3 || (sum === 0 && norms[r] === 0))) return null;
    }
    const { ids, ...key } = meta;
    return { index: VectorIndex.fromParts(ids, dim, unit, norms), key };
  } catch {
    return null;
  }
}

/** The index of a database's vectors, and the rows left out of it. */
export interface LoadedIndex {
  /** The sound vectors. */
  index: VectorIndex;
  /** Stored vectors that are not sound (NaN, wrong length): never ranked; warn about them. */
  rejected: RejectedVector[];
  /** True when it came from the cache file. */
  cached: boolean;
}

/**
 * The index of every sound stored vector, from a cache file beside the
 * database (`<cache base>.vectors-cache`: beside a SQLite file, in this
 * user's cache folder for a server) when it is this database's (its random
 * id), of its current vectors (the change counter and the row count), and
 * holds exactly its ids; else read from the store and cached (best effort:
 * a read-only folder just means no cache). A database without an id (the
 * original project's) is read every time.
 */
export async function loadIndex(store: SongStore): Promise<LoadedIndex> {
  const base = await store.cacheBase();
  return await store.snapshot((view) => {
    const identity = view.identity;
    const cachePath = base === null ? null : `${base}.vectors-cache`;
    if (identity && cachePath) {
      let hit: ReturnType<typeof decodeIndexCache> = null;
      try {
        hit = decodeIndexCache(Deno.readFileSync(cachePath));
      } catch { /* no cache yet */ }
      if (
        hit && hit.key.databaseId === identity.databaseId && hit.key.version === identity.version &&
        hit.key.rows === identity.rows && sameIds(hit, view.songIds())
      ) {
        return { index: hit.index, rejected: hit.key.rejected, cached: true };
      }
    }
    const rejected: RejectedVector[] = [];
    const index = VectorIndex.fromRows(view.vectorRows((r) => rejected.push(r)));
    if (identity && cachePath) {
      try {
        writeFileAtomicSync(cachePath, encodeIndexCache(index, { ...identity, rejected }));
      } catch { /* not writable, or the disk is full: no cache, and no temporary file left */ }
    }
    return { index, rejected, cached: false };
  });
}

/** The cache's ids, with the rows it left out, are exactly the database's ids. */
function sameIds(hit: { index: VectorIndex; key: CacheKey }, stored: string[]): boolean {
  if (hit.index.ids.length + hit.key.rejected.length !== stored.length) return false;
  const cached = [...hit.index.ids, ...hit.key.rejected.map((r) => r.songId)].sort();
  const now = [...stored].sort(); // one collation for both (SQLite's differs from JavaScript's beyond the BMP)
  return cached.every((id, i) => id === now[i]);
}
