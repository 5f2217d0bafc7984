/**
 * k-means clustering of song vectors, for colouring maps when no tag or
 * known group says what belongs together.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { Rng } from "../util/rng.ts";
import { euclideanDistance, normalize } from "../util/vector_math.ts";

/**
 * k-means (k-means++ seeding, Lloyd iterations) on L2-normalised vectors.
 * Returns a cluster index per vector.
 */
export function kMeans(vectors: Float64Array[], k: number, seed = 1, iterations = 50): number[] {
  const n = vectors.length;
  if (!Number.isInteger(k) || k < 1) {
    throw new ArgumentError(`--clusters must be a positive integer, got ${k}`);
  }
  if (n === 0) return [];
  k = Math.min(k, n);
  const rng = new Rng(seed);
  const xs = vectors.map(normalize);
  const centres: Float64Array[] = [xs[Math.floor(rng.uniform() * n)].slice()];
  while (centres.length < k) {
    const d = xs.map((x) => Math.min(...centres.map((c) => euclideanDistance(x, c) ** 2)));
    const total = d.reduce((s, v) => s + v, 0);
    let r = rng.uniform() * total, pick = 0;
    while (pick < n - 1 && r > d[pick]) r -= d[pick++];
    centres.push(xs[pick].slice());
  }
  const label = new Array(n).fill(0);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0, bestD = Infinity;
      centres.forEach((c, j) => {
        const dd = euclideanDistance(xs[i], c);
        if (dd < bestD) [best, bestD] = [j, dd];
      });
      if (label[i] !== best) [label[i], changed] = [best, true];
    }
    centres.forEach((c, j) => {
      const members = xs.filter((_, i) => label[i] === j);
      if (members.length === 0) return;
      c.fill(0);
      for (const m of members) for (let d = 0; d < c.length; d++) c[d] += m[d] / members.length;
    });
    if (!changed && it > 0) break;
  }
  return label;
}
