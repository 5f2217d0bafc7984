/**
 * A song's timeline: the loudness of 32 frequency bands (60 Hz – 8 kHz, mel
 * spaced) every quarter of a second, each step summing a second of audio
 * around it — the song's own time structure, compact enough to store for
 * every song, so that two files can be compared moment by moment and told
 * to be the same recording (`analysis/duplicates.ts`).
 *
 * Why bands of the audio and not the frame embeddings: measured on this
 * project's generated collection with the weights that can be had here
 * (seeded, untrained), a lossless copy of a song resampled from 96 kHz is
 * further, frame for frame, from the original's embeddings (median cosine
 * 0.9882) than the original's next frame is (0.9926) or another song's frame
 * is (0.9925): the network's input is decibels down to 80 below the window's
 * peak, where codecs and resamplers differ inaudibly, and the embeddings
 * follow those differences. Bands below 8 kHz in decibels floored 60 below
 * each step's loudest band do not: copies align at cosine 0.80–1.00, other
 * songs at most 0.41 (`deno task bench-duplicates` gives the full figures).
 *
 * Built as the feed streams the 48 kHz samples (the same signal the windows
 * are cut from), so no audio is held: FFTs of 2 048 samples every 1 024,
 * their band energies summed over each step's second.
 *
 * Stored as one byte per band and step (half decibels below the song's
 * loudest band): 32 × 4 = 128 bytes a second, {@linkcode TIMELINE_BYTES_PER_MINUTE} a minute.
 *
 * @module
 */

import { fft } from "./fft.ts";
import { melFilters, type SparseFilters, sparseRows } from "./mel_filters.ts";

/** Seconds between timeline steps. */
export const TIMELINE_STEP = 0.25;
/** Bands per step. */
export const TIMELINE_BANDS = 32;
/** Seconds of audio each step sums, centred on it. */
export const TIMELINE_SPAN = 1;
/** The version of the timeline (another step, span or band layout is another version). */
export const TIMELINE_VERSION = 1;
/** Bytes of timeline per minute of audio. */
export const TIMELINE_BYTES_PER_MINUTE: number = (60 / TIMELINE_STEP) * TIMELINE_BANDS;

const SR = 48000, N = 2048, HOP = 1024, FMIN = 60, FMAX = 8000;

/** A song's timeline as stored. */
export interface Timeline {
  /** How it was made ({@linkcode TIMELINE_VERSION}). */
  version: number;
  /** Seconds between steps. */
  step: number;
  /** Bands per step. */
  bands: number;
  /** steps × bands: 255 − 2 × (decibels below the song's loudest band), 0 at 127.5 dB below or less. */
  codes: Uint8Array;
}

let filters: SparseFilters | undefined;
const window = Float64Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N));

/**
 * Builds a timeline from 48 kHz mono samples pushed in chunks of any size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimelineBuilder } from "./timeline.ts";
 * const b = new TimelineBuilder();
 * // 2 s of a 440 Hz tone, then 2 s of a 2 kHz tone
 * const x = Float64Array.from({ length: 4 * 48000 }, (_, i) => Math.sin(2 * Math.PI * (i < 96000 ? 440 : 2000) * i / 48000));
 * b.push(x.subarray(0, 70000));
 * b.push(x.subarray(70000));
 * const t = b.result();
 * assert.equal(t.codes.length, 16 * 32); // 4 s at 4 steps a second
 * const loudest = (s: number) => {
 *   const row = Array.from(t.codes.subarray(s * 32, (s + 1) * 32));
 *   return row.indexOf(Math.max(...row));
 * };
 * assert.ok(loudest(2) < loudest(13)); // the 2 kHz band is above the 440 Hz one
 * ```
 */
export class TimelineBuilder {
  readonly #buf = new Float64Array(N);
  #filled = 0;
  #frames = 0; // FFT frames done
  #samples = 0;
  readonly #re = new Float64Array(N);
  readonly #im = new Float64Array(N);
  readonly #pow = new Float64Array(N / 2 + 1);
  /** Band energies of the frames not yet summed into every step they belong to: [frame index, energies]. */
  readonly #pending: { centre: number; bands: Float64Array }[] = [];
  readonly #steps: Float64Array[] = [];

  constructor() {
    filters ??= sparseRows(melFilters(SR, N, TIMELINE_BANDS, FMIN, FMAX), TIMELINE_BANDS, N / 2 + 1);
  }

  /** Add samples (48 kHz, mono). */
  push(samples: ArrayLike<number>): void {
    this.#samples += samples.length;
    let at = 0;
    while (at < samples.length) {
      const take = Math.min(N - this.#filled, samples.length - at);
      for (let i = 0; i < take; i++) this.#buf[this.#filled + i] = samples[at + i];
      this.#filled += take;
      at += take;
      if (this.#filled === N) {
        this.#frame();
        this.#buf.copyWithin(0, HOP);
        this.#filled = N - HOP;
      }
    }
    this.#settle(false);
  }

  #frame(): void {
    const re = this.#re, im = this.#im, pow = this.#pow;
    for (let i = 0; i < N; i++) {
      re[i] = this.#buf[i] * window[i];
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k <= N / 2; k++) pow[k] = re[k] * re[k] + im[k] * im[k];
    const f = filters!, bands = new Float64Array(TIMELINE_BANDS);
    for (let m = 0; m < TIMELINE_BANDS; m++) {
      let e = 0;
      const o = f.offset[m], s = f.start[m];
      for (let k = 0; k < f.length[m]; k++) e += f.weights[o + k] * pow[s + k];
      bands[m] = e;
    }
    this.#pending.push({ centre: (this.#frames * HOP + N / 2) / SR, bands });
    this.#frames++;
  }

  /** Sum frames into the steps whose span they have passed; `end`: every step the audio covers. */
  #settle(end: boolean): void {
    const stepsInAudio = Math.floor(this.#samples / SR / TIMELINE_STEP + 1e-9);
    const latest = this.#pending.at(-1)?.centre ?? -Infinity;
    for (;;) {
      const k = this.#steps.length;
      if (k >= stepsInAudio) break;
      const centre = (k + 0.5) * TIMELINE_STEP;
      const lo = centre - TIMELINE_SPAN / 2, hi = centre + TIMELINE_SPAN / 2;
      if (!end && latest < hi) break; // frames of its span still to come
      const sum = new Float64Array(TIMELINE_BANDS);
      let n = 0;
      for (const p of this.#pending) {
        if (p.centre < lo || p.centre >= hi) continue;
        for (let m = 0; m < TIMELINE_BANDS; m++) sum[m] += p.bands[m];
        n++;
      }
      for (let m = 0; m < TIMELINE_BANDS; m++) sum[m] = 10 * Math.log10(sum[m] / Math.max(1, n) + 1e-20);
      this.#steps.push(sum);
      // frames before the next step's span are done with
      const nextLo = (k + 1.5) * TIMELINE_STEP - TIMELINE_SPAN / 2;
      while (this.#pending.length && this.#pending[0].centre < nextLo) this.#pending.shift();
    }
  }

  /** The timeline of everything pushed. */
  result(): Timeline {
    // the last partial FFT frame: zero-padded
    if (this.#filled > N - HOP) {
      this.#buf.fill(0, this.#filled);
      this.#frame();
    }
    this.#settle(true);
    let top = -Infinity;
    for (const s of this.#steps) for (const v of s) if (v > top) top = v;
    const codes = new Uint8Array(this.#steps.length * TIMELINE_BANDS);
    this.#steps.forEach((s, k) => {
      for (let m = 0; m < TIMELINE_BANDS; m++) {
        codes[k * TIMELINE_BANDS + m] = Math.max(0, Math.min(255, Math.round(255 + 2 * (s[m] - top))));
      }
    });
    return { version: TIMELINE_VERSION, step: TIMELINE_STEP, bands: TIMELINE_BANDS, codes };
  }
}

/** The timeline of a whole 48 kHz mono signal. */
export function timelineOf(samples: ArrayLike<number>): Timeline {
  const b = new TimelineBuilder();
  b.push(samples);
  return b.result();
}
