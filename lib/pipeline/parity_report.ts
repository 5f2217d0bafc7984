/**
 * Comparing embeddings with a reference (OpenL3's own `.npz` output):
 * largest absolute and relative differences, and pass/fail at OpenL3's
 * tolerance (`np.allclose(rtol=1e-5, atol=1e-5)`) and at a float32 one.
 *
 * @module
 */

/** OpenL3's regression tolerance (its tests use rtol = atol = 1e-5). */
export const OPENL3_TOLERANCE = { rtol: 1e-5, atol: 1e-5 } as const;

/**
 * A tolerance for an independent float32 implementation. Each conv output is a
 * dot product of up to 3·3·512 = 4 608 terms; summed in another order its
 * rounding differs by about √4608 · 6e-8 ≈ 4e-6 relative, and eight such layers
 * compound to ~3e-5. rtol = atol = 1e-4 leaves a factor of three over that.
 */
export const FLOAT32_TOLERANCE = { rtol: 1e-4, atol: 1e-4 } as const;

/**
 * The int8 network's gate against float32 embeddings (the precision is opt-in, its numbers are not
 * fp32's): the median per-window cosine similarity at least this.
 */
export const INT8_MEDIAN_COSINE = 0.999;

/** Per-window agreement of two embeddings: cosine similarity and relative error ‖a − b‖ / ‖b‖. */
export interface WindowAgreement {
  /** Median and lowest cosine over the windows. */
  cosine: { median: number; worst: number };
  /** Median and largest relative error over the windows. */
  relativeError: { median: number; worst: number };
}

/** The median of a list (0 for none). */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Per-window cosine and relative error of `actual` against `expected` (rows × cols); a row that is zero
 * in both counts as cosine 1, error 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { windowAgreement } from "./parity_report.ts";
 * const a = windowAgreement([1, 0, 0, 2], [1, 0, 0, 1], 2);
 * assert.equal(a.cosine.worst, 1);
 * assert.equal(a.relativeError.worst, 1);
 * ```
 */
export function windowAgreement(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  cols: number,
): WindowAgreement {
  const cos: number[] = [], rel: number[] = [];
  for (let r = 0; r * cols < expected.length; r++) {
    let ab = 0, aa = 0, bb = 0, dd = 0;
    for (let c = r * cols; c < (r + 1) * cols; c++) {
      const a = actual[c], b = expected[c];
      ab += a * b;
      aa += a * a;
      bb += b * b;
      dd += (a - b) * (a - b);
    }
    cos.push(aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb || Infinity));
    rel.push(bb === 0 ? (dd === 0 ? 0 : Infinity) : Math.sqrt(dd / bb));
  }
  return {
    cosine: { median: median(cos), worst: Math.min(1, ...cos) },
    relativeError: { median: median(rel), worst: Math.max(0, ...rel) },
  };
}

/** The outcome of {@linkcode compareEmbeddings}. */
export interface ParityReport {
  /** Rows (windows) × columns (embedding length). */
  shape: [number, number];
  /** Largest absolute difference. */
  maxAbs: number;
  /** max |a − b| / |b| over elements with |b| > 1e-6. */
  maxRel: number;
  /** Where the largest absolute difference is. */
  worst: { row: number; col: number; actual: number; expected: number };
  /** Whether the timestamps agree to 1e-9 s. */
  timestampsEqual: boolean;
  /** Passes OpenL3's own tolerance. */
  passOpenL3: boolean;
  /** Passes the float32 tolerance. */
  passFloat32: boolean;
  /** Per-window cosine and relative error. */
  agreement: WindowAgreement;
  /** Passes the int8 gate ({@linkcode INT8_MEDIAN_COSINE}), timestamps equal. */
  passInt8: boolean;
}

/** `np.allclose` semantics: |a − b| ≤ atol + rtol · |b| everywhere. */
export function allClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) return false;
  }
  return true;
}

/** Compare embeddings (rows × cols) and timestamps with a reference. */
export function compareEmbeddings(
  actual: { embedding: ArrayLike<number>; timestamps: ArrayLike<number> },
  expected: { embedding: ArrayLike<number>; timestamps: ArrayLike<number> },
  cols: number,
): ParityReport {
  const rows = expected.timestamps.length;
  if (actual.embedding.length !== expected.embedding.length || actual.timestamps.length !== rows) {
    const got = `${actual.timestamps.length}×${
      actual.embedding.length / Math.max(1, actual.timestamps.length)
    }`;
    const want = `${rows}×${expected.embedding.length / Math.max(1, rows)}`;
    throw new RangeError(`shape mismatch: computed ${got}, reference ${want}`);
  }
  let maxAbs = 0, maxRel = 0, at = 0;
  for (let i = 0; i < expected.embedding.length; i++) {
    const d = Math.abs(actual.embedding[i] - expected.embedding[i]);
    if (d > maxAbs) {
      maxAbs = d;
      at = i;
    }
    const m = Math.abs(expected.embedding[i]);
    if (m > 1e-6) maxRel = Math.max(maxRel, d / m);
  }
  let timestampsEqual = true;
  for (let i = 0; i < rows; i++) {
    if (Math.abs(actual.timestamps[i] - expected.timestamps[i]) > 1e-9) timestampsEqual = false;
  }
  const agreement = windowAgreement(actual.embedding, expected.embedding, cols);
  return {
    agreement,
    passInt8: timestampsEqual && agreement.cosine.median >= INT8_MEDIAN_COSINE,
    shape: [rows, cols],
    maxAbs,
    maxRel,
    worst: {
      row: Math.floor(at / cols),
      col: at % cols,
      actual: actual.embedding[at],
      expected: expected.embedding[at],
    },
    timestampsEqual,
    passOpenL3: timestampsEqual &&
      allClose(actual.embedding, expected.embedding, OPENL3_TOLERANCE.rtol, OPENL3_TOLERANCE.atol),
    passFloat32: timestampsEqual &&
      allClose(actual.embedding, expected.embedding, FLOAT32_TOLERANCE.rtol, FLOAT32_TOLERANCE.atol),
  };
}
