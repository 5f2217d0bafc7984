/**
 * MPEG audio (MP3) bitstream utilities: ID3v2 skipping, frame-header parsing,
 * a frame walk that tells a complete stream from a truncated one, and the
 * Xing/LAME "Info" frame that carries the encoder delay and padding for
 * gapless decoding.
 *
 * Decoding itself is done by `mpg123-decoder` (see `decode.ts`).
 *
 * @module
 */

/** A parsed MPEG audio frame header. */
export interface Mp3FrameHeader {
  /** 1 for MPEG-1, 2 for MPEG-2, 2.5 for MPEG-2.5. */
  version: 1 | 2 | 2.5;
  /** 1, 2 or 3. */
  layer: 1 | 2 | 3;
  /** Bits per second. */
  bitrate: number;
  /** Samples per second. */
  sampleRate: number;
  /** 1 (mono) or 2. */
  channels: number;
  /** Whole frame length in bytes, header included. */
  frameLength: number;
  /** PCM samples per channel the frame decodes to. */
  samplesPerFrame: number;
  /** The 4 raw header bytes. */
  raw: Uint8Array;
}

const BITRATES: Record<string, number[]> = {
  // kbps by index 1..14, for [MPEG-1 | MPEG-2/2.5] × layer
  "1-1": [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  "1-2": [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  "1-3": [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2-1": [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  "2-2": [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  "2-3": [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<string, number[]> = {
  "1": [44100, 48000, 32000],
  "2": [22050, 24000, 16000],
  "2.5": [11025, 12000, 8000],
};

/**
 * Parse the frame header at `at`, or return null when there is none there
 * (no sync word, reserved or "free" values).
 */
export function parseFrameHeader(bytes: Uint8Array, at: number): Mp3FrameHeader | null {
  if (at + 4 > bytes.length) return null;
  const b1 = bytes[at + 1], b2 = bytes[at + 2], b3 = bytes[at + 3];
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const v = (b1 >> 3) & 3, l = (b1 >> 1) & 3, bi = b2 >> 4, si = (b2 >> 2) & 3;
  if (v === 1 || l === 0 || bi === 0 || bi === 15 || si === 3) return null;
  const version = v === 3 ? 1 : v === 2 ? 2 : 2.5;
  const layer = (4 - l) as 1 | 2 | 3;
  const bitrate = BITRATES[`${version === 1 ? 1 : 2}-${layer}`][bi - 1] * 1000;
  const sampleRate = SAMPLE_RATES[String(version)][si];
  const padding = (b2 >> 1) & 1;
  const channels = (b3 >> 6) === 3 ? 1 : 2;
  let frameLength: number, samplesPerFrame: number;
  if (layer === 1) {
    frameLength = (Math.floor(12 * bitrate / sampleRate) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    frameLength = Math.floor(144 * bitrate / sampleRate) + padding;
    samplesPerFrame = 1152;
  } else {
    frameLength = Math.floor(72 * bitrate / sampleRate) + padding;
    samplesPerFrame = 576;
  }
  return {
    version,
    layer,
    bitrate,
    sampleRate,
    channels,
    frameLength,
    samplesPerFrame,
    raw: bytes.slice(at, at + 4),
  };
}

/** Offset of the first byte after any ID3v2 tags at the start (0 when there are none). */
export function skipId3v2(bytes: Uint8Array): number {
  let at = 0;
  while (
    at + 10 <= bytes.length && bytes[at] === 0x49 && bytes[at + 1] === 0x44 &&
    bytes[at + 2] === 0x33
  ) {
    // syncsafe size: 4 × 7 bits
    const size = (bytes[at + 6] << 21) | (bytes[at + 7] << 14) | (bytes[at + 8] << 7) |
      bytes[at + 9];
    const footer = (bytes[at + 5] & 0x10) ? 10 : 0;
    at += 10 + size + footer;
  }
  return at;
}

/** Result of {@linkcode scanMp3}. */
export interface Mp3Scan {
  /** Offset of the first frame. */
  firstFrame: number;
  /** Header of the first frame. */
  first: Mp3FrameHeader;
  /** Number of frames walked. */
  frames: number;
  /** True when the last frame's declared length runs past the end of the file. */
  truncated: boolean;
  /** Largest channel count seen. */
  channels: number;
}

/**
 * The first MPEG audio frame in `bytes` from `start` (within 64 KiB) that is followed by a second matching
 * one (or ends the data).
 */
export function findFirstFrame(
  bytes: Uint8Array,
  start: number,
): { at: number; header: Mp3FrameHeader } | null {
  const limit = Math.min(bytes.length, start + 65536);
  for (let at = start; at < limit; at++) {
    const h = parseFrameHeader(bytes, at);
    if (!h) continue;
    const next = at + h.frameLength;
    const h2 = parseFrameHeader(bytes, next);
    const endsHere = next >= bytes.length;
    if (
      endsHere || (h2 && h2.version === h.version && h2.layer === h.layer && h2.sampleRate === h.sampleRate)
    ) {
      return { at, header: h };
    }
  }
  return null;
}

/**
 * Find the first MPEG audio frame (after ID3v2 tags) that is followed by a
 * second valid frame, then walk the frames to the end of the stream.
 * Returns null when no such pair of frames exists within the first 64 KiB.
 */
export function scanMp3(bytes: Uint8Array): Mp3Scan | null {
  const found = findFirstFrame(bytes, skipId3v2(bytes));
  if (!found) return null;
  const { at, header: h } = found;
  let frames = 0, p = at, channels = h.channels, truncated = false;
  while (p < bytes.length) {
    const f = parseFrameHeader(bytes, p);
    if (!f) break; // trailing tag (ID3v1, APE) or junk
    if (p + f.frameLength > bytes.length) {
      truncated = true;
      break;
    }
    channels = Math.max(channels, f.channels);
    frames++;
    p += f.frameLength;
  }
  return { firstFrame: at, first: h, frames, truncated, channels };
}

/** CRC-16 (polynomial 0x8005, reflected, initial 0) as used by the LAME tag. */
export function crc16(bytes: Uint8Array, init = 0): number {
  let crc = init;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc & 1) ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc & 0xffff;
}

/** Side-information size in bytes of a Layer III frame. */
function sideInfoSize(h: Mp3FrameHeader): number {
  if (h.version === 1) return h.channels === 1 ? 17 : 32;
  return h.channels === 1 ? 9 : 17;
}

/** Options of {@linkcode makeInfoFrame}. */
export interface InfoFrameOptions {
  /** Header of the stream's first audio frame (version, rate, mode are copied). */
  template: Mp3FrameHeader;
  /** Audio frames that follow the Info frame. */
  frames: number;
  /** Bytes of the whole stream, Info frame included. */
  streamBytes: number;
  /** Encoder delay in samples at the start (LAME: 576). */
  delay: number;
  /** Padding samples at the end. */
  padding: number;
}

/**
 * Build a Xing "Info" frame with a LAME extension holding encoder delay and
 * padding: what LAME writes at the start of a CBR file so that decoders
 * (mpg123, ffmpeg) drop the encoder's delay and padding (gapless playback).
 * Only Layer III is supported.
 */
export function makeInfoFrame(o: InfoFrameOptions): Uint8Array {
  const t = o.template;
  if (t.layer !== 3) throw new Error("makeInfoFrame: Layer III only");
  if (o.delay < 0 || o.delay > 4095 || o.padding < 0 || o.padding > 4095) {
    throw new Error(`makeInfoFrame: delay ${o.delay} / padding ${o.padding} outside 0..4095`);
  }
  const side = sideInfoSize(t);
  const xingAt = 4 + side;
  const needed = xingAt + 120 + 36;
  // Choose the smallest bitrate whose frame holds the tag.
  const table = BITRATES[`${t.version === 1 ? 1 : 2}-3`];
  const per = t.version === 1 ? 144 : 72;
  let index = table.findIndex((kbps) => Math.floor(per * kbps * 1000 / t.sampleRate) >= needed);
  if (index < 0) index = table.length - 1;
  const length = Math.floor(per * table[index] * 1000 / t.sampleRate);
  const frame = new Uint8Array(length);
  const view = new DataView(frame.buffer);
  frame.set(t.raw, 0);
  frame[1] |= 1; // no CRC protection
  frame[2] = ((index + 1) << 4) | (t.raw[2] & 0x0c); // bitrate, same rate, no padding
  frame.set([0x49, 0x6e, 0x66, 0x6f], xingAt); // "Info"
  view.setUint32(xingAt + 4, 0x0f); // frames, bytes, TOC, quality present
  view.setUint32(xingAt + 8, o.frames);
  view.setUint32(xingAt + 12, o.streamBytes);
  for (let i = 0; i < 100; i++) frame[xingAt + 16 + i] = Math.floor(i * 256 / 100);
  view.setUint32(xingAt + 116, 50); // quality
  const lame = xingAt + 120;
  frame.set(new TextEncoder().encode("LAME3.100"), lame);
  frame[lame + 9] = 0x01; // tag revision 0, CBR
  frame[lame + 20] = Math.min(255, t.bitrate / 1000);
  frame[lame + 21] = o.delay >> 4;
  frame[lame + 22] = ((o.delay & 0x0f) << 4) | (o.padding >> 8);
  frame[lame + 23] = o.padding & 0xff;
  view.setUint32(lame + 28, o.streamBytes);
  view.setUint16(lame + 34, crc16(frame.subarray(0, lame + 34)));
  return frame;
}
