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
  /** `count × 48000` samples, window-major (a buffer of its own: it may be kept or transferred). */
  samples: Float64Array;
  /** Timestamps (s) of these windows. */
  timestamps: Float64Array;
}

/**
 * Framing fed in chunks: {@linkcode push} the 48 kHz signal as it is
 * resampled, take the batches that become complete, and {@linkcode end} it
 * for the last windows, padded as OpenL3 pads them. The number of windows is
 * known only at the end; memory is one batch's span whatever the length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WindowFramer } from "./frame.ts";
 * const framer = new WindowFramer({ hopSize: 0.1, center: true }, 5);
 * let n = framer.push(new Float64Array(60000)).reduce((s, b) => s + b.count, 0);
 * n += framer.push(new Float64Array(36000)).reduce((s, b) => s + b.count, 0);
 * const { batches, plan } = framer.end();
 * n += batches.reduce((s, b) => s + b.count, 0);
 * assert.deepEqual([n, plan.windows], [16, 16]); // 2 s at 48 kHz
 * ```
 */
export class WindowFramer {
  /** OpenL3's hop and centring. */
  readonly options: FrameOptions;
  /** Windows per batch. */
  readonly batchSize: number;
  readonly #hop: number;
  /** The samples later windows may still need (at most two windows' worth), from #start on. */
  readonly #buf = new Float64Array(2 * WINDOW_SAMPLES);
  /** Index in the padded signal of #buf[0]. */
  #start = 0;
  #filled = 0;
  /** Source samples pushed. */
  #length = 0;
  #next = 0;
  #pending: Float64Array | null = null;
  #pendingCount = 0;
  #pendingStart = 0;
  #ended = false;

  /**
   * A framer for OpenL3's hop and centring, giving batches of `batchSize` windows.
   * @param options OpenL3's `hop_size` and `center`.
   * @param batchSize Windows per batch.
   */
  constructor(options: FrameOptions, batchSize: number) {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ArgumentError(`batch size must be a positive integer, got ${batchSize}`);
    }
    planFrames(1, options); // checks the hop
    this.options = options;
    this.batchSize = batchSize;
    this.#hop = Math.trunc(options.hopSize * TARGET_SR);
    if (options.center) this.#feed(new Float64Array(WINDOW_SAMPLES / 2), []);
  }

  /** Windows emitted so far. */
  get windows(): number {
    return this.#next;
  }

  /** Source samples pushed so far. */
  get length(): number {
    return this.#length;
  }

  /** Feed samples; returns the batches now complete. */
  push(x: ArrayLike<number>): WindowBatch[] {
    if (this.#ended) throw new ArgumentError("WindowFramer: push after end");
    this.#length += x.length;
    const out: WindowBatch[] = [];
    this.#feed(x, out);
    return out;
  }

  /**
   * Take samples in: skip what no window needs (a hop longer than a window leaves gaps), keep what the next
   * windows need, and emit each window as soon as it is whole. Memory: two windows and the batch being
   * filled, whatever the hop and the batch size.
   */
  #feed(x: ArrayLike<number>, out: WindowBatch[]): void {
    const hop = this.#hop, buf = this.#buf;
    let at = 0;
    while (at < x.length) {
      const nextStart = this.#next * hop;
      if (this.#filled === 0 && this.#start < nextStart) {
        const d = Math.min(nextStart - this.#start, x.length - at);
        at += d;
        this.#start += d;
        continue;
      }
      const take = Math.min(x.length - at, buf.length - this.#filled);
      buf.set(subarrayOf(x, at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      for (
        let s = this.#next * hop - this.#start;
        s + WINDOW_SAMPLES <= this.#filled;
        s = this.#next * hop - this.#start
      ) {
        this.#take(s, out);
      }
      // drop what no later window needs
      const keep = this.#next * hop - this.#start;
      if (keep >= this.#filled) {
        this.#start += this.#filled;
        this.#filled = 0;
      } else if (keep > 0) {
        buf.copyWithin(0, keep, this.#filled);
        this.#filled -= keep;
        this.#start += keep;
      }
    }
  }

  /** The window starting at #buf[s] (zeros past what is buffered) into the batch being filled. */
  #take(s: number, out: WindowBatch[]): void {
    if (!this.#pending) {
      this.#pending = new Float64Array(this.batchSize * WINDOW_SAMPLES);
      this.#pendingStart = this.#next;
    }
    const o = this.#pendingCount * WINDOW_SAMPLES;
    const have = Math.max(0, Math.min(WINDOW_SAMPLES, this.#filled - s));
    this.#pending.set(this.#buf.subarray(s, s + have), o);
    this.#pending.fill(0, o + have, o + WINDOW_SAMPLES);
    this.#pendingCount++;
    this.#next++;
    if (this.#pendingCount === this.batchSize) out.push(this.#flush());
  }

  #flush(): WindowBatch {
    const count = this.#pendingCount;
    const samples = count === this.batchSize
      ? this.#pending!
      : this.#pending!.slice(0, count * WINDOW_SAMPLES);
    const batch = {
      start: this.#pendingStart,
      count,
      samples,
      timestamps: windowTimestamps(this.#pendingStart, count, this.options.hopSize),
    };
    this.#pending = null;
    this.#pendingCount = 0;
    return batch;
  }

  /** The signal has ended: the remaining windows (zero-padded at the end), and the whole plan. */
  end(): { batches: WindowBatch[]; plan: FramePlan } {
    if (this.#ended) throw new ArgumentError("WindowFramer: end twice");
    this.#ended = true;
    const plan = planFrames(this.#length, this.options);
    const batches: WindowBatch[] = [];
    while (this.#next < plan.windows) this.#take(this.#next * this.#hop - this.#start, batches);
    if (this.#pendingCount > 0) batches.push(this.#flush());
    return { batches, plan };
  }
}

function subarrayOf(x: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  return (x as Float64Array).subarray
    ? (x as Float64Array).subarray(from, to)
    : Array.prototype.slice.call(x, from, to);
}

/**
 * Cut a 48 kHz source into the windows of a plan, `batchSize` at a time.
 * Memory: two windows' samples plus the batch itself, whatever the length
 * of the source and the hop.
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
  if (plan.length !== source.length) {
    throw new ArgumentError(`the plan is for ${plan.length} samples, the source has ${source.length}`);
  }
  const framer = new WindowFramer({ hopSize: plan.hopSize, center: plan.front > 0 }, batchSize);
  const chunk = new Float64Array(1 << 16);
  let consumed = 0;
  while (consumed < source.length) {
    const got = source.read(chunk.subarray(0, Math.min(chunk.length, source.length - consumed)));
    if (got === 0) throw new OpenL3Error("sample source ended before its declared length");
    consumed += got;
    yield* framer.push(chunk.subarray(0, got));
  }
  yield* framer.end().batches;
}
