/**
 * RIFF/WAVE reading and writing: PCM 8/16/24/32-bit, IEEE float 32/64,
 * `WAVE_FORMAT_EXTENSIBLE`, any number of channels.
 *
 * Integer samples are scaled as libsndfile (and so `soundfile.read`) does:
 * divided by 2^(bits-1), 8-bit being unsigned with an offset of 128.
 *
 * @module
 */

import { ArgumentError, AudioDecodeError } from "../util/errors.ts";

/** Sample encodings this module reads and writes. */
export type WavEncoding =
  | "pcm8"
  | "pcm16"
  | "pcm24"
  | "pcm32"
  | "float32"
  | "float64";

/** Decoded WAV contents. */
export interface WavData {
  /**
   * One array per channel, samples in [-1, 1) for integer encodings: float32 where that is exact
   * (8-, 16- and 24-bit integers, float32), float64 for 32-bit integers and float64.
   */
  channels: (Float32Array | Float64Array)[];
  /** Samples per second. */
  sampleRate: number;
  /** How the samples were stored. */
  encoding: WavEncoding;
  /** True when the fmt chunk was `WAVE_FORMAT_EXTENSIBLE`. */
  extensible: boolean;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(
    bytes[at],
    bytes[at + 1],
    bytes[at + 2],
    bytes[at + 3],
  );
}

/**
 * The bytes of a WAV `data` chunk: its declared size, or the rest of the file where a streaming encoder
 * never came back to fix the size (0xFFFFFFFF or 0).
 *
 * @throws {AudioDecodeError} when it declares more than remain.
 */
export function wavDataSize(size: number, remaining: number, file: string): number {
  const declared = size === 0xffffffff || size === 0 ? remaining : size;
  if (declared > remaining) {
    throw new AudioDecodeError(
      file,
      `truncated: data chunk declares ${declared} bytes but only ${remaining} remain`,
    );
  }
  return declared;
}

/** True when the bytes start like a RIFF/WAVE file. */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && fourcc(bytes, 0) === "RIFF" &&
    fourcc(bytes, 8) === "WAVE";
}

/**
 * Parse a WAV file held in memory.
 *
 * @param bytes The whole file.
 * @param file A name for error messages.
 * @param checkHeader Called with the declared rate and length before any sample is read (it throws to refuse).
 * @throws {AudioDecodeError} when the file is not a WAV file, is truncated, or
 *   uses an encoding this module does not read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeWav, encodeWav } from "./wav.ts";
 * const bytes = encodeWav([new Float32Array([0, 0.5, -0.5])], 8000, { encoding: "pcm16" });
 * const wav = decodeWav(bytes, "x.wav");
 * assert.ok(wav.sampleRate === 8000 && wav.channels[0][1] === 0.5);
 * ```
 */
export function decodeWav(
  bytes: Uint8Array,
  file: string,
  checkHeader?: (sampleRate: number, frames: number) => void,
): WavData {
  if (!isWav(bytes)) {
    throw new AudioDecodeError(file, "not a RIFF/WAVE file");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt:
    | {
      tag: number;
      channels: number;
      sampleRate: number;
      bits: number;
      extensible: boolean;
    }
    | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      if (size < 16 || body + size > bytes.length) {
        throw new AudioDecodeError(file, `truncated or malformed fmt chunk (${size} bytes)`);
      }
      let tag = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const bits = view.getUint16(body + 14, true);
      let extensible = false;
      if (tag === FORMAT_EXTENSIBLE) {
        if (size < 40) {
          throw new AudioDecodeError(file, `WAVE_FORMAT_EXTENSIBLE fmt chunk too short (${size} bytes)`);
        }
        extensible = true;
        tag = view.getUint16(body + 24, true); // first two bytes of the sub-format GUID
      }
      if (channels < 1) throw new AudioDecodeError(file, "fmt chunk declares 0 channels");
      if (sampleRate < 1) throw new AudioDecodeError(file, "fmt chunk declares a sample rate of 0");
      fmt = { tag, channels, sampleRate, bits, extensible };
    } else if (id === "data") {
      if (!fmt) throw new AudioDecodeError(file, "data chunk before fmt chunk");
      const encoding = encodingOf(fmt.tag, fmt.bits, file);
      const width = fmt.bits / 8;
      const frame = width * fmt.channels;
      const remaining = bytes.length - body;
      const declared = wavDataSize(size, remaining, file);
      const frames = Math.floor(declared / frame);
      if (frames === 0) throw new AudioDecodeError(file, "no audio: the data chunk holds no samples");
      checkHeader?.(fmt.sampleRate, frames);
      return {
        channels: readSamples(view, body, frames, fmt.channels, encoding),
        sampleRate: fmt.sampleRate,
        encoding,
        extensible: fmt.extensible,
      };
    }
    at = body + size + (size & 1);
  }
  throw new AudioDecodeError(file, fmt ? "truncated: no data chunk" : "truncated: no fmt chunk");
}

/** The encoding of a fmt chunk's format tag and bit depth, or an error naming them. */
export function encodingOf(tag: number, bits: number, file: string): WavEncoding {
  if (tag === FORMAT_PCM && [8, 16, 24, 32].includes(bits)) return `pcm${bits}` as WavEncoding;
  if (tag === FORMAT_FLOAT && (bits === 32 || bits === 64)) return `float${bits}` as WavEncoding;
  throw new AudioDecodeError(
    file,
    `unsupported WAV encoding: format tag ${tag} with ${bits} bits per sample`,
  );
}

/**
 * Samples of `frames` interleaved frames at `start` of a view, one array per channel: float32 where
 * that is exact, float64 for 32-bit integers and float64.
 */
export function readSamples(
  view: DataView,
  start: number,
  frames: number,
  nch: number,
  encoding: WavEncoding,
): (Float32Array | Float64Array)[] {
  const wide = encoding === "pcm32" || encoding === "float64";
  const channels = Array.from(
    { length: nch },
    () => wide ? new Float64Array(frames) : new Float32Array(frames),
  );
  let p = start;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++) {
      let v: number;
      switch (encoding) {
        case "pcm8":
          v = (view.getUint8(p) - 128) / 128;
          p += 1;
          break;
        case "pcm16":
          v = view.getInt16(p, true) / 32768;
          p += 2;
          break;
        case "pcm24": {
          const lo = view.getUint16(p, true);
          const hi = view.getInt8(p + 2);
          v = (hi * 65536 + lo) / 8388608;
          p += 3;
          break;
        }
        case "pcm32":
          v = view.getInt32(p, true) / 2147483648;
          p += 4;
          break;
        case "float32":
          v = view.getFloat32(p, true);
          p += 4;
          break;
        case "float64":
          v = view.getFloat64(p, true);
          p += 8;
          break;
      }
      channels[c][i] = v;
    }
  }
  return channels;
}

/** Options of {@linkcode encodeWav}. */
export interface EncodeWavOptions {
  /** Sample encoding; default `pcm16`. */
  encoding?: WavEncoding;
  /** Write a `WAVE_FORMAT_EXTENSIBLE` fmt chunk; default false. */
  extensible?: boolean;
}

/**
 * Write channels as a WAV file. Integer encodings round `x * 2^(bits-1)` and clip.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeWav } from "./wav.ts";
 * const bytes = encodeWav([new Float32Array(10)], 22050, { encoding: "float32" });
 * assert.ok(bytes.length === 44 + 40);
 * ```
 */
export function encodeWav(
  channels: ArrayLike<number>[],
  sampleRate: number,
  options: EncodeWavOptions = {},
): Uint8Array {
  const encoding = options.encoding ?? "pcm16";
  const extensible = options.extensible ?? false;
  if (channels.length < 1) throw new ArgumentError("encodeWav: need at least one channel, got 0");
  const frames = channels[0].length;
  if (channels.some((c) => c.length !== frames)) {
    throw new ArgumentError("encodeWav: channels differ in length");
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1) {
    throw new ArgumentError(`encodeWav: sample rate must be a positive integer, got ${sampleRate}`);
  }
  const bits = Number(encoding.replace(/\D+/, ""));
  const width = bits / 8;
  const isFloat = encoding.startsWith("float");
  const nch = channels.length;
  const fmtSize = extensible ? 40 : 16;
  const dataSize = frames * nch * width;
  const total = 12 + 8 + fmtSize + 8 + dataSize + (dataSize & 1);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const put = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  put(0, "RIFF");
  view.setUint32(4, total - 8, true);
  put(8, "WAVE");
  put(12, "fmt ");
  view.setUint32(16, fmtSize, true);
  const tag = isFloat ? FORMAT_FLOAT : FORMAT_PCM;
  view.setUint16(20, extensible ? FORMAT_EXTENSIBLE : tag, true);
  view.setUint16(22, nch, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * nch * width, true);
  view.setUint16(32, nch * width, true);
  view.setUint16(34, bits, true);
  if (extensible) {
    view.setUint16(36, 22, true); // cbSize
    view.setUint16(38, bits, true); // valid bits
    view.setUint32(40, 0, true); // channel mask: unspecified
    // KSDATAFORMAT_SUBTYPE_{PCM,IEEE_FLOAT}: {0000000X-0000-0010-8000-00aa00389b71}
    const guid = [0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    guid[0] = tag;
    out.set(guid, 44);
  }
  const dataAt = 20 + fmtSize;
  put(dataAt, "data");
  view.setUint32(dataAt + 4, dataSize, true);
  let p = dataAt + 8;
  const full = 2 ** (bits - 1);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++) {
      const x = channels[c][i];
      if (isFloat) {
        if (bits === 32) view.setFloat32(p, x, true);
        else view.setFloat64(p, x, true);
      } else {
        const q = Math.max(-full, Math.min(full - 1, Math.round(x * full)));
        if (bits === 8) view.setUint8(p, q + 128);
        else if (bits === 16) view.setInt16(p, q, true);
        else if (bits === 24) {
          view.setUint16(p, q & 0xffff, true);
          view.setInt8(p + 2, q >> 16);
        } else view.setInt32(p, q, true);
      }
      p += width;
    }
  }
  return out;
}
