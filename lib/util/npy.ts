/**
 * NumPy `.npy` files (format version 1.0/2.0, little-endian, C order):
 * writing float32/float64/int arrays and reading them back, so stage dumps
 * and embeddings open with `numpy.load`.
 *
 * @module
 */

import { ArgumentError, OpenL3Error } from "./errors.ts";

/** Typed arrays `.npy` files hold here. */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int16Array;

const DESCR: [string, new (n: number) => NpyArray][] = [
  ["<f4", Float32Array],
  ["<f8", Float64Array],
  ["<i4", Int32Array],
  ["<i2", Int16Array],
  ["|u1", Uint8Array],
];

function descrOf(data: NpyArray): string {
  for (const [d, C] of DESCR) if (data instanceof C) return d;
  throw new ArgumentError(`npy: unsupported array type ${data.constructor.name}`);
}

/**
 * The `.npy` header (magic, version 1.0, padded dict) for an array of dtype
 * `descr` and `shape`; the data follows it in C order. Lets a writer stream
 * an array whose shape is known before its values.
 */
export function npyHeader(descr: string, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic(6) + version(2) + header length(2) + header + '\n', padded to 64 bytes
  const base = 10 + header.length + 1;
  header += " ".repeat((64 - (base % 64)) % 64) + "\n";
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(text, 10);
  return out;
}

/**
 * Encode an array with a shape as `.npy` bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeNpy, decodeNpy } from "./npy.ts";
 * const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const back = decodeNpy(bytes);
 * assert.ok(back.shape.join() === "2,3" && back.data[5] === 6);
 * ```
 */
export function encodeNpy(data: NpyArray, shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) {
    throw new ArgumentError(`npy: shape [${shape}] holds ${n} values, the array has ${data.length}`);
  }
  const head = npyHeader(descrOf(data), shape);
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), head.length);
  return out;
}

/** A decoded `.npy` array. */
export interface Npy {
  /** The values. */
  data: NpyArray;
  /** The shape. */
  shape: number[];
  /** NumPy's dtype string, e.g. `<f4`. */
  descr: string;
}

/** Decode `.npy` bytes (little-endian, C order; the dtypes of {@linkcode encodeNpy}). */
export function decodeNpy(bytes: Uint8Array, file = "array.npy"): Npy {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") {
    throw new OpenL3Error(`${file}: not a .npy file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headLen;
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new OpenL3Error(`${file}: malformed .npy header`);
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  const entry = DESCR.find(([d]) => d === descr);
  if (!entry) throw new OpenL3Error(`${file}: unsupported dtype ${descr}`);
  const n = shape.reduce((a, b) => a * b, 1);
  const C = entry[1];
  const data = new C(n);
  const width = data.BYTES_PER_ELEMENT;
  if (start + n * width > bytes.length) {
    throw new OpenL3Error(`${file}: truncated (${bytes.length - start} data bytes, need ${n * width})`);
  }
  new Uint8Array(data.buffer).set(bytes.subarray(start, start + n * width));
  return { data: fortran ? fortranToC(data, shape) : data, shape, descr };
}

/** Reorder a column-major (Fortran) array into row-major (C) order. */
function fortranToC(data: NpyArray, shape: number[]): NpyArray {
  const out = new (data.constructor as new (n: number) => NpyArray)(data.length);
  const rank = shape.length;
  const fStride = shape.map((_, d) => shape.slice(0, d).reduce((a, b) => a * b, 1));
  const index = new Array(rank).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let d = 0; d < rank; d++) f += index[d] * fStride[d];
    out[c] = data[f];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
