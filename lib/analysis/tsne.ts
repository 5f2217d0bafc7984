/**
 * Exact t-SNE (van der Maaten & Hinton, 2008) on typed arrays: perplexity
 * calibration by binary search, early exaggeration, momentum and per-
 * coordinate gains, as in the reference implementation. O(n²) time and
 * memory per iteration, but tight loops: about 40× faster than tsne-js here,
 * so maps of a few thousand tracks take seconds to a minute.
 *
 * @module
 */

import { Rng } from "../util/rng.ts";

/** Options of {@linkcode tsne}. */
export interface ExactTsneOptions {
  /** Effective number of neighbours. */
  perplexity: number;
  /** default 750 */
  iterations?: number;
  /** default 12 for the first 100 iterations */
  earlyExaggeration?: number;
  /** default max(n / 12, 50) */
  learningRate?: number;
  /** Seed of the initial layout. */
  seed?: number;
}

/** Squared Euclidean distances, n × n, row-major. */
function squaredDistances(x: Float64Array[]): Float64Array {
  const n = x.length, dim = x[0].length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    for (let j = i + 1; j < n; j++) {
      const xj = x[j];
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const t = xi[k] - xj[k];
        s += t * t;
      }
      d[i * n + j] = s;
      d[j * n + i] = s;
    }
  }
  return d;
}

/** Symmetric joint probabilities P with each row's entropy at log(perplexity). */
export function jointProbabilities(x: Float64Array[], perplexity: number): Float64Array {
  const n = x.length;
  const d = squaredDistances(x);
  const p = new Float64Array(n * n);
  const target = Math.log(perplexity);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let beta = 1, lo = -Infinity, hi = Infinity;
    for (let it = 0; it < 64; it++) {
      let sum = 0, dsum = 0;
      for (let j = 0; j < n; j++) {
        const v = j === i ? 0 : Math.exp(-d[i * n + j] * beta);
        row[j] = v;
        sum += v;
        dsum += v * d[i * n + j];
      }
      sum = Math.max(sum, 1e-300);
      const entropy = Math.log(sum) + (beta * dsum) / sum;
      for (let j = 0; j < n; j++) p[i * n + j] = row[j] / sum;
      const diff = entropy - target;
      if (Math.abs(diff) < 1e-5) break;
      if (diff > 0) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max((p[i * n + j] + p[j * n + i]) / (2 * n), 1e-12);
      p[i * n + j] = v;
      p[j * n + i] = v;
    }
  }
  return p;
}

/**
 * Embed rows in 2-D.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tsne } from "./tsne.ts";
 * const x = Array.from({ length: 20 }, (_, i) => Float64Array.from([i % 2 ? 10 : 0, i]));
 * const y = tsne(x, { perplexity: 5, iterations: 300 });
 * assert.ok(y.length === 20);
 * ```
 */
export function tsne(x: Float64Array[], options: ExactTsneOptions): [number, number][] {
  const n = x.length;
  if (n < 2) return x.map(() => [0, 0]);
  const iterations = options.iterations ?? 750;
  const exaggeration = options.earlyExaggeration ?? 12;
  const lr = options.learningRate ?? Math.max(n / 12, 50);
  const p = jointProbabilities(x, options.perplexity);
  const rng = new Rng(options.seed ?? 42);
  const y = Float64Array.from({ length: 2 * n }, () => rng.normal(0, 1e-4));
  const update = new Float64Array(2 * n),
    gains = new Float64Array(2 * n).fill(1),
    grad = new Float64Array(2 * n);
  const num = new Float64Array(n * n);
  for (let it = 0; it < iterations; it++) {
    const exag = it < 100 ? exaggeration : 1;
    const momentum = it < 250 ? 0.5 : 0.8;
    let z = 0;
    for (let i = 0; i < n; i++) {
      const yi0 = y[2 * i], yi1 = y[2 * i + 1];
      for (let j = i + 1; j < n; j++) {
        const a = yi0 - y[2 * j], b = yi1 - y[2 * j + 1];
        const q = 1 / (1 + a * a + b * b);
        num[i * n + j] = q;
        num[j * n + i] = q;
        z += 2 * q;
      }
    }
    for (let i = 0; i < n; i++) {
      let g0 = 0, g1 = 0;
      const yi0 = y[2 * i], yi1 = y[2 * i + 1];
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const q = num[i * n + j];
        const m = (exag * p[i * n + j] - q / z) * q;
        g0 += m * (yi0 - y[2 * j]);
        g1 += m * (yi1 - y[2 * j + 1]);
      }
      grad[2 * i] = 4 * g0;
      grad[2 * i + 1] = 4 * g1;
    }
    let c0 = 0, c1 = 0;
    for (let k = 0; k < 2 * n; k++) {
      gains[k] = Math.sign(grad[k]) !== Math.sign(update[k])
        ? gains[k] + 0.2
        : Math.max(0.01, gains[k] * 0.8);
      update[k] = momentum * update[k] - lr * gains[k] * grad[k];
      y[k] += update[k];
      if (k % 2 === 0) c0 += y[k];
      else c1 += y[k];
    }
    c0 /= n;
    c1 /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] -= c0;
      y[2 * i + 1] -= c1;
    }
  }
  return Array.from({ length: n }, (_, i) => [y[2 * i], y[2 * i + 1]]);
}
