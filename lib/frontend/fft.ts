/**
 * Radix-2 FFT in float64, for the CPU reference frontend (`numpy.fft.rfft`).
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";

/** Precomputed tables for transforms of one size. */
export interface FftPlan {
  /** Transform size. */
  n: number;
  /** cos(2πk/n), k < n/2 */
  cos: Float64Array;
  /** sin(2πk/n), k < n/2 */
  sin: Float64Array;
  /** bit-reversal permutation */
  rev: Uint32Array;
}

const plans = new Map<number, FftPlan>();

/** The (cached) plan for size `n`, a power of two ≥ 2. */
export function fftPlan(n: number): FftPlan {
  const cached = plans.get(n);
  if (cached) return cached;
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0) {
    throw new ArgumentError(`FFT size must be a power of two ≥ 2, got ${n}`);
  }
  const cos = new Float64Array(n / 2), sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  const bits = Math.log2(n);
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  const plan = { n, cos, sin, rev };
  plans.set(n, plan);
  return plan;
}

/**
 * In-place forward complex FFT, X[k] = Σ x[t] e^{-2πi k t / n}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fft } from "./fft.ts";
 * const re = new Float64Array([1, 0, 0, 0]), im = new Float64Array(4);
 * fft(re, im);
 * assert.ok(re.every((v) => v === 1));
 * ```
 */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new ArgumentError(`fft: re and im differ in length (${n} vs ${im.length})`);
  const { cos, sin, rev } = fftPlan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2, step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step], wi = -sin[k * step];
        const a = start + k, b = a + half;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
  }
}

const splitTables = new Map<number, { cos: Float64Array; sin: Float64Array }>();

/**
 * cos and sin of 2πf/n for f = 0 … n/2: the twiddles of the split step that
 * turns a half-size complex FFT into a real FFT of n points (built once per n).
 */
export function realFftTwiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = splitTables.get(n);
  if (!t) {
    t = {
      cos: Float64Array.from({ length: n / 2 + 1 }, (_, f) => Math.cos((2 * Math.PI * f) / n)),
      sin: Float64Array.from({ length: n / 2 + 1 }, (_, f) => Math.sin((2 * Math.PI * f) / n)),
    };
    splitTables.set(n, t);
  }
  return t;
}

const stageTables = new Map<number, Float64Array>();

/**
 * The twiddles of every stage of an n-point radix-2 transform, laid out stage after stage as
 * (cos, −sin) pairs in the order the butterflies use them (built once per n).
 */
function stageTwiddles(n: number): Float64Array {
  let t = stageTables.get(n);
  if (!t) {
    const { cos, sin } = fftPlan(n);
    t = new Float64Array(2 * (n - 1));
    let at = 0;
    for (let size = 2; size <= n; size *= 2) {
      const step = n / size;
      for (let k = 0; k < size / 2; k++) {
        t[at++] = cos[k * step];
        t[at++] = -sin[k * step];
      }
    }
    stageTables.set(n, t);
  }
  return t;
}

/**
 * The forward complex FFT of data already in bit-reversed order (see {@linkcode fftPlan}'s `rev`):
 * the stages of {@linkcode fft} without the permutation, with the twiddles of each stage contiguous.
 * For callers that can write their input permuted as they load it.
 */
export function fftFromBitReversed(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  const tw = stageTwiddles(n);
  let base = 0;
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    for (let start = 0; start < n; start += size) {
      for (let k = 0, t = base; k < half; k++, t += 2) {
        const wr = tw[t], wi = tw[t + 1];
        const a = start + k, b = a + half;
        const br = re[b], bi = im[b];
        const tr = br * wr - bi * wi;
        const ti = br * wi + bi * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
    }
    base += size;
  }
}
