/**
 * NumPy `.npz` archives (a zip of `.npy` files), written uncompressed as
 * `numpy.savez` does and read back stored or deflated — the format of
 * OpenL3's own `--output-dir` files (keys `embedding`, `timestamps`).
 *
 * @module
 */

import { concat } from "./bytes.ts";
import { OpenL3Error } from "./errors.ts";
import { decodeNpy, encodeNpy, type Npy, type NpyArray } from "./npy.ts";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (zip, PNG). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An array and its shape, for {@linkcode encodeNpz}. */
export interface NpzEntry {
  /** The values. */
  data: NpyArray;
  /** The shape. */
  shape: number[];
}

/**
 * Encode arrays as an uncompressed `.npz` (like `numpy.savez`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeNpz, encodeNpz } from "./npz.ts";
 * const bytes = encodeNpz({ timestamps: { data: new Float64Array([0, 0.1]), shape: [2] } });
 * const back = await decodeNpz(bytes);
 * assert.ok(back.timestamps.data[1] === 0.1);
 * ```
 */
export function encodeNpz(arrays: Record<string, NpzEntry>): Uint8Array {
  const files = Object.entries(arrays).map(([key, { data, shape }]) => ({
    name: new TextEncoder().encode(`${key}.npy`),
    body: encodeNpy(data, shape),
  }));
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 1; // 1980-01-01: reproducible archives
  for (const f of files) {
    const crc = crc32(f.body);
    const local = new Uint8Array(30 + f.name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, f.body.length, true);
    lv.setUint32(22, f.body.length, true);
    lv.setUint16(26, f.name.length, true);
    local.set(f.name, 30);
    const dir = new Uint8Array(46 + f.name.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, 0x02014b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint16(6, 20, true);
    dv.setUint16(14, DOS_DATE, true);
    dv.setUint32(16, crc, true);
    dv.setUint32(20, f.body.length, true);
    dv.setUint32(24, f.body.length, true);
    dv.setUint16(28, f.name.length, true);
    dv.setUint32(42, offset, true);
    dir.set(f.name, 46);
    parts.push(local, f.body);
    central.push(dir);
    offset += local.length + f.body.length;
  }
  const dirSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return concat([...parts, ...central, end]);
}

async function inflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decode an `.npz` into its arrays, by key (the member name without `.npy`). */
export async function decodeNpz(bytes: Uint8Array, file = "arrays.npz"): Promise<Record<string, Npy>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new OpenL3Error(`${file}: not a zip/.npz file (no end of central directory)`);
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const out: Record<string, Npy> = {};
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) {
      throw new OpenL3Error(`${file}: corrupt central directory`);
    }
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const csize = view.getUint32(at + 20, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLen));
    at += 46 + nameLen + extraLen + commentLen;
    const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (dataAt + csize > bytes.length) throw new OpenL3Error(`${file}: member ${name} is truncated`);
    const raw = bytes.subarray(dataAt, dataAt + csize);
    let body: Uint8Array;
    if (method === 0) body = raw;
    else if (method === 8) body = await inflateRaw(raw);
    else throw new OpenL3Error(`${file}: member ${name} uses unsupported compression ${method}`);
    if (crc32(body) !== crc) throw new OpenL3Error(`${file}: member ${name} fails its CRC check`);
    out[name.replace(/\.npy$/, "")] = decodeNpy(body, `${file}:${name}`);
  }
  return out;
}
