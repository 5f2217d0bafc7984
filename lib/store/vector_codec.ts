/**
 * How vectors are stored, in every store: float64 little-endian BLOBs (the
 * original project's `songs_vectors`, readable with
 * `numpy.frombuffer(blob, '<f8')`), frames as float32, and the checks that
 * keep anything non-finite or malformed out of every store and every
 * ranking.
 *
 * @module
 */

import { OpenL3Error, printable } from "../util/errors.ts";
import { countNonFinite } from "../util/vector_math.ts";

/** A stored vector left out of every analysis, and why. */
export interface RejectedVector {
  /** The database. */
  db: string;
  /** The song. */
  songId: string;
  /** What is wrong with its vector. */
  problem: string;
}

/** The warning line for a vector left out. */
export function describeRejected(r: RejectedVector): string {
  return `warning: ${r.db}: the vector of ${printable(r.songId)} ${r.problem}: left out`;
}

/** What is wrong with a stored vector BLOB, or null when it is sound. */
export function vectorProblem(blob: Uint8Array | null, expectedSize?: number): string | null {
  if (!(blob instanceof Uint8Array)) return "is not a BLOB";
  if (blob.length === 0 || blob.length % 8 !== 0) {
    return `is ${blob.length} bytes, not a whole number of float64 values`;
  }
  if (expectedSize !== undefined && blob.length !== expectedSize * 8) {
    return `has ${blob.length / 8} values, its configuration says ${expectedSize}`;
  }
  const bad = countNonFinite(blobToVector(blob));
  return bad > 0 ? `holds ${bad} NaN or infinite values` : null;
}

/** A vector that must not be stored: it holds NaN or infinite values. */
export class NonFiniteVectorError extends OpenL3Error {}

/** Throw {@linkcode NonFiniteVectorError} when `v` holds NaN or infinite values. */
export function assertFinite(what: string, v: ArrayLike<number>): void {
  const bad = countNonFinite(v);
  if (bad > 0) {
    throw new NonFiniteVectorError(`${what}: ${bad} of ${v.length} values are NaN or infinite: not stored`);
  }
}

/** Encode a vector as the original's BLOB: float64 little-endian. */
export function vectorToBlob(v: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(v.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) view.setFloat64(i * 8, v[i], true);
  return out;
}

/** Decode a float64 little-endian BLOB. */
export function blobToVector(blob: Uint8Array): Float64Array {
  if (blob.length % 8 !== 0) {
    throw new OpenL3Error(`vector BLOB of ${blob.length} bytes is not a float64 array`);
  }
  if (LITTLE_ENDIAN) {
    return new Float64Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return Float64Array.from({ length: blob.length / 8 }, (_, i) => view.getFloat64(i * 8, true));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A float32 frame as a BLOB (its bytes as they are). */
export function float32Blob(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}
