/**
 * UMAP (McInnes, Healy & Melville 2018) on typed arrays, mirroring
 * umap-learn's `fuzzy_simplicial_set` and `optimize_layout_euclidean`: the
 * k-nearest-neighbour graph turned into fuzzy memberships (`smooth_knn_dist`,
 * `compute_membership_strengths`), symmetrised (P + Pᵀ − P∘Pᵀ), then laid out
 * by stochastic gradient descent with negative sampling. Written here because
 * umap-js keeps its sparse matrices in string-keyed maps, which does not
 * scale to a 100 000-song collection.
 *
 * @module
 */

import { Rng } from "../util/rng.ts";

/** A k-nearest-neighbour graph: row i holds point i's k neighbours (itself first), nearest first. */
export interface KnnGraph {
  /** Points. */
  n: number;
  /** Neighbours per point (including the point itself). */
  k: number;
  /** n × k neighbour indices. */
  indices: Int32Array;
  /** n × k distances. */
  distances: Float32Array;
}

/** Options of {@linkcode umapLayout}. */
export interface UmapOptions {
  /**
   * SGD epochs.
   * @default {n <= 10 000 ? 500 : 200}
   */
  epochs?: number;
  /**
   * Negative samples per positive one.
   * @default {5}
   */
  negativeRate?: number;
  /**
   * Curve parameters a, b of 1 / (1 + a d^(2b)) (these: umap-learn's fit for min_dist 0.1, spread 1).
   * @default {[1.577, 0.8951]}
   */
  ab?: [number, number];
  /**
   * Seed of the negative sampling.
   * @default {1}
   */
  seed?: number;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, epochs: number) => void;
}

/**
 * umap-learn's `smooth_knn_dist`: per point, the distance to its nearest
 * other neighbour (ρ) and the bandwidth σ with Σ exp(−(d − ρ)/σ) = log2(k).
 */
export function smoothKnnDistances(g: KnnGraph): { rho: Float32Array; sigma: Float32Array } {
  const { n, k, distances } = g;
  const target = Math.log2(k);
  const rho = new Float32Array(n), sigma = new Float32Array(n);
  let meanAll = 0;
  for (let i = 0; i < distances.length; i++) meanAll += distances[i] / distances.length;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let r = 0, mean = 0;
    for (let j = 0; j < k; j++) {
      const d = distances[row + j];
      mean += d / k;
      if (r === 0 && d > 0) r = d;
    }
    rho[i] = r;
    let lo = 0, hi = Infinity, mid = 1;
    for (let it = 0; it < 64; it++) {
      let psum = 0;
      for (let j = 1; j < k; j++) {
        const d = distances[row + j] - r;
        psum += d > 0 ? Math.exp(-d / mid) : 1;
      }
      if (Math.abs(psum - target) < 1e-5) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    sigma[i] = Math.max(mid, 1e-3 * (r > 0 ? mean : meanAll));
  }
  return { rho, sigma };
}

/** The symmetric fuzzy graph as edge lists (each undirected edge twice, as umap-learn's COO matrix). */
export interface FuzzyGraph {
  /** Edge heads. */
  head: Int32Array;
  /** Edge tails. */
  tail: Int32Array;
  /** Edge weights in (0, 1]. */
  weight: Float32Array;
}

/** umap-learn's `fuzzy_simplicial_set`: memberships, then P + Pᵀ − P∘Pᵀ. */
export function fuzzyGraph(g: KnnGraph): FuzzyGraph {
  const { n, k, indices, distances } = g;
  const { rho, sigma } = smoothKnnDistances(g);
  const directed = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const t = indices[i * k + j];
      if (t < 0 || t === i) continue;
      const d = distances[i * k + j] - rho[i];
      const v = d <= 0 ? 1 : Math.exp(-d / sigma[i]);
      directed.set(i * n + t, v);
    }
  }
  const sym = new Map<number, number>();
  for (const [key, v] of directed) {
    const i = Math.floor(key / n), t = key - i * n;
    const back = directed.get(t * n + i) ?? 0;
    const w = v + back - v * back;
    sym.set(key, w);
    sym.set(t * n + i, w);
  }
  const head = new Int32Array(sym.size), tail = new Int32Array(sym.size), weight = new Float32Array(sym.size);
  let e = 0;
  for (const [key, w] of sym) {
    const i = Math.floor(key / n);
    head[e] = i;
    tail[e] = key - i * n;
    weight[e++] = w;
  }
  return { head, tail, weight };
}

/**
 * Lay out the fuzzy graph of `g` in 2-D from `init` (n × 2, changed in
 * place and returned): umap-learn's `optimize_layout_euclidean` with both
 * ends of an edge moved.
 */
export function umapLayout(g: KnnGraph, init: Float32Array, options: UmapOptions = {}): Float32Array {
  const n = g.n;
  if (init.length !== n * 2) throw new RangeError(`init has ${init.length} values for ${n} points × 2`);
  const epochs = options.epochs ?? (n <= 10_000 ? 500 : 200);
  const negativeRate = options.negativeRate ?? 5;
  const [a, b] = options.ab ?? [1.577, 0.8951];
  const rng = new Rng(options.seed ?? 1);
  const graph = fuzzyGraph(g);
  let wmax = 0;
  for (const w of graph.weight) wmax = Math.max(wmax, w);
  // edges too weak to be sampled even once are dropped, as umap-learn does
  const keep: number[] = [];
  for (let e = 0; e < graph.weight.length; e++) if (graph.weight[e] >= wmax / epochs) keep.push(e);
  const m = keep.length;
  const head = new Int32Array(m), tail = new Int32Array(m), perSample = new Float64Array(m);
  keep.forEach((e, i) => {
    head[i] = graph.head[e];
    tail[i] = graph.tail[e];
    perSample[i] = wmax / graph.weight[e];
  });
  const nextSample = Float64Array.from(perSample);
  const perNegative = perSample.map((p) => p / negativeRate);
  const nextNegative = Float64Array.from(perNegative);
  const y = init;
  const clip = (v: number) => (v > 4 ? 4 : v < -4 ? -4 : v);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const alpha = 1 - epoch / epochs;
    for (let e = 0; e < m; e++) {
      if (nextSample[e] > epoch) continue;
      const j = head[e], k = tail[e];
      let dx = y[2 * j] - y[2 * k], dy = y[2 * j + 1] - y[2 * k + 1];
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const pb = Math.pow(d2, b);
        const coeff = (-2 * a * b * pb / d2) / (a * pb + 1);
        const gx = clip(coeff * dx) * alpha, gy = clip(coeff * dy) * alpha;
        y[2 * j] += gx;
        y[2 * j + 1] += gy;
        y[2 * k] -= gx;
        y[2 * k + 1] -= gy;
      }
      nextSample[e] += perSample[e];
      const negatives = Math.floor((epoch - nextNegative[e]) / perNegative[e]);
      for (let p = 0; p < negatives; p++) {
        const r = Math.floor(rng.uniform() * n);
        if (r === j) continue;
        dx = y[2 * j] - y[2 * r];
        dy = y[2 * j + 1] - y[2 * r + 1];
        d2 = dx * dx + dy * dy;
        if (d2 > 0) {
          const coeff = 2 * b / ((0.001 + d2) * (a * Math.pow(d2, b) + 1));
          y[2 * j] += clip(coeff * dx) * alpha;
          y[2 * j + 1] += clip(coeff * dy) * alpha;
        } else {
          y[2 * j] += 4 * alpha;
          y[2 * j + 1] += 4 * alpha;
        }
      }
      nextNegative[e] += negatives * perNegative[e];
    }
    options.onEpoch?.(epoch + 1, epochs);
  }
  return y;
}
