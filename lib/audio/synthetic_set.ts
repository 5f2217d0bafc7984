/**
 * The synthetic test set of the original project: eight 30-second sounds
 * (three major chords, a bass tone, a bell tone, a harmonic stack, white and
 * "pink" noise) whose similarities the comparison step checks.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { Rng } from "../util/rng.ts";

/** The envelope of the original: fractions of the duration and the sustain level. */
export const ADSR = { attack: 0.1, decay: 0.1, sustain: 0.7, release: 0.2 } as const;

/** Peak amplitude of the tonal sounds before the envelope (headroom for MP3). */
export const TONE_AMPLITUDE = 0.8;

/** One sound of the set. */
export interface SoundSpec {
  /** File stem, e.g. `c_major_chord`. */
  name: string;
  /** Group used by the comparison step. */
  group: "chord" | "tone" | "noise";
  /** Component frequencies (Hz) of tonal sounds; empty for noise. */
  frequencies: number[];
  /** Noise kind for noise sounds. */
  noise?: "white" | "brown" | "pink";
}

/** The eight sounds of the original, in its order. */
export const TEST_SOUNDS: readonly SoundSpec[] = [
  { name: "c_major_chord", group: "chord", frequencies: [261.63, 329.63, 392.0] },
  { name: "g_major_chord", group: "chord", frequencies: [392.0, 493.88, 587.33] },
  { name: "f_major_chord", group: "chord", frequencies: [349.23, 440.0, 523.25] },
  { name: "bass_sound", group: "tone", frequencies: [80] },
  { name: "bell_sound", group: "tone", frequencies: [1000] },
  { name: "complex_harmonic", group: "tone", frequencies: [220, 440, 880, 1320] },
  { name: "white_noise", group: "noise", frequencies: [], noise: "white" },
  // The original's "pink" noise is the cumulative sum of white noise: really brown (1/f²) noise.
  { name: "pink_noise", group: "noise", frequencies: [], noise: "brown" },
];

/** A true 1/f pink noise, offered beside the original's set. */
export const TRUE_PINK: SoundSpec = {
  name: "pink_noise_1f",
  group: "noise",
  frequencies: [],
  noise: "pink",
};

/** numpy.linspace(a, b, n) (endpoint included). */
function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + (i * (b - a)) / (n - 1)));
}

/**
 * The ADSR envelope over `n` samples: linear attack 0→1, decay 1→sustain,
 * sustain, release sustain→0, segment lengths int(fraction · n).
 */
export function adsrEnvelope(n: number): Float64Array {
  const a = Math.trunc(ADSR.attack * n);
  const d = Math.trunc(ADSR.decay * n);
  const r = Math.trunc(ADSR.release * n);
  const s = n - a - d - r;
  return Float64Array.from([
    ...linspace(0, 1, a),
    ...linspace(1, ADSR.sustain, d),
    ...new Array(s).fill(ADSR.sustain),
    ...linspace(ADSR.sustain, 0, r),
  ]);
}

/** Mean of unit sines at the given frequencies (a chord is "the mean of its sines"). */
export function meanOfSines(frequencies: number[], sampleRate: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (const f of frequencies) {
    const w = (2 * Math.PI * f) / sampleRate;
    for (let i = 0; i < n; i++) out[i] += Math.sin(w * i) / frequencies.length;
  }
  return out;
}

/** Paul Kellet's refined pink-noise filter over white noise, normalised to peak 1. */
function pinkNoise(rng: Rng, n: number): Float64Array {
  const out = new Float64Array(n);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.normal(0, 0.1);
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return normalisePeak(out);
}

function normalisePeak(x: Float64Array): Float64Array {
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  if (peak > 0) { for (let i = 0; i < x.length; i++) x[i] /= peak; }
  return x;
}

/**
 * Synthesise one sound.
 *
 * @param spec Which sound.
 * @param sampleRate Samples per second.
 * @param seconds Duration.
 * @param seed Seed of the noise generator (each noise sound derives its own stream from it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { synthesize, TEST_SOUNDS } from "./synthetic_set.ts";
 * const x = synthesize(TEST_SOUNDS[0], 22050, 1, 42);
 * assert.ok(x.length === 22050);
 * ```
 */
export function synthesize(spec: SoundSpec, sampleRate: number, seconds: number, seed: number): Float64Array {
  if (!(sampleRate > 0) || !(seconds > 0)) {
    throw new ArgumentError(
      `synthesize: need a positive rate and duration, got ${sampleRate} Hz, ${seconds} s`,
    );
  }
  const n = Math.round(sampleRate * seconds);
  if (spec.noise) {
    // a separate stream per sound, so adding a sound never changes another
    const rng = new Rng(seed ^ hashName(spec.name));
    if (spec.noise === "pink") return pinkNoise(rng, n);
    const white = Float64Array.from({ length: n }, () => rng.normal(0, 0.1));
    if (spec.noise === "white") return white;
    for (let i = 1; i < n; i++) white[i] += white[i - 1]; // cumulative sum
    return normalisePeak(white);
  }
  const tone = meanOfSines(spec.frequencies, sampleRate, n);
  const env = adsrEnvelope(n);
  for (let i = 0; i < n; i++) tone[i] *= TONE_AMPLITUDE * env[i];
  return tone;
}

function hashName(name: string): number {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}
