/**
 * Band-limited sinc resampling, exactly as `resampy.resample(x, sr_orig,
 * sr_new, filter="kaiser_best")` (resampy 0.2.x) computes it: the same filter
 * table, the same linear interpolation between table entries, the same
 * accumulated time register, in float64.
 *
 * The resampler is streaming: {@linkcode Resampler.read} produces the output
 * in consecutive chunks, so the 48 kHz signal of a long track never has to be
 * held in memory at once.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";

/** resampy's `kaiser_best` parameters (spec §1.2). */
export const KAISER_BEST = {
  numZeros: 64,
  precision: 9,
  rolloff: 0.9475937167399596,
  beta: 14.769656459379492,
} as const;

/** The sample rate every OpenL3 model takes. */
export const TARGET_SR = 48000;

/** Modified Bessel function of the first kind, order 0 (power series; exact to double rounding for |x| < 50). */
export function besselI0(x: number): number {
  const q = (x / 2) * (x / 2);
  let term = 1, sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** A filter table and its first differences (resampy's `interp_win`, `interp_delta`). */
export interface FilterTable {
  /** Filter values at the table points. */
  win: Float64Array;
  /** Differences to the next table point (for linear interpolation). */
  delta: Float64Array;
  /** Table entries per zero crossing (2^precision). */
  perZero: number;
}

let baseTable: Float64Array | undefined;
const scaledTables = new Map<number, FilterTable>();

/**
 * The right half of resampy's `sinc_window(num_zeros=64, precision=9,
 * window=kaiser(beta), rolloff)`: `rolloff * sinc(rolloff * t) * kaiser_half`,
 * t = linspace(0, 64, 32769). Built once.
 */
export function kaiserBestWindow(): Float64Array {
  if (baseTable) return baseTable;
  const { numZeros, precision, rolloff, beta } = KAISER_BEST;
  const n = (1 << precision) * numZeros;
  const win = new Float64Array(n + 1);
  const i0beta = besselI0(beta);
  for (let i = 0; i <= n; i++) {
    const t = (numZeros * i) / n; // numpy linspace: start + i * step
    const r = i / n;
    const taper = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0beta;
    win[i] = rolloff * sinc(rolloff * t) * taper;
  }
  baseTable = win;
  return win;
}

/** The table for a given `scale = min(1, sr_new / sr_orig)`, multiplied by scale when downsampling. */
export function filterTable(sampleRatio: number): FilterTable {
  const key = Math.min(1, sampleRatio);
  const cached = scaledTables.get(key);
  if (cached) return cached;
  const base = kaiserBestWindow();
  const win = sampleRatio < 1 ? base.map((v) => v * sampleRatio) : base;
  const delta = new Float64Array(win.length);
  for (let i = 0; i < win.length - 1; i++) delta[i] = win[i + 1] - win[i];
  const table = { win, delta, perZero: 1 << KAISER_BEST.precision };
  scaledTables.set(key, table);
  return table;
}

/** Output length of resampling `nIn` samples: floor(nIn * srOut / srIn), as resampy computes it. */
export function resampledLength(nIn: number, srIn: number, srOut: number): number {
  return Math.trunc(nIn * (srOut / srIn));
}

/**
 * Streaming resampler over an in-memory input. Call {@linkcode read} until it
 * returns 0; the concatenated chunks equal `resampy.resample(x, srIn, srOut)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Resampler } from "./resample.ts";
 * const x = Float32Array.from({ length: 2205 }, (_, n) => Math.sin(2 * Math.PI * 100 * n / 22050));
 * const r = new Resampler(x, 22050, 48000);
 * const y = new Float64Array(r.length);
 * r.read(y);
 * assert.ok(y.length === 4800);
 * ```
 */
export class Resampler {
  /** Total output samples. */
  readonly length: number;
  readonly #x: ArrayLike<number>;
  readonly #table: FilterTable;
  readonly #scale: number;
  readonly #timeIncrement: number;
  readonly #indexStep: number;
  #t = 0;
  #timeRegister = 0;

  /**
   * A resampler over `x`.
   * @param x The input samples.
   * @param srIn Their rate.
   * @param srOut The output rate (default 48 000).
   */
  constructor(x: ArrayLike<number>, srIn: number, srOut: number = TARGET_SR) {
    for (const [name, sr] of [["srIn", srIn], ["srOut", srOut]] as const) {
      if (!(Number.isFinite(sr) && sr > 0)) {
        throw new ArgumentError(`Resampler: ${name} must be a positive number, got ${sr}`);
      }
    }
    const ratio = srOut / srIn;
    this.length = resampledLength(x.length, srIn, srOut);
    if (this.length < 1) {
      throw new ArgumentError(
        `Resampler: input of ${x.length} samples is too short to resample from ${srIn} to ${srOut} Hz`,
      );
    }
    this.#x = x;
    this.#table = filterTable(ratio);
    this.#scale = Math.min(1, ratio);
    this.#timeIncrement = 1 / ratio;
    this.#indexStep = Math.trunc(this.#scale * this.#table.perZero);
  }

  /** Output samples not yet read. */
  get remaining(): number {
    return this.length - this.#t;
  }

  /** Fill `out` with the next output samples; returns how many were written (0 at the end). */
  read(out: Float32Array | Float64Array): number {
    const x = this.#x;
    const { win, delta, perZero } = this.#table;
    const nwin = win.length;
    const nIn = x.length;
    const scale = this.#scale, step = this.#indexStep;
    const count = Math.min(out.length, this.length - this.#t);
    let time = this.#timeRegister;
    for (let o = 0; o < count; o++) {
      const n = Math.trunc(time);
      // left wing
      let frac = scale * (time - n);
      let indexFrac = frac * perZero;
      let offset = Math.trunc(indexFrac);
      let eta = indexFrac - offset;
      let y = 0;
      const iMax = Math.min(n + 1, Math.trunc((nwin - offset) / step));
      for (let i = 0, k = offset; i < iMax; i++, k += step) {
        y += (win[k] + eta * delta[k]) * x[n - i];
      }
      // right wing
      frac = scale - frac;
      indexFrac = frac * perZero;
      offset = Math.trunc(indexFrac);
      eta = indexFrac - offset;
      const kMax = Math.min(nIn - n - 1, Math.trunc((nwin - offset) / step));
      for (let i = 0, k = offset; i < kMax; i++, k += step) {
        y += (win[k] + eta * delta[k]) * x[n + i + 1];
      }
      out[o] = y;
      time += this.#timeIncrement;
    }
    this.#timeRegister = time;
    this.#t += count;
    return count;
  }
}

/**
 * Resample a whole signal at once (a convenience over {@linkcode Resampler}).
 * Equal rates return a copy, as OpenL3 skips resampling at 48 kHz.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resample } from "./resample.ts";
 * const y = resample(new Float32Array(44100), 44100, 48000);
 * assert.ok(y.length === 48000);
 * ```
 */
export function resample(x: ArrayLike<number>, srIn: number, srOut: number = TARGET_SR): Float64Array {
  if (srIn === srOut) return Float64Array.from(x);
  const r = new Resampler(x, srIn, srOut);
  const y = new Float64Array(r.length);
  r.read(y);
  return y;
}
