/**
 * Framing of a 48 kHz signal into the 1-second windows OpenL3 embeds, exactly
 * as `openl3.core` does it (spec §1.3): optional centring (half a window of
 * zeros in front), zero padding at the end so the hop divides the rest, and
 * window i = samples [i·hop, i·hop + 48000) with timestamp i·hop_size.
 *
 * Windows are produced in batches from a streaming {@linkcode SampleSource},
 * so memory is bounded by the batch size, not by the length of the track.
 *
 * @module
 */

import { ArgumentError, OpenL3Error } from "../util/errors.ts";
import { Resampler, TARGET_SR } from "./resample.ts";

/** Samples per window: one second at 48 kHz. */
export const WINDOW_SAMPLES: number = TARGET_SR;

/** A signal read front to back in chunks. */
export interface SampleSource {
  /** Total samples the source will produce. */
  readonly length: number;
  /** Fill `out` with the next samples; return how many were written (0 at the end). */
  read(out: Float64Array): number;
}

/** A {@linkcode SampleSource} over an array already in memory. */
export class ArraySource implements SampleSource {
  readonly length: number;
  #at = 0;
  /**
   * A source over the samples.
   * @param data The samples, read from the start.
   */
  constructor(readonly data: Float32Array | Float64Array) {
    this.length = data.length;
  }
  read(out: Float64Array): number {
    const n = Math.min(out.length, this.length - this.#at);
    out.set(this.data.subarray(this.#at, this.#at + n));
    this.#at += n;
    return n;
  }
}

/**
 * The 48 kHz source for mono audio at any rate: the input itself at 48 kHz,
 * else a streaming `kaiser_best` {@linkcode Resampler}.
 */
export function sourceAt48k(mono: Float32Array | Float64Array, sampleRate: number): SampleSource {
  return sampleRate === TARGET_SR ? new ArraySource(mono) : new Resampler(mono, sampleRate, TARGET_SR);
}

/** Framing options (OpenL3's `hop_size` and `center`; their defaults live in `pipeline/defaults.ts`). */
export interface FrameOptions {
  /** Seconds between window starts (OpenL3's default: 0.1). */
  hopSize: number;
  /** Prepend half a window of zeros so window i is centred at i·hop (OpenL3's default: true). */
  center: boolean;
}

/** What framing a signal of a given length yields. */
export interface FramePlan {
  /** Seconds between window starts (timestamps are i · hopSize). */
  hopSize: number;
  /** Length of the 48 kHz signal before padding. */
  length: number;
  /** Samples between windows: int(hop_size * 48000). */
  hop: number;
  /** Zeros prepended (24 000 with centring, else 0). */
  front: number;
  /** Length after centring and end padding. */
  paddedLength: number;
  /** Number of windows. */
  windows: number;
  /** Warnings OpenL3 would raise (short audio). */
  warnings: string[];
}

/**
 * Work out the framing of `length` samples at 48 kHz.
 *
 * @example
 * ```ts
 * import { planFrames } from "./frame.ts";
 * import assert from "node:assert/strict";
 * // 2 s at 22 050 Hz → 96 000 samples at 48 kHz → 16 windows (spec §1.3).
 * assert.equal(planFrames(96000, { hopSize: 0.1, center: true }).windows, 16);
 * ```
 */
export function planFrames(length: number, options: FrameOptions): FramePlan {
  const { hopSize, center } = options;
  if (!(Number.isFinite(hopSize) && hopSize > 0)) {
    throw new ArgumentError(`hop size must be a positive number of seconds, got ${hopSize}`);
  }
  const hop = Math.trunc(hopSize * TARGET_SR);
  if (hop < 1) throw new ArgumentError(`hop size ${hopSize} s is shorter than one sample at 48 kHz`);
  if (!Number.isInteger(length) || length < 0) {
    throw new ArgumentError(`signal length must be a non-negative integer, got ${length}`);
  }
  if (length === 0) throw new OpenL3Error("got empty audio: there is nothing to embed");
  const warnings: string[] = [];
  if (length < WINDOW_SAMPLES) {
    warnings.push(
      `audio is ${(length / TARGET_SR).toFixed(3)} s, shorter than the 1 s window: it is padded with zeros`,
    );
  }
  const front = center ? WINDOW_SAMPLES / 2 : 0;
  const len = length + front;
  const pad = len < WINDOW_SAMPLES
    ? WINDOW_SAMPLES - len
    : Math.ceil((len - WINDOW_SAMPLES) / hop) * hop - (len - WINDOW_SAMPLES);
  const paddedLength = len + pad;
  const windows = 1 + Math.trunc((paddedLength - WINDOW_SAMPLES) / hop);
  return { hopSize, length, hop, front, paddedLength, windows, warnings };
}

/** Timestamps (seconds) of windows `start .. start+count-1`: i · hop_size. */
export function windowTimestamps(start: number, count: number, hopSize: number): Float64Array {
  return Float64Array.from({ length: count }, (_, k) => (start + k) * hopSize);
}

/** One batch of windows. */
export interface WindowBatch {
  /** Index of the first window in the batch. */
  start: number;
  /** Windows in this batch. */
  count: number;
  /**
   * `count × 48000` samples, window-major. The buffer is reused by the next
   * batch: copy it if you keep it.
   */
  samples: Float64Array;
  /** Timestamps (s) of these windows. */
  timestamps: Float64Array;
}

/**
 * Cut a 48 kHz source into the windows of a plan, `batchSize` at a time.
 * Memory: one buffer of `(batchSize - 1) · hop + 48000` samples plus the
 * batch itself, whatever the length of the source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ArraySource, frameBatches, planFrames } from "./frame.ts";
 * const plan = planFrames(96000, { hopSize: 0.1, center: true });
 * let n = 0;
 * for (const b of frameBatches(new ArraySource(new Float64Array(96000)), plan, 5)) n += b.count;
 * assert.equal(n, 16);
 * ```
 */
export function* frameBatches(
  source: SampleSource,
  plan: FramePlan,
  batchSize: number,
): Generator<WindowBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError(`batch size must be a positive integer, got ${batchSize}`);
  }
  if (plan.length !== source.length) {
    throw new ArgumentError(`the plan is for ${plan.length} samples, the source has ${source.length}`);
  }
  const { hop, front, windows, hopSize } = plan;
  // span[0] is padded sample `spanStart`; the padded signal is
  // [front zeros][source][end zeros], read through `fill`.
  const spanLength = (batchSize - 1) * hop + WINDOW_SAMPLES;
  const span = new Float64Array(spanLength);
  const samples = new Float64Array(batchSize * WINDOW_SAMPLES);
  let spanStart = 0;
  let spanFilled = 0; // padded samples held: [spanStart, spanStart + spanFilled)
  let consumed = 0; // source samples read so far

  const fill = (upTo: number) => {
    // make span hold padded samples [spanStart, upTo)
    while (spanStart + spanFilled < upTo) {
      const p = spanStart + spanFilled; // next padded index
      const want = upTo - p;
      const dst = span.subarray(spanFilled, spanFilled + want);
      if (p < front) {
        const z = Math.min(want, front - p);
        dst.fill(0, 0, z);
        spanFilled += z;
      } else if (consumed < source.length) {
        const got = source.read(dst.subarray(0, Math.min(want, source.length - consumed)));
        if (got === 0) throw new OpenL3Error("sample source ended before its declared length");
        consumed += got;
        spanFilled += got;
      } else {
        dst.fill(0);
        spanFilled += want;
      }
    }
  };

  // drop the padded samples before `to` (reading past any that no window needs)
  const advance = (to: number) => {
    while (spanStart < to) {
      if (spanFilled === 0) fill(spanStart + Math.min(spanLength, to - spanStart));
      const d = Math.min(to - spanStart, spanFilled);
      span.copyWithin(0, d, spanFilled);
      spanFilled -= d;
      spanStart += d;
    }
  };

  for (let start = 0; start < windows; start += batchSize) {
    const count = Math.min(batchSize, windows - start);
    const first = start * hop;
    advance(first);
    fill(first + (count - 1) * hop + WINDOW_SAMPLES);
    for (let k = 0; k < count; k++) {
      samples.set(span.subarray(k * hop, k * hop + WINDOW_SAMPLES), k * WINDOW_SAMPLES);
    }
    yield {
      start,
      count,
      samples: samples.subarray(0, count * WINDOW_SAMPLES),
      timestamps: windowTimestamps(start, count, hopSize),
    };
  }
}
