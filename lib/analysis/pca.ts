/**
 * Principal components: the top axes of a covariance matrix by subspace
 * iteration (Gram–Schmidt each round), and the projections built on them —
 * {@linkcode pcaProject} for the explorer's UMAP (float32 rows, covariance
 * from a sample) and {@linkcode pca} before `compare`'s t-SNE (float64 rows).
 *
 * @module
 */

import { Rng } from "../util/rng.ts";

/**
 * The top `k` unit axes of the symmetric `d` × `d` matrix `cov` (row-major): `iterations` rounds of subspace
 * iteration from random starts drawn from `rng`, orthonormalised (Gram–Schmidt) after each round.
 */
export function principalAxes(
  cov: Float64Array,
  d: number,
  k: number,
  rng: Rng,
  iterations: number,
): Float64Array[] {
  let q = Array.from({ length: k }, () => Float64Array.from({ length: d }, () => rng.normal()));
  const z = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    q = q.map((v) => {
      z.fill(0);
      for (let a = 0; a < d; a++) {
        let s = 0;
        const off = a * d;
        for (let b = 0; b < d; b++) s += cov[off + b] * v[b];
        z[a] = s;
      }
      return Float64Array.from(z);
    });
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let a = 0; a < d; a++) dot += q[i][a] * q[j][a];
        for (let a = 0; a < d; a++) q[i][a] -= dot * q[j][a];
      }
      let norm = 0;
      for (let a = 0; a < d; a++) norm += q[i][a] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let a = 0; a < d; a++) q[i][a] /= norm;
    }
  }
  return q;
}

/** Project centred rows onto their top `k` principal directions (30 rounds of subspace iteration). */
export function pca(rows: Float64Array[], k: number, seed = 1): Float64Array[] {
  const n = rows.length, d = rows[0]?.length ?? 0;
  k = Math.min(k, d, n);
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / n;
  const x = rows.map((r) => r.map((v, j) => v - mean[j]));
  const cov = new Float64Array(d * d);
  for (const r of x) {
    for (let a = 0; a < d; a++) {
      const ra = r[a];
      if (ra === 0) continue;
      const off = a * d;
      for (let b = 0; b < d; b++) cov[off + b] += ra * r[b];
    }
  }
  const q = principalAxes(cov, d, k, new Rng(seed), 30);
  return x.map((r) => Float64Array.from(q, (v) => r.reduce((s, val, a) => s + val * v[a], 0)));
}

/** Options of {@linkcode pcaProject}. */
export interface PcaOptions {
  /**
   * Rows the covariance is estimated from (a seeded sample above that).
   * @default {10000}
   */
  sample?: number;
  /**
   * Seed of the sample and of the subspace iteration.
   * @default {1}
   */
  seed?: number;
}

/**
 * Project `n` rows of `d` values (row-major) onto their top `k` principal
 * directions (centred; covariance from a sample; subspace iteration), as
 * scikit-learn's `PCA(n_components=k).fit_transform` up to each axis' sign.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { pcaProject } from "./pca.ts";
 * // points on a line y = 2x: one component carries everything
 * const x = new Float32Array([0, 0, 1, 2, 2, 4, 3, 6]);
 * const p = pcaProject(x, 4, 2, 1);
 * assert.ok(Math.abs(Math.abs(p[3] - p[0]) - Math.hypot(3, 6)) < 1e-4);
 * ```
 */
export function pcaProject(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  options: PcaOptions = {},
): Float32Array {
  if (x.length !== n * d) throw new RangeError(`pcaProject: ${x.length} values for ${n} rows × ${d}`);
  k = Math.min(k, d, n);
  const rng = new Rng(options.seed ?? 1);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n || 1;
  let rows = Array.from({ length: n }, (_, i) => i);
  const sample = options.sample ?? 10_000;
  if (n > sample) {
    for (let i = 0; i < sample; i++) {
      const j = i + Math.floor(rng.uniform() * (n - i));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows = rows.slice(0, sample);
  }
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (const i of rows) {
    for (let j = 0; j < d; j++) centred[j] = x[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      const off = a * d;
      for (let b = a; b < d; b++) cov[off + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a];
  const q = principalAxes(cov, d, k, rng, 40);
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      const v = q[c];
      for (let j = 0; j < d; j++) s += (x[i * d + j] - mean[j]) * v[j];
      out[i * k + c] = s;
    }
  }
  return out;
}
