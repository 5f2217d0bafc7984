/**
 * The three OpenL3 frontends as data (spec §2): FFT size, hop, padding and
 * output shape of each, the dB constants, and the tables both
 * implementations share (periodic Hann windows, mel filter banks in sparse
 * rows), built once.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { identityRows, melFilters, type SparseFilters, sparseRows } from "./mel_filters.ts";

/** The three OpenL3 input representations. */
export const INPUT_REPRS = ["mel256", "mel128", "linear"] as const;
/** One of {@linkcode INPUT_REPRS}. */
export type InputRepr = typeof INPUT_REPRS[number];

/** Shape and parameters of a frontend (spec §2 table). */
export interface FrontendSpec {
  /** Which representation. */
  repr: InputRepr;
  /** FFT size. */
  nFft: number;
  /** Samples between STFT frames. */
  hop: number;
  /** reflect padding of nFft/2 on both sides */
  center: boolean;
  /** output rows: mel bands, or 1 + nFft/2 for linear */
  bins: number;
  /** output columns: STFT frames */
  frames: number;
}

/** The frontend table of spec §2. */
export const FRONTENDS: Record<InputRepr, FrontendSpec> = {
  mel256: { repr: "mel256", nFft: 2048, hop: 242, center: true, bins: 256, frames: 199 },
  mel128: { repr: "mel128", nFft: 2048, hop: 242, center: true, bins: 128, frames: 199 },
  linear: { repr: "linear", nFft: 512, hop: 242, center: false, bins: 257, frames: 197 },
};

/** Floor of the dB patch below its maximum. */
export const TOP_DB = 80;
/** Amplitude floor before the logarithm. */
export const AMIN = 1e-10;

/** Look up a frontend, quoting a bad name. */
export function frontendSpec(repr: string): FrontendSpec {
  const spec = FRONTENDS[repr as InputRepr];
  if (!spec) {
    throw new ArgumentError(`input representation must be one of ${INPUT_REPRS.join(", ")}; got "${repr}"`);
  }
  return spec;
}

/** Periodic Hann window, `scipy.signal.get_window("hann", n, fftbins=True)`. */
export function hannPeriodic(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, k) => 0.5 - 0.5 * Math.cos((2 * Math.PI * k) / n));
}

const hannTables = new Map<number, Float64Array>();
/** The periodic Hann window of length n, built once per length. */
export function hannCache(n: number): Float64Array {
  let w = hannTables.get(n);
  if (!w) hannTables.set(n, w = hannPeriodic(n));
  return w;
}

const filterCache = new Map<InputRepr, SparseFilters>();

/** The frontend's filter bank in sparse rows (identity for linear). Built once per frontend. */
export function frontendFilters(repr: InputRepr): SparseFilters {
  let f = filterCache.get(repr);
  if (!f) {
    const spec = FRONTENDS[repr];
    const nBins = spec.nFft / 2 + 1;
    f = repr === "linear"
      ? identityRows(nBins)
      : sparseRows(melFilters(48000, spec.nFft, spec.bins), spec.bins, nBins);
    filterCache.set(repr, f);
  }
  return f;
}
