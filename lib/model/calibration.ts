/**
 * Calibration of the int8 network: static activation ranges measured by running the folded float32
 * network ({@linkcode buildFoldedOnnx}, every convolution's output tapped) over a fixed set of windows this
 * project generates — nothing downloaded: the original project's eight synthetic sounds, tones from 40 Hz
 * to 12 kHz, white/pink/brown noise, click trains, chirps, and silence, each at several levels.
 *
 * Ranges: the input's and the last convolution's are min/max; the ReLU outputs are min/max or a percentile
 * of all their values (`percentile`, clipping the rare largest activations for a finer step everywhere
 * else), read from a histogram of 1/32-octave bins.
 *
 * @module
 */

import { ArgumentError, OpenL3Error } from "../util/errors.ts";
import { Rng } from "../util/rng.ts";
import { synthesize, TEST_SOUNDS, TRUE_PINK } from "../audio/synthetic_set.ts";
import { TARGET_SR } from "../audio/resample.ts";
import { spectrogramPatch } from "../frontend/cpu_spectrogram.ts";
import type { OpenL3Weights } from "./onnx_graph.ts";
import {
  buildFoldedOnnx,
  CALIBRATION_VERSION,
  type CalibrationMethod,
  type Int8Calibration,
  tapName,
} from "./int8_graph.ts";
import { loadCpuOrt } from "./inference.ts";

/** Options of {@linkcode calibrate}. */
export interface CalibrateOptions {
  /**
   * How the ReLU outputs' ranges are chosen.
   * @default {"percentile"}
   */
  method?: CalibrationMethod;
  /**
   * The percentile of `percentile`.
   * @default {99.999}
   */
  percentile?: number;
  /** Called after each chunk of windows (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** The windows' samples (48 kHz, 48 000 each); default {@linkcode calibrationWindows}. */
  windows?: Float64Array[];
}

/** The default method, chosen by `bench/int8.ts`'s agreement measurement (see the README). */
export const DEFAULT_CALIBRATION: { method: CalibrationMethod; percentile: number } = {
  method: "percentile",
  percentile: 99.999,
};

const SECOND = TARGET_SR;

function atLevel(x: Float64Array, db: number): Float64Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const g = peak > 0 ? 10 ** (db / 20) / peak : 0;
  return x.map((v) => v * g);
}

/**
 * The calibration set: 1 s windows at 48 kHz (version {@linkcode CALIBRATION_VERSION}; any change to it
 * must raise that version, so cached calibrations are measured again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { calibrationWindows } from "./calibration.ts";
 * const w = calibrationWindows();
 * assert.ok(w.length >= 60 && w.every((x) => x.length === 48000));
 * ```
 */
export function calibrationWindows(): Float64Array[] {
  const out: Float64Array[] = [];
  const rng = new Rng(20261204);
  // the synthetic set: attack, sustain and release of each sound
  for (const spec of TEST_SOUNDS) {
    const x = synthesize(spec, SECOND, 10, 42);
    for (const at of [0.5, 4.5, 8.6]) {
      out.push(x.slice(Math.round(at * SECOND), Math.round(at * SECOND) + SECOND));
    }
  }
  const n = SECOND;
  // tones and two-tone mixes, 40 Hz – 12 kHz, at several levels
  const freqs = [40, 110, 261.63, 640, 1500, 3500, 7000, 12000];
  freqs.forEach((f, i) => {
    const g = freqs[(i + 3) % freqs.length];
    for (const db of [-1, -20, -50]) {
      out.push(atLevel(Float64Array.from({ length: n }, (_, t) => Math.sin(2 * Math.PI * f * t / n)), db));
    }
    out.push(atLevel(
      Float64Array.from(
        { length: n },
        (_, t) => Math.sin(2 * Math.PI * f * t / n) + 0.3 * Math.sin(2 * Math.PI * g * t / n),
      ),
      -6,
    ));
  });
  // noises: white, pink (Kellet), brown, at several levels
  for (const spec of ["white_noise", "pink_noise"]) {
    const x = synthesize(TEST_SOUNDS.find((s) => s.name === spec)!, SECOND, 1, 7);
    for (const db of [-3, -30, -70]) out.push(atLevel(x, db));
  }
  const pink = synthesize(TRUE_PINK, SECOND, 1, 7);
  for (const db of [-3, -30, -70]) out.push(atLevel(pink, db));
  // click trains: 2, 12 and 60 clicks a second
  for (const rate of [2, 12, 60]) {
    for (const db of [-1, -40]) {
      const x = new Float64Array(n);
      for (let t = 0; t < n; t += Math.round(n / rate)) x[t] = rng.uniform() < 0.5 ? 1 : -1;
      out.push(atLevel(x, db));
    }
  }
  // chirps, an amplitude-modulated tone, a decaying pluck
  for (const [f0, f1] of [[50, 15000], [8000, 200]]) {
    out.push(atLevel(
      Float64Array.from({ length: n }, (_, t) => {
        const s = t / n;
        return Math.sin(2 * Math.PI * (f0 * s + (f1 - f0) * s * s / 2));
      }),
      -3,
    ));
  }
  out.push(
    Float64Array.from(
      { length: n },
      (_, t) => 0.5 * Math.sin(2 * Math.PI * 440 * t / n) * (0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t / n)),
    ),
  );
  out.push(
    Float64Array.from(
      { length: n },
      (_, t) => 0.9 * Math.exp(-6 * t / n) * Math.sin(2 * Math.PI * 196 * t / n),
    ),
  );
  // silence, and a whisper of noise
  out.push(new Float64Array(n));
  out.push(Float64Array.from({ length: n }, () => rng.normal(0, 1e-5)));
  return out;
}

/**
 * The histogram's bins: the top 14 bits of a positive float32 (exponent and 5 mantissa bits), so each
 * octave is split into 32 equal bins, read without a logarithm.
 */
const BIN_SHIFT = 18;
const BINS = 1 << (31 - BIN_SHIFT);

/** Values of one tapped output: min, max, and a histogram of the positive values by magnitude. */
class TapStats {
  min = Infinity;
  max = -Infinity;
  count = 0;
  readonly positive = new Float64Array(BINS);

  add(data: Float32Array): void {
    let min = this.min, max = this.max;
    const h = this.positive;
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < min) min = v;
      if (v > max) max = v;
      if (v > 0) h[bits[i] >>> BIN_SHIFT]++;
    }
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      throw new OpenL3Error("calibration: the float network produced a non-finite activation");
    }
    this.min = min;
    this.max = max;
    this.count += data.length;
  }

  /** The value below which `p` % of all values lie (upper edge of its bin, never above the max). */
  percentile(p: number): number {
    const target = this.count * (1 - p / 100);
    const edge = new Float32Array(new Uint32Array(1).buffer);
    const edgeBits = new Uint32Array(edge.buffer);
    let above = 0;
    for (let b = BINS - 1; b >= 0; b--) {
      above += this.positive[b];
      if (above > target) {
        edgeBits[0] = (b + 1) << BIN_SHIFT;
        return Math.min(this.max, edge[0]);
      }
    }
    return this.max;
  }
}

/**
 * Windows per run of the calibration network: its tapped outputs are large (13 MB a window for each of
 * the first block's); one at a time, in onnxruntime's memory arena, measured fastest here (120 ms a
 * mel256 window, against 306 ms for 4 without the arena).
 */
const CHUNK = 1;

/**
 * Measure the activation ranges of a network on the calibration set, on onnxruntime's CPU provider
 * (native, or WASM where the addon does not load).
 *
 * @throws {ArgumentError} for a percentile outside (50, 100].
 */
export async function calibrate(
  w: OpenL3Weights,
  options: CalibrateOptions = {},
): Promise<Int8Calibration> {
  const method = options.method ?? DEFAULT_CALIBRATION.method;
  const percentile = options.percentile ?? DEFAULT_CALIBRATION.percentile;
  if (method === "percentile" && !(percentile > 50 && percentile <= 100)) {
    throw new ArgumentError(`calibration percentile must be in (50, 100], got ${percentile}`);
  }
  const windows = options.windows ?? calibrationWindows();
  const [bins, frames] = w.arch.input;
  const { ort, sessionOptions } = await loadCpuOrt();
  const session = await ort.InferenceSession.create(buildFoldedOnnx(w, true), {
    ...sessionOptions,
    enableCpuMemArena: true,
  });
  const convs = 8;
  const stats = Array.from({ length: convs + 1 }, () => new TapStats()); // [input, conv 0 … 7]
  try {
    const size = bins * frames;
    for (let at = 0; at < windows.length; at += CHUNK) {
      const n = Math.min(CHUNK, windows.length - at);
      const patches = new Float32Array(n * size);
      for (let i = 0; i < n; i++) patches.set(spectrogramPatch(windows[at + i], w.arch.repr), i * size);
      const r = await session.run({ patch: new ort.Tensor("float32", patches, [n, 1, bins, frames]) });
      for (let t = -1; t < convs; t++) stats[t + 1].add(r[tapName(t)].data as Float32Array);
      options.onProgress?.(at + n, windows.length);
    }
  } finally {
    await session.release();
  }
  const ranges = stats.slice(1).map((s, i) => {
    const last = i === convs - 1;
    if (last) return { min: s.min, max: s.max };
    return { min: 0, max: method === "percentile" ? s.percentile(percentile) : s.max };
  });
  return {
    version: CALIBRATION_VERSION,
    method,
    ...(method === "percentile" ? { percentile } : {}),
    windows: windows.length,
    input: { min: stats[0].min, max: stats[0].max },
    ranges,
  };
}

/** The largest magnitude a calibrated range may have: activations of this batch-normalised network are O(10). */
export const MAX_RANGE = 1e4;
/** The narrowest width a calibrated range may have (an int8 step of 4e-7). */
export const MIN_RANGE_WIDTH = 1e-4;

/**
 * A calibration read back from JSON, checked field by field: every range finite, in order, at most
 * {@linkcode MAX_RANGE} in magnitude and at least {@linkcode MIN_RANGE_WIDTH} wide, the ReLU outputs' from 0.
 * Returns the calibration, or what is wrong with it (the caller measures again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCalibration } from "./calibration.ts";
 * const relu = { min: 0, max: 9 };
 * const good = { version: 1, method: "minmax", windows: 77, input: { min: -2, max: 2 },
 *   ranges: [relu, relu, relu, relu, relu, relu, relu, { min: -20, max: 19 }] };
 * assert.equal(typeof parseCalibration(JSON.stringify(good)), "object");
 * const poisoned = { ...good, ranges: [...good.ranges.slice(0, 7), { min: -1e30, max: 1e30 }] };
 * assert.equal(parseCalibration(JSON.stringify(poisoned)), "range 8 is [-1e+30, 1e+30]: not an activation range");
 * ```
 */
export function parseCalibration(text: string): Int8Calibration | string {
  let c: Int8Calibration;
  try {
    c = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (!c || typeof c !== "object") return "not a calibration";
  if (c.version !== CALIBRATION_VERSION) return `version ${c.version}, not ${CALIBRATION_VERSION}`;
  if (c.method !== "minmax" && c.method !== "percentile") return `unknown method ${JSON.stringify(c.method)}`;
  if (!Number.isInteger(c.windows) || c.windows < 1) return `windows ${JSON.stringify(c.windows)}`;
  if (!Array.isArray(c.ranges) || c.ranges.length !== 8) return "not 8 ranges";
  const problem = (r: unknown, what: string, relu: boolean): string | null => {
    const { min, max } = (r ?? {}) as { min: unknown; max: unknown };
    if (
      typeof min !== "number" || typeof max !== "number" || !Number.isFinite(min) || !Number.isFinite(max)
    ) {
      return `${what} is not two finite numbers`;
    }
    if (
      max - min < MIN_RANGE_WIDTH || Math.abs(min) > MAX_RANGE || Math.abs(max) > MAX_RANGE ||
      (relu && min !== 0)
    ) return `${what} is [${min}, ${max}]: not an activation range`;
    return null;
  };
  const wrong = problem(c.input, "the input range", false) ??
    c.ranges.map((r, i) => problem(r, `range ${i + 1}`, i < 7)).find((p) => p !== null);
  return wrong ?? c;
}
