/**
 * The map of a collection: every song a point in 2-D, and a k-means cluster
 * per song for colour. Exact t-SNE up to {@linkcode TSNE_MAX_SONGS} songs
 * (the map `compare` draws); above, UMAP on a 15-nearest-neighbour graph of
 * the vectors' 50-component PCA projection (exact neighbours up to 5 000
 * songs, usearch's HNSW graph above), started from the 2-component PCA.
 * Cached beside the database, keyed by its identity and change counter. Songs
 * added since the map was laid out are placed at the mean position of their
 * nearest mapped songs (the map stays put) until they are more than a tenth
 * of it (and more than {@linkcode MIN_PLACED}).
 *
 * @module
 */

import { approximateKnn, exactKnn } from "./knn.ts";
import { pcaProject } from "./pca.ts";
import { umapLayout } from "./umap.ts";
import { tsneMap } from "./tsne_map.ts";
import { kMeans } from "./kmeans.ts";
import type { Hit, VectorIndex } from "./vector_index.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";

/** Largest collection mapped by exact t-SNE. */
export const TSNE_MAX_SONGS = 2000;
/** Largest collection whose neighbour graph is computed exactly. */
export const EXACT_KNN_MAX_SONGS = 5000;

/** A computed map. */
export interface CollectionMap {
  /** n × 2 coordinates, in the index's row order. */
  xy: Float32Array;
  /** k-means cluster of each song. */
  clusters: Int32Array;
  /** How it was made, for the page and the README ("exact t-SNE", "UMAP, HNSW neighbours", …). */
  method: string;
  /** Songs added after the layout, placed at the mean position of their nearest mapped songs. */
  placed: number;
}

/** Songs added to a map, as a share of its songs, beyond which it is laid out again. */
export const MAX_PLACED_SHARE = 0.1;
/** Songs that may always be placed, however small the map (a new layout would move every song). */
export const MIN_PLACED = 10;
/** Nearest mapped songs whose mean position places an added song. */
export const PLACEMENT_NEIGHBOURS = 5;

/** Options of {@linkcode computeMap}. */
export interface MapOptions {
  /**
   * Seed of every random step.
   * @default {42}
   */
  seed?: number;
  /** Progress: a stage name, and how far it is (0–1). */
  onProgress?: (stage: string, fraction: number) => void;
}

/** Number of k-means clusters for `n` songs: about √(n/4), 2 to 12. */
export function clusterCount(n: number): number {
  return Math.max(1, Math.min(12, Math.min(n, Math.max(2, Math.round(Math.sqrt(n / 4))))));
}

/** Compute the map of every song in `index`. */
export async function computeMap(index: VectorIndex, options: MapOptions = {}): Promise<CollectionMap> {
  const n = index.ids.length, d = index.dim;
  const seed = options.seed ?? 42;
  const progress = options.onProgress ?? (() => {});
  if (n === 0) return { xy: new Float32Array(0), clusters: new Int32Array(0), method: "empty", placed: 0 };
  if (n === 1) return { xy: new Float32Array(2), clusters: new Int32Array(1), method: "one song", placed: 0 };
  const rows = (x: Float32Array, dim: number) =>
    Array.from({ length: n }, (_, i) => Float64Array.from(x.subarray(i * dim, (i + 1) * dim)));
  if (n <= TSNE_MAX_SONGS) {
    progress("t-SNE", 0);
    const vectors = rows(index.unit, d);
    const t = tsneMap(vectors, { seed, maxPoints: TSNE_MAX_SONGS });
    const xy = new Float32Array(n * 2);
    t.indices.forEach((row, i) => {
      xy[2 * row] = t.points[i][0];
      xy[2 * row + 1] = t.points[i][1];
    });
    progress("k-means", 0);
    const clusters = Int32Array.from(kMeans(vectors, clusterCount(n), seed));
    return { xy, clusters, method: `exact t-SNE (perplexity ${t.perplexity})`, placed: 0 };
  }
  progress("PCA", 0);
  const dims = Math.min(50, d);
  const x = pcaProject(index.unit, n, d, dims, { seed });
  progress("neighbours", 0);
  const exact = n <= EXACT_KNN_MAX_SONGS;
  const graph = exact ? exactKnn(x, n, dims, 15) : await approximateKnn(x, n, dims, 15);
  // start from the first two principal components, scaled to ±10 as umap-learn's "pca" init
  const init = new Float32Array(n * 2);
  let max = 0;
  for (let i = 0; i < n; i++) {
    init[2 * i] = x[i * dims];
    init[2 * i + 1] = x[i * dims + 1];
    max = Math.max(max, Math.abs(init[2 * i]), Math.abs(init[2 * i + 1]));
  }
  for (let i = 0; i < init.length; i++) init[i] *= 10 / (max || 1);
  const xy = umapLayout(graph, init, {
    seed,
    onEpoch: (e, total) => {
      if (e % 10 === 0 || e === total) progress("UMAP", e / total);
    },
  });
  progress("k-means", 0);
  const clusters = Int32Array.from(kMeans(rows(x, dims), clusterCount(n), seed, 30));
  return {
    xy,
    clusters,
    method: `UMAP (15 neighbours${exact ? "" : " from an HNSW graph"}, PCA to ${dims} dimensions)`,
    placed: 0,
  };
}

/** A map and the index it was made for. */
export interface MappedIndex {
  /** The vectors, in the map's row order. */
  index: VectorIndex;
  /** Their map. */
  map: CollectionMap;
}

/**
 * The previous map kept, with the songs added since placed at the mean position of their
 * {@linkcode PLACEMENT_NEIGHBOURS} nearest previous songs (cosine; `nearest` searches `previous.index`) and
 * given the cluster most of them have. Null when the previous map cannot be kept: a song was removed or its
 * vector changed, or the placed songs would be more than {@linkcode MAX_PLACED_SHARE} of the map and more than
 * {@linkcode MIN_PLACED}.
 */
export function extendMap(
  previous: MappedIndex,
  index: VectorIndex,
  nearest: (v: ArrayLike<number>, k: number) => Hit[] = (v, k) => previous.index.search(v, k, "cosine"),
): CollectionMap | null {
  const old = previous.index, n = index.ids.length, d = index.dim;
  if (old.dim !== d || old.ids.length === 0) return null;
  const oldRow = new Map(old.ids.map((id, r) => [id, r]));
  const added: number[] = [];
  let kept = 0;
  for (let r = 0; r < n; r++) {
    const o = oldRow.get(index.ids[r]);
    if (o === undefined) {
      added.push(r);
      continue;
    }
    if (index.norms[r] !== old.norms[o]) return null;
    for (let i = 0; i < d; i++) if (index.unit[r * d + i] !== old.unit[o * d + i]) return null;
    kept++;
  }
  if (kept !== old.ids.length) return null;
  const placed = previous.map.placed + added.length;
  if (placed > Math.max(MAX_PLACED_SHARE * n, MIN_PLACED)) return null;
  const xy = new Float32Array(n * 2), clusters = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const o = oldRow.get(index.ids[r]);
    if (o === undefined) continue;
    xy[2 * r] = previous.map.xy[2 * o];
    xy[2 * r + 1] = previous.map.xy[2 * o + 1];
    clusters[r] = previous.map.clusters[o];
  }
  for (const r of added) {
    const near = nearest(index.vector(r), PLACEMENT_NEIGHBOURS).map((h) => oldRow.get(h.id)!);
    const at = placeAmong(previous.map, near);
    [xy[2 * r], xy[2 * r + 1]] = at.position;
    clusters[r] = at.cluster;
  }
  return { xy, clusters, method: previous.map.method, placed };
}

/**
 * Where a song goes on `map` given the rows of its nearest mapped songs, nearest first: their mean position,
 * and the cluster most of them have (on a tie, the nearer song's).
 */
export function placeAmong(
  map: CollectionMap,
  near: number[],
): { position: [number, number]; cluster: number } {
  let x = 0, y = 0;
  const votes = new Map<number, number>();
  for (const o of near) {
    x += map.xy[2 * o];
    y += map.xy[2 * o + 1];
    votes.set(map.clusters[o], (votes.get(map.clusters[o]) ?? 0) + 1);
  }
  // Map keeps the order of first votes, so a tie goes to the nearer song's cluster
  const cluster = [...votes].reduce((best, v) => v[1] > best[1] ? v : best)[0];
  return { position: [x / near.length, y / near.length], cluster };
}

/** What a cached map belongs to (as for the vector cache). */
export interface MapKey {
  /** The database's random id. */
  databaseId: number;
  /** Its vectors' change counter. */
  version: number;
  /** Rows mapped. */
  rows: number;
}

/** Options of {@linkcode loadMap}. */
export interface LoadMapOptions extends MapOptions {
  /** The map in use, kept with the new songs placed when {@linkcode extendMap} allows. */
  previous?: MappedIndex;
  /** Nearest songs of `previous.index` (a faster search than its exact one, for large collections). */
  nearest?: (v: ArrayLike<number>, k: number) => Hit[];
  /**
   * What computes a new map (the explorer passes `computeMapInThread`, so its server answers meanwhile).
   * @default {computeMap}
   */
  compute?: (index: VectorIndex, options: MapOptions) => Promise<CollectionMap>;
}

/** Serialise a map with its key: a JSON header, then the coordinates and clusters. */
export function encodeMap(map: CollectionMap, key: MapKey): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ ...key, method: map.method, placed: map.placed }));
  const out = new Uint8Array(4 + header.length + map.xy.byteLength + map.clusters.byteLength);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(new Uint8Array(map.xy.buffer, map.xy.byteOffset, map.xy.byteLength), 4 + header.length);
  out.set(
    new Uint8Array(map.clusters.buffer, map.clusters.byteOffset, map.clusters.byteLength),
    4 + header.length + map.xy.byteLength,
  );
  return out;
}

/** Read back what {@linkcode encodeMap} wrote, or null when it is not a whole map. */
export function decodeMap(bytes: Uint8Array): { map: CollectionMap; key: MapKey } | null {
  try {
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len)));
    const n = h.rows;
    const body = bytes.slice(4 + len);
    if (!Number.isInteger(n) || body.length !== n * 12) return null;
    const xy = new Float32Array(body.buffer, 0, n * 2);
    const clusters = new Int32Array(body.buffer, n * 8, n);
    // a position that is not a finite number (a damaged or tampered cache) means the map is made again
    if (!xy.every(Number.isFinite) || !clusters.every((c) => c >= -1)) return null;
    if (typeof h.method !== "string") return null;
    return {
      map: { xy, clusters, method: h.method, placed: Number.isInteger(h.placed) ? h.placed : 0 },
      key: { databaseId: h.databaseId, version: h.version, rows: n },
    };
  } catch {
    return null;
  }
}

/**
 * The map for `index` from `<db>.map-cache` when it was made for this
 * database's current vectors, else the previous map extended, else computed;
 * cached (best effort).
 */
export async function loadMap(
  dbPath: string,
  index: VectorIndex,
  identity: MapKey | null,
  options: LoadMapOptions = {},
): Promise<{ map: CollectionMap; cached: boolean }> {
  const cachePath = `${dbPath}.map-cache`;
  if (identity) {
    try {
      const hit = decodeMap(await Deno.readFile(cachePath));
      if (
        hit && hit.key.databaseId === identity.databaseId && hit.key.version === identity.version &&
        hit.key.rows === index.ids.length
      ) return { map: hit.map, cached: true };
    } catch { /* no cache yet */ }
  }
  const map = (options.previous && extendMap(options.previous, index, options.nearest)) ||
    await (options.compute ?? computeMap)(index, { seed: options.seed, onProgress: options.onProgress });
  if (identity) {
    try {
      await writeFileAtomic(cachePath, encodeMap(map, { ...identity, rows: index.ids.length }));
    } catch { /* not writable, or the disk is full: no cache, and no temporary file left */ }
  }
  return { map, cached: false };
}
