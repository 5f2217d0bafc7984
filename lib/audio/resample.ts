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
  /** Table entries between the taps of one output: trunc(scale · perZero). */
  step: number;
  /**
   * The same values rearranged by phase (a pure change of layout, for speed): for each table offset
   * p = 0 … step, its taps p, p + step, p + 2·step, … as interleaved (win, delta) pairs starting at
   * `phaseStart[p]`, `phaseTaps[p]` of them.
   */
  phases: Float64Array;
  /** Where each offset's taps start in {@linkcode phases}. */
  phaseStart: Uint32Array;
  /** How many taps each offset has: trunc((table length − p) / step). */
  phaseTaps: Uint32Array;
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
  const perZero = 1 << KAISER_BEST.precision;
  const step = Math.trunc(key * perZero);
  const phaseStart = new Uint32Array(step + 1), phaseTaps = new Uint32Array(step + 1);
  let total = 0;
  for (let p = 0; p <= step; p++) {
    phaseStart[p] = total;
    phaseTaps[p] = Math.trunc((win.length - p) / step);
    total += 2 * phaseTaps[p];
  }
  const phases = new Float64Array(total);
  for (let p = 0; p <= step; p++) {
    for (let i = 0, k = p; i < phaseTaps[p]; i++, k += step) {
      phases[phaseStart[p] + 2 * i] = win[k];
      phases[phaseStart[p] + 2 * i + 1] = delta[k];
    }
  }
  const table = { win, delta, perZero, step, phases, phaseStart, phaseTaps };
  scaledTables.set(key, table);
  return table;
}

/** Output length of resampling `nIn` samples: floor(nIn * srOut / srIn), as resampy computes it. */
export function resampledLength(nIn: number, srIn: number, srOut: number): number {
  return Math.trunc(nIn * (srOut / srIn));
}

/**
 * The resampler, fed in chunks: {@linkcode push} input as it is decoded,
 * {@linkcode end} it, and {@linkcode read} the output as it becomes
 * computable. The output equals `resampy.resample(x, srIn, srOut)` of the
 * whole input, value for value: the same table, the same interpolation, the
 * same accumulated time register, the same order of operations. It holds
 * only the input samples the filter still reaches (~130 around the current
 * position), so memory does not grow with the length of the signal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resample, StreamResampler } from "./resample.ts";
 * const x = Float64Array.from({ length: 2205 }, (_, n) => Math.sin(2 * Math.PI * 100 * n / 22050));
 * const r = new StreamResampler(22050, 48000);
 * const out: number[] = [];
 * const buf = new Float64Array(1000);
 * for (let i = 0; i < x.length; i += 300) {
 *   r.push(x.subarray(i, i + 300));
 *   for (let n; (n = r.read(buf)) > 0;) out.push(...buf.subarray(0, n));
 * }
 * r.end();
 * for (let n; (n = r.read(buf)) > 0;) out.push(...buf.subarray(0, n));
 * assert.deepEqual(out, Array.from(resample(x, 22050, 48000)));
 * ```
 */
export class StreamResampler {
  /** The input rate. */
  readonly srIn: number;
  /** The output rate. */
  readonly srOut: number;
  readonly #table: FilterTable;
  readonly #scale: number;
  readonly #timeIncrement: number;
  /** Input samples held: absolute indices [#base, #base + #held). */
  #buf = new Float64Array(1 << 14);
  #base = 0;
  #held = 0;
  #ended = false;
  /** Total output length, once the input has ended. */
  #length: number | undefined;
  #t = 0;
  #timeRegister = 0;

  /**
   * A resampler from `srIn` to `srOut` Hz.
   * @param srIn The input rate.
   * @param srOut The output rate (default 48 000).
   */
  constructor(srIn: number, srOut: number = TARGET_SR) {
    for (const [name, sr] of [["srIn", srIn], ["srOut", srOut]] as const) {
      if (!(Number.isFinite(sr) && sr > 0)) {
        throw new ArgumentError(`Resampler: ${name} must be a positive number, got ${sr}`);
      }
    }
    this.srIn = srIn;
    this.srOut = srOut;
    const ratio = srOut / srIn;
    this.#table = filterTable(ratio);
    this.#scale = Math.min(1, ratio);
    this.#timeIncrement = 1 / ratio;
  }

  /** Input samples pushed so far. */
  get consumed(): number {
    return this.#base + this.#held;
  }

  /** Output samples read so far. */
  get produced(): number {
    return this.#t;
  }

  /** The total output length: floor(n · srOut / srIn), known once the input has ended. */
  get length(): number | undefined {
    return this.#length;
  }

  /** True when the input has ended and every output sample has been read. */
  get done(): boolean {
    return this.#length !== undefined && this.#t >= this.#length;
  }

  /** Append input samples. */
  push(x: ArrayLike<number>): void {
    if (this.#ended) throw new ArgumentError("StreamResampler: push after end");
    // drop what no output still needs: everything left of the current position's left wing
    const n = Math.trunc(this.#timeRegister);
    const keepFrom = Math.max(this.#base, n - (this.#table.phaseTaps[0] + 2));
    if (keepFrom > this.#base) {
      this.#buf.copyWithin(0, keepFrom - this.#base, this.#held);
      this.#held -= keepFrom - this.#base;
      this.#base = keepFrom;
    }
    if (this.#held + x.length > this.#buf.length) {
      const grown = new Float64Array(Math.max(2 * this.#buf.length, this.#held + x.length));
      grown.set(this.#buf.subarray(0, this.#held));
      this.#buf = grown;
    }
    this.#buf.set(x, this.#held);
    this.#held += x.length;
  }

  /** No more input: the last output samples become computable. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#length = resampledLength(this.consumed, this.srIn, this.srOut);
  }

  /** Fill `out` with the next computable output samples; returns how many (0: push more, or done). */
  read(out: Float32Array | Float64Array): number {
    const { perZero, step, phases, phaseStart, phaseTaps } = this.#table;
    const scale = this.#scale, inc = this.#timeIncrement;
    const x = this.#buf, base = this.#base;
    const available = base + this.#held;
    const ended = this.#ended;
    const limit = ended ? this.#length! - this.#t : out.length;
    const count = Math.min(out.length, limit);
    let time = this.#timeRegister;
    let o = 0;
    for (; o < count; o++) {
      const n = Math.trunc(time);
      // left wing
      let frac = scale * (time - n);
      let indexFrac = frac * perZero;
      let offset = Math.trunc(indexFrac);
      let eta = indexFrac - offset;
      // right wing's table offset, computed first to know whether its taps are all here yet
      const frac2 = scale - frac;
      const indexFrac2 = frac2 * perZero;
      const offset2 = Math.trunc(indexFrac2);
      const rightTaps = phaseTaps[offset2];
      if (!ended && n + 1 + rightTaps > available) break;
      let y = 0;
      const iMax = Math.min(n + 1, phaseTaps[offset]);
      for (let i = 0, k = phaseStart[offset], at = n - base; i < iMax; i++, k += 2, at--) {
        y += (phases[k] + eta * phases[k + 1]) * x[at];
      }
      // right wing
      frac = frac2;
      indexFrac = indexFrac2;
      offset = offset2;
      eta = indexFrac - offset;
      const kMax = Math.min(available - n - 1, rightTaps);
      for (let i = 0, k = phaseStart[offset], at = n + 1 - base; i < kMax; i++, k += 2, at++) {
        y += (phases[k] + eta * phases[k + 1]) * x[at];
      }
      out[o] = y;
      time += inc;
    }
    this.#timeRegister = time;
    this.#t += o;
    // guard the invariant the table layout relies on
    if (step < 1) throw new ArgumentError(`Resampler: ratio ${this.srOut / this.srIn} is too small`);
    return o;
  }
}

/**
 * A resampler over an input already in memory (a {@linkcode SampleSource}-
 * style reader): {@linkcode read} until it returns 0; the concatenated chunks
 * equal `resampy.resample(x, srIn, srOut)`.
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
  readonly #stream: StreamResampler;

  /**
   * A resampler over `x`.
   * @param x The input samples.
   * @param srIn Their rate.
   * @param srOut The output rate (default 48 000).
   */
  constructor(x: ArrayLike<number>, srIn: number, srOut: number = TARGET_SR) {
    this.#stream = new StreamResampler(srIn, srOut);
    this.length = resampledLength(x.length, srIn, srOut);
    if (this.length < 1) {
      throw new ArgumentError(
        `Resampler: input of ${x.length} samples is too short to resample from ${srIn} to ${srOut} Hz`,
      );
    }
    this.#stream.push(x);
    this.#stream.end();
  }

  /** Output samples not yet read. */
  get remaining(): number {
    return this.length - this.#stream.produced;
  }

  /** Fill `out` with the next output samples; returns how many were written (0 at the end). */
  read(out: Float32Array | Float64Array): number {
    return this.#stream.read(out);
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
