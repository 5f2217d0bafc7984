/**
 * A 2-D map of song vectors: PCA to at most 50 dimensions when the vectors
 * are many, then exact t-SNE, seeded so the picture is the same from run to
 * run. Small sets use `tsne-js` (the project's chosen library); it is slow
 * (~17 s for 400 points here), so above {@linkcode TSNEJS_MAX_POINTS} the
 * method switches to our typed-array exact t-SNE (`tsne.ts`: 0.5 s for 400
 * points, 3.3 s for 1 000), and above {@linkcode MAX_TSNE_POINTS} a seeded
 * subsample is mapped. The result says which.
 *
 * @module
 */

import TSNE from "tsne-js";
import { Rng } from "../util/rng.ts";
import { tsne } from "./tsne.ts";
import { pca } from "./pca.ts";

/** Largest set mapped with tsne-js. */
export const TSNEJS_MAX_POINTS = 200;

/** Largest number of points mapped at all (exact t-SNE is quadratic in time and memory). */
export const MAX_TSNE_POINTS = 2000;

/** Perplexity for n points: 30 where possible, less for small sets (it must stay below n/3). */
export function choosePerplexity(n: number): number {
  return Math.max(2, Math.min(30, Math.floor((n - 1) / 3)));
}

/** Options of {@linkcode tsneMap}. */
export interface TsneOptions {
  /** Seed of the layout. */
  seed?: number;
  /** Gradient steps. */
  iterations?: number;
  /** Largest number of points; default {@linkcode MAX_TSNE_POINTS}. */
  maxPoints?: number;
}

/** The map. */
export interface TsneResult {
  /** Indices (into the input) of the points mapped, in order. */
  indices: number[];
  /** 2-D coordinates, one per mapped point. */
  points: [number, number][];
  /** The perplexity used. */
  perplexity: number;
  /** "tsne-js" or "exact t-SNE (typed arrays)". */
  method: string;
  /** Set when the input was subsampled or reduced: what was done. */
  note?: string;
}

/**
 * Map vectors to 2-D. Deterministic for a seed: tsne-js draws its initial
 * layout from `Math.random`, which is replaced by a seeded generator while it runs.
 *
 * @example
 * ```ts ignore
 * import { tsneMap } from "./tsne_map.ts";
 * const { points } = tsneMap(vectors, { seed: 42 });
 * ```
 */
export function tsneMap(vectors: Float64Array[], options: TsneOptions = {}): TsneResult {
  const seed = options.seed ?? 42;
  const max = options.maxPoints ?? MAX_TSNE_POINTS;
  const n = vectors.length;
  let indices = vectors.map((_, i) => i);
  const notes: string[] = [];
  if (n > max) {
    const rng = new Rng(seed);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    indices = indices.slice(0, max).sort((a, b) => a - b);
    notes.push(`exact t-SNE is quadratic: ${max} of ${n} tracks (a seeded sample) are mapped`);
  }
  if (indices.length < 2) {
    return { indices, points: indices.map(() => [0, 0]), perplexity: 0, method: "none" };
  }
  let data = indices.map((i) => vectors[i]);
  if (data[0].length > 50 && data.length > 50) {
    data = pca(data, 50, seed);
    notes.push("PCA to 50 dimensions first");
  }
  const perplexity = choosePerplexity(data.length);
  const note = notes.length ? notes.join("; ") : undefined;
  if (data.length > TSNEJS_MAX_POINTS) {
    const points = tsne(data, { perplexity, seed, iterations: options.iterations ?? 750 });
    return { indices, points, perplexity, method: "exact t-SNE (typed arrays)", note };
  }
  const random = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.uniform();
  try {
    const model = new TSNE({
      dim: 2,
      perplexity,
      earlyExaggeration: 4,
      learningRate: 100,
      nIter: options.iterations ?? 500,
      metric: "euclidean",
    });
    model.init({ data: data.map((v) => Array.from(v)), type: "dense" });
    model.run();
    const out = model.getOutputScaled() as number[][];
    return { indices, points: out.map((p) => [p[0], p[1]]), perplexity, method: "tsne-js", note };
  } finally {
    Math.random = random;
  }
}
