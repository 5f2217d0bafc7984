/**
 * Slaney-style mel filter banks exactly as librosa 0.8 builds them
 * (`librosa.filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False,
 * norm="slaney")`, float32), plus a sparse form for the kernels.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOGSTEP = Math.log(6.4) / 27;

/** `librosa.hz_to_mel(f, htk=False)`: linear below 1 kHz, logarithmic above. */
export function hzToMel(f: number): number {
  return f >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOGSTEP : f / F_SP;
}

/** `librosa.mel_to_hz(m, htk=False)`. */
export function melToHz(m: number): number {
  return m >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOGSTEP * (m - MIN_LOG_MEL)) : F_SP * m;
}

/** `librosa.mel_frequencies(n, fmin, fmax, htk=False)`: n points evenly spaced in mel. */
export function melFrequencies(n: number, fmin: number, fmax: number): Float64Array {
  const lo = hzToMel(fmin), hi = hzToMel(fmax);
  return Float64Array.from({ length: n }, (_, i) => melToHz(n === 1 ? lo : lo + (i * (hi - lo)) / (n - 1)));
}

/**
 * `librosa.filters.mel` (Slaney normalisation), as a dense row-major
 * (nMels × (1 + nFft/2)) float32 matrix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { melFilters } from "./mel_filters.ts";
 * const w = melFilters(48000, 2048, 256);
 * assert.ok(w.length === 256 * 1025);
 * ```
 */
export function melFilters(sr: number, nFft: number, nMels: number, fmin = 0, fmax = sr / 2): Float32Array {
  if (!(sr > 0) || !Number.isInteger(nFft) || nFft < 2 || !Number.isInteger(nMels) || nMels < 1) {
    throw new ArgumentError(`melFilters: bad arguments sr=${sr}, nFft=${nFft}, nMels=${nMels}`);
  }
  const nBins = 1 + Math.floor(nFft / 2);
  const fftFreqs = Float64Array.from({ length: nBins }, (_, i) => (i * (sr / 2)) / (nBins - 1));
  const melF = melFrequencies(nMels + 2, fmin, fmax);
  const weights = new Float32Array(nMels * nBins);
  for (let m = 0; m < nMels; m++) {
    const fd0 = melF[m + 1] - melF[m], fd1 = melF[m + 2] - melF[m + 1];
    const enorm = 2 / (melF[m + 2] - melF[m]);
    for (let k = 0; k < nBins; k++) {
      const lower = -(melF[m] - fftFreqs[k]) / fd0;
      const upper = (melF[m + 2] - fftFreqs[k]) / fd1;
      const w = Math.max(0, Math.min(lower, upper));
      // librosa stores the triangle in float32, then scales it by the float64 norm
      weights[m * nBins + k] = Math.fround(w) * enorm;
    }
  }
  return weights;
}

/** A filter bank with each row cut to its nonzero span. */
export interface SparseFilters {
  /** Number of rows (bands). */
  rows: number;
  /** first nonzero column of each row */
  start: Uint32Array;
  /** number of columns from `start` */
  length: Uint32Array;
  /** offset of each row's weights in `weights` */
  offset: Uint32Array;
  /** the weights, row after row */
  weights: Float32Array;
}

/** Cut each row of a dense (rows × cols) matrix to its nonzero span. */
export function sparseRows(dense: Float32Array, rows: number, cols: number): SparseFilters {
  const start = new Uint32Array(rows), length = new Uint32Array(rows), offset = new Uint32Array(rows);
  const parts: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = dense.subarray(r * cols, (r + 1) * cols);
    let a = 0, b = cols;
    while (a < cols && row[a] === 0) a++;
    while (b > a && row[b - 1] === 0) b--;
    start[r] = a;
    length[r] = b - a;
    offset[r] = parts.length;
    for (let k = a; k < b; k++) parts.push(row[k]);
  }
  return { rows, start, length, offset, weights: Float32Array.from(parts) };
}

/** The identity as sparse rows (the linear frontend's "filter bank"). */
export function identityRows(n: number): SparseFilters {
  return {
    rows: n,
    start: Uint32Array.from({ length: n }, (_, i) => i),
    length: new Uint32Array(n).fill(1),
    offset: Uint32Array.from({ length: n }, (_, i) => i),
    weights: new Float32Array(n).fill(1),
  };
}
