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
  return {
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
