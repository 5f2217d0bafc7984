/**
 * The OpenL3 spectrogram frontends on the CPU, in float64 (spec §2): one
 * 48 000-sample window in, one dB patch (bins × frames) out. This is the
 * reference the WGSL kernels are tested against and the fallback where no
 * usable GPU exists.
 *
 * Steps, each after the librosa 0.8 function it mirrors:
 * `librosa.stft` (periodic Hann, reflect padding of n_fft/2 for the mel
 * inputs, none for linear), magnitude `np.abs`, `librosa.filters.mel`
 * product, then `10·log10(max(S, 1e-10))`, the 80 dB floor below the patch
 * maximum, and subtraction of that maximum (`librosa.power_to_db(S, ref=max,
 * top_db=80)` applied to the magnitude, as Kapre 0.1.4 did).
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { fftFromBitReversed, fftPlan, realFftTwiddles } from "./fft.ts";
import { WINDOW_SAMPLES } from "../audio/frame.ts";
import {
  AMIN,
  frontendFilters,
  type FrontendSpec,
  frontendSpec,
  hannCache,
  type InputRepr,
  TOP_DB,
} from "./spec.ts";

/**
 * Magnitude STFT of one window, frame-major: `out[j * (nFft/2+1) + f] = |X_j[f]|`
 * (`np.abs(librosa.stft(y, n_fft, hop_length=242, window="hann", center, pad_mode="reflect"))`, transposed).
 */
export function stftMagnitude(window: ArrayLike<number>, spec: FrontendSpec): Float64Array {
  const { nFft, hop, frames } = spec;
  const half = nFft / 2;
  const nBins = half + 1;
  const n = window.length;
  const pad = spec.center ? half : 0;
  if (pad > 0 && n <= pad) {
    throw new ArgumentError(`window of ${n} samples is too short to reflect-pad by ${pad}`);
  }
  // np.pad(..., mode="reflect"): the edge sample is not repeated
  const at = (p: number) => {
    const i = p - pad;
    return i < 0 ? window[-i] : i >= n ? window[2 * (n - 1) - i] : window[i];
  };
  const hann = hannCache(nFft);
  // Real FFT of nFft points as a complex FFT of nFft/2 points (even samples real, odd imaginary),
  // then the split step X[f] = E[f] + e^{-2πif/nFft} O[f]. The samples are loaded in bit-reversed
  // order, so the FFT skips its permutation; frames away from the edges read the window directly.
  const re = new Float64Array(half), im = new Float64Array(half);
  const out = new Float64Array(frames * nBins);
  const { cos, sin } = realFftTwiddles(nFft);
  const rev = fftPlan(half).rev;
  for (let j = 0; j < frames; j++) {
    const s0 = j * hop;
    if (s0 - pad >= 0 && s0 - pad + nFft <= n) {
      const o = s0 - pad;
      for (let k = 0; k < half; k++) {
        const r = rev[k];
        re[r] = hann[2 * k] * window[o + 2 * k];
        im[r] = hann[2 * k + 1] * window[o + 2 * k + 1];
      }
    } else {
      for (let k = 0; k < half; k++) {
        const r = rev[k];
        re[r] = hann[2 * k] * at(s0 + 2 * k);
        im[r] = hann[2 * k + 1] * at(s0 + 2 * k + 1);
      }
    }
    fftFromBitReversed(re, im);
    const row = j * nBins;
    // f = 0 and f = half: X = Z[0].re ± Z[0].im (real)
    out[row] = Math.abs(re[0] + im[0]);
    out[row + half] = Math.abs(re[0] - im[0]);
    for (let f = 1; f < half; f++) {
      const b = half - f;
      const ra = re[f], ia = im[f], rb = re[b], ib = im[b];
      const er = 0.5 * (ra + rb), ei = 0.5 * (ia - ib);
      const or = 0.5 * (ia + ib), oi = -0.5 * (ra - rb);
      const c = cos[f], sn = sin[f];
      const xr = er + or * c + oi * sn;
      const xi = ei + oi * c - or * sn;
      out[row + f] = Math.sqrt(xr * xr + xi * xi);
    }
  }
  return out;
}

/**
 * `10·log10(max(S, 1e-10))`, floored at 80 dB below the maximum, minus the
 * maximum: the patch ends up in [-80, 0] with max 0. In place.
 */
export function toDecibels(s: Float64Array | Float32Array): void {
  let max = -Infinity;
  for (let i = 0; i < s.length; i++) {
    const v = 10 * Math.log10(Math.max(s[i], AMIN));
    s[i] = v;
    if (v > max) max = v;
  }
  const floor = max - TOP_DB;
  for (let i = 0; i < s.length; i++) s[i] = Math.max(s[i], floor) - max;
}

/**
 * One window's dB patch, row-major (bins × frames): the (H, W) image the
 * network takes, frequency as height and time as width.
 *
 * @param window 48 000 samples at 48 kHz.
 * @param repr `mel256`, `mel128` or `linear`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spectrogramPatch } from "./cpu_spectrogram.ts";
 * const tone = Float32Array.from({ length: 48000 }, (_, n) => Math.sin(2 * Math.PI * 1000 * n / 48000));
 * const patch = spectrogramPatch(tone, "mel128");
 * assert.ok(patch.length === 128 * 199 && Math.max(...patch) === 0);
 * ```
 */
export function spectrogramPatch(window: ArrayLike<number>, repr: InputRepr): Float32Array {
  return Float32Array.from(spectrogramPatch64(window, repr));
}

/**
 * {@linkcode spectrogramPatch} before its float32 rounding: the float64 dB
 * values (for comparisons with a float64 network).
 */
export function spectrogramPatch64(window: ArrayLike<number>, repr: InputRepr): Float64Array {
  const spec = frontendSpec(repr);
  if (window.length !== WINDOW_SAMPLES) {
    throw new ArgumentError(`a window must hold ${WINDOW_SAMPLES} samples, got ${window.length}`);
  }
  const mag = stftMagnitude(window, spec);
  const nBins = spec.nFft / 2 + 1;
  const { start, length, offset, weights } = frontendFilters(repr);
  const s = new Float64Array(spec.bins * spec.frames);
  for (let b = 0; b < spec.bins; b++) {
    for (let j = 0; j < spec.frames; j++) {
      let acc = 0;
      const base = j * nBins + start[b];
      for (let k = 0; k < length[b]; k++) acc += weights[offset[b] + k] * mag[base + k];
      s[b * spec.frames + j] = acc;
    }
  }
  toDecibels(s);
  return s;
}

/**
 * Patches for `count` consecutive windows (window-major samples), written into
 * `out` in the network's layout (N, 1, bins, frames).
 */
export function spectrogramBatch(
  samples: Float32Array | Float64Array,
  count: number,
  repr: InputRepr,
  out?: Float32Array,
): Float32Array {
  const spec = frontendSpec(repr);
  const size = spec.bins * spec.frames;
  if (samples.length < count * WINDOW_SAMPLES) {
    throw new ArgumentError(`spectrogramBatch: ${count} windows need ${count * WINDOW_SAMPLES} samples`);
  }
  const result = out ?? new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    result.set(
      spectrogramPatch(samples.subarray(i * WINDOW_SAMPLES, (i + 1) * WINDOW_SAMPLES), repr),
      i * size,
    );
  }
  return result;
}
