/**
 * Streaming decoding: a file is opened, its header checked (format from the
 * bytes, sample rate and declared length within bounds, tags read), and its
 * samples delivered in chunks as they are decoded, so memory does not grow
 * with the length of the track. WAV is parsed here; MP3, FLAC, Ogg Vorbis and
 * Ogg Opus go to the `@wasm-audio-decoders` family, fed piece by piece.
 *
 * What the whole-file decoders checked is still checked, as the bytes go by:
 * a truncated WAV data chunk (from the header), an MPEG frame cut off at the
 * end (a frame walk over the same bytes), fewer FLAC samples than STREAMINFO
 * declares, an Ogg page cut off or a last page not marked end-of-stream; and
 * samples that are not finite numbers (counted to the end, then refused).
 * Every failure is an {@linkcode AudioDecodeError} naming the file.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import { InputFileError } from "../util/input_file.ts";
import { type ByteSource, FileByteSource } from "./byte_source.ts";
import { concat } from "../util/bytes.ts";
import { findFirstFrame, type Mp3FrameHeader, parseFrameHeader, skipId3v2 } from "./mp3.ts";
import { readId3v2, readOggTags, readRiffInfoList, readVorbisComment, type Tags } from "./tags.ts";
import { encodingOf, isWav, readSamples, wavDataSize, type WavEncoding } from "./wav.ts";
import { decodeWithFfmpeg, type FfmpegFormat, probeAudio } from "./ffmpeg.ts";

/** Container/codec pairs this module decodes. */
export type AudioFormat = "wav" | "mp3" | "flac" | "ogg-vorbis" | "ogg-opus" | "m4a" | "aac";

/** Every format name, for messages and help texts. */
export const AUDIO_FORMATS: readonly AudioFormat[] = [
  "wav",
  "mp3",
  "flac",
  "ogg-vorbis",
  "ogg-opus",
  "m4a",
  "aac",
];

/**
 * Samples of one channel: float32 where that is exact (16- and 24-bit integers, float32 files, the
 * codecs' float32 output), float64 where it is not (32-bit integer and float64 WAV).
 */
export type Pcm = Float32Array | Float64Array;

/** Sample rates real files use: anything outside is a damaged or hostile header. */
export const SAMPLE_RATE_RANGE = [1000, 768000] as const;

/** What a file's header says. */
export interface AudioInfo {
  /** Detected format. */
  format: AudioFormat;
  /** Samples per second. */
  sampleRate: number;
  /** Channels in the source. */
  channelCount: number;
  /** Frames (per channel) the header declares, when it does (an estimate for MP3 without a Xing frame). */
  declaredFrames?: number;
  /** Title, artist, album, … where the file carries them. */
  tags: Tags;
}

/** Options of {@linkcode openAudio}. */
export interface OpenAudioOptions {
  /**
   * Longest audio accepted, in seconds: a file that declares (or decodes to) more is refused.
   * @default {14400}
   */
  maxDuration?: number;
  /**
   * Bytes read at a time.
   * @default {262144}
   */
  chunkBytes?: number;
}

/** A file being decoded. */
export interface AudioStream {
  /** The file's name, for messages. */
  readonly file: string;
  /** What its header says. */
  readonly info: AudioInfo;
  /** Problems the decoder recovered from (e.g. a corrupt frame skipped). */
  readonly warnings: string[];
  /** Frames (per channel) delivered so far. */
  readonly frames: number;
  /**
   * The next chunk of samples, one array per channel (possibly empty); null at the end, once every
   * end-of-stream check has passed.
   *
   * @throws {AudioDecodeError} for truncation, samples that are not finite, or more audio than allowed.
   */
  read(): Promise<Pcm[] | null>;
  /** Release the file and the decoder. */
  close(): void;
}

/**
 * Refuse what no real file has: a sample rate outside {@linkcode SAMPLE_RATE_RANGE}, or more audio than
 * `maxDuration` seconds. Called with what a header declares (before decoding) and while decoding.
 *
 * @throws {AudioDecodeError} naming the file and the value.
 */
export function checkAudioBounds(
  file: string,
  sampleRate: number,
  frames: number,
  maxDuration: number,
): void {
  const [lo, hi] = SAMPLE_RATE_RANGE;
  if (!(sampleRate >= lo && sampleRate <= hi)) {
    throw new AudioDecodeError(
      file,
      `sample rate ${sampleRate} Hz is outside what audio files use (${lo}–${hi} Hz): the header is damaged`,
    );
  }
  const seconds = frames / sampleRate;
  if (seconds > maxDuration) {
    throw new AudioDecodeError(
      file,
      `${(seconds / 3600).toFixed(1)} h of audio is more than the ${
        (maxDuration / 3600).toFixed(1)
      } h limit ` +
        `(--max-duration)`,
    );
  }
}

/**
 * How many samples are NaN or infinite: a file with any is corrupt, and one such sample turns every
 * spectrogram frame that sees it into NaN.
 */
export function countNonFiniteSamples(channels: ArrayLike<number>[]): number {
  let bad = 0;
  for (const c of channels) for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i])) bad++;
  return bad;
}

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Offset of the first packet of the Ogg page at `at`. */
function oggFirstPacket(bytes: Uint8Array, at: number): number {
  return at + 27 + bytes[at + 26];
}

/** End of the whole Ogg page at `at`, or -1 when `bytes` holds less than the page. */
function oggPageEnd(bytes: Uint8Array, at: number): number {
  if (at + 27 > bytes.length) return -1;
  const nseg = bytes[at + 26];
  if (at + 27 + nseg > bytes.length) return -1;
  let body = 0;
  for (let i = 0; i < nseg; i++) body += bytes[at + 27 + i];
  const end = at + 27 + nseg + body;
  return end > bytes.length ? -1 : end;
}

/** The serial number of the Ogg page at `at`. */
function oggSerial(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at + 14, 4).getUint32(0, true);
}

/**
 * The first Vorbis or Opus stream among an Ogg file's beginning-of-stream pages (they all come first): a
 * file converted from a tagged MP3 often starts with a Theora stream holding the cover art.
 */
function oggAudioStream(
  head: Uint8Array,
): { serial: number; format: "ogg-vorbis" | "ogg-opus"; at: number } | null {
  for (let at = 0; startsWith(head, at, "OggS") && (head[at + 5] & 0x02) !== 0;) {
    const p = oggFirstPacket(head, at);
    if (startsWith(head, p, "\x01vorbis")) return { serial: oggSerial(head, at), format: "ogg-vorbis", at };
    if (startsWith(head, p, "OpusHead")) return { serial: oggSerial(head, at), format: "ogg-opus", at };
    const end = oggPageEnd(head, at);
    if (end < 0) break;
    at = end;
  }
  return null;
}

/** The whole pages of one logical stream among `bytes` (which start at a page), in order. */
function oggStreamPages(bytes: Uint8Array, serial: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let at = 0; startsWith(bytes, at, "OggS");) {
    const end = oggPageEnd(bytes, at);
    if (end < 0) break;
    if (oggSerial(bytes, at) === serial) parts.push(bytes.subarray(at, end));
    at = end;
  }
  return concat(parts);
}

/**
 * Name the format of a file from its first bytes (those after any ID3v2 tag given as `afterTag`), or
 * return null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectFormat } from "./audio_stream.ts";
 * assert.equal(detectFormat(new TextEncoder().encode("fLaC\0\0\0\x22")), "flac");
 * assert.equal(detectFormat(new Uint8Array(16)), null);
 * ```
 */
export function detectFormat(bytes: Uint8Array, afterTag?: Uint8Array, tagged?: boolean): AudioFormat | null {
  if (afterTag === undefined) {
    const end = skipId3v2(bytes);
    afterTag = bytes.subarray(end);
    tagged = end > 0;
  }
  if (isWav(bytes)) return "wav";
  if (startsWith(bytes, 0, "OggS") && bytes.length > 27) return oggAudioStream(bytes)?.format ?? null;
  // an MP4 container (M4A: AAC or ALAC): its first box is "ftyp"
  if (bytes.length >= 12 && startsWith(bytes, 4, "ftyp")) return "m4a";
  const body = afterTag ?? bytes;
  if (startsWith(body, 0, "fLaC")) return "flac";
  // ADTS AAC: 12 sync bits, then layer 00 (an MPEG audio frame's layer is never 00)
  if (!tagged && body.length > 7 && body[0] === 0xff && (body[1] & 0xf6) === 0xf0) return "aac";
  if (tagged) return "mp3"; // an ID3v2 tag announces MP3 (checked when decoding)
  if (findFirstFrame(body, 0)) return "mp3";
  return null;
}

function describeStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** The end of the ID3v2 tags at the start of a source (0 when there are none). */
async function id3End(src: ByteSource): Promise<number> {
  let at = 0;
  for (let guard = 0; guard < 16; guard++) {
    const h = await src.readAt(at, 10);
    if (h.length < 10 || h[0] !== 0x49 || h[1] !== 0x44 || h[2] !== 0x33) break;
    const size = (h[6] << 21) | (h[7] << 14) | (h[8] << 7) | h[9];
    at += 10 + size + ((h[5] & 0x10) ? 10 : 0);
  }
  return at;
}

/**
 * Something that turns bytes into samples: fed the data front to back, then finished; or one that reads
 * the file itself (ffmpeg) and is pulled until it says null.
 */
interface Codec {
  /** The next samples of a decoder that reads the file itself; null at the end. */
  pull?(): Promise<Pcm[] | null>;
  /** Samples decoded from the next piece of data (one array per channel, possibly empty). */
  decode(bytes: Uint8Array): Promise<Pcm[]>;
  /** The last samples, after every end-of-stream check. */
  finish(): Promise<Pcm[]>;
  warnings: string[];
  free(): void;
}

/** A format's header, where its data lies, and how to decode it. */
interface Opened {
  info: AudioInfo;
  dataStart: number;
  dataEnd: number;
  codec: Codec;
}

function errorsOf(errors: { message: string }[]): string[] {
  return errors.map((e) => e.message);
}

function channelsOf(r: { channelData: Float32Array[]; samplesDecoded: number }, count: number): Pcm[] {
  return r.channelData.slice(0, Math.max(1, Math.min(count, r.channelData.length))).map((c) =>
    c.slice(0, r.samplesDecoded)
  );
}

// ---------------------------------------------------------------------------------------------- WAV

async function openWav(src: ByteSource, file: string, maxDuration: number): Promise<Opened> {
  let at = 12;
  let fmt: { tag: number; channels: number; sampleRate: number; bits: number } | undefined;
  let data: { start: number; size: number } | undefined;
  let tags: Tags = {};
  for (let guard = 0; guard < 256 && at + 8 <= src.size; guard++) {
    const head = await src.readAt(at, 8);
    const id = String.fromCharCode(...head.subarray(0, 4));
    const size = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
    const body = at + 8;
    if (id === "fmt ") {
      if (size < 16 || body + size > src.size) {
        throw new AudioDecodeError(file, `truncated or malformed fmt chunk (${size} bytes)`);
      }
      const b = await src.readAt(body, Math.min(size, 64));
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      let tag = v.getUint16(0, true);
      if (tag === 0xfffe) {
        if (size < 40) {
          throw new AudioDecodeError(file, `WAVE_FORMAT_EXTENSIBLE fmt chunk too short (${size} bytes)`);
        }
        tag = v.getUint16(24, true);
      }
      fmt = {
        tag,
        channels: v.getUint16(2, true),
        sampleRate: v.getUint32(4, true),
        bits: v.getUint16(14, true),
      };
      if (fmt.channels < 1) throw new AudioDecodeError(file, "fmt chunk declares 0 channels");
      if (fmt.sampleRate < 1) throw new AudioDecodeError(file, "fmt chunk declares a sample rate of 0");
    } else if (id === "data") {
      if (!fmt) throw new AudioDecodeError(file, "data chunk before fmt chunk");
      const remaining = src.size - body;
      const declared = wavDataSize(size, remaining, file);
      data = { start: body, size: declared };
    } else if (id === "LIST" && size >= 4 && size < 1 << 20) {
      const b = await src.readAt(body, size);
      if (String.fromCharCode(...b.subarray(0, 4)) === "INFO") {
        try {
          tags = { ...tags, ...readRiffInfoList(b.subarray(4)) };
        } catch { /* tags are a courtesy */ }
      }
    }
    if (id === "data" && (size === 0xffffffff || size === 0)) break; // the data runs to the end
    at = body + size + (size & 1);
  }
  if (!fmt) throw new AudioDecodeError(file, "truncated: no fmt chunk");
  if (!data) throw new AudioDecodeError(file, "truncated: no data chunk");
  const encoding: WavEncoding = encodingOf(fmt.tag, fmt.bits, file);
  const frameBytes = (fmt.bits / 8) * fmt.channels;
  const frames = Math.floor(data.size / frameBytes);
  if (frames === 0) throw new AudioDecodeError(file, "no audio: the data chunk holds no samples");
  checkAudioBounds(file, fmt.sampleRate, frames, maxDuration);
  let carry: Uint8Array = new Uint8Array(0);
  const nch = fmt.channels;
  const codec: Codec = {
    warnings: [],
    decode(bytes) {
      // whole frames only; a partial frame waits for the next piece
      const all = carry.length ? concat2(carry, bytes) : bytes;
      const whole = Math.floor(all.length / frameBytes);
      carry = all.slice(whole * frameBytes);
      return Promise.resolve(
        readSamples(new DataView(all.buffer, all.byteOffset, whole * frameBytes), 0, whole, nch, encoding),
      );
    },
    finish: () => Promise.resolve([]), // a trailing partial frame is dropped, as the whole-file reader did
    free() {},
  };
  return {
    info: { format: "wav", sampleRate: fmt.sampleRate, channelCount: nch, declaredFrames: frames, tags },
    dataStart: data.start,
    dataEnd: data.start + frames * frameBytes,
    codec,
  };
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------------------------- MP3

/** Frames declared by a Xing/Info frame (the first frame of a LAME-encoded file), if any. */
function xingFrames(frame: Uint8Array, h: Mp3FrameHeader): number | undefined {
  const side = h.version === 1 ? (h.channels === 1 ? 17 : 32) : (h.channels === 1 ? 9 : 17);
  const at = 4 + side;
  const tag = String.fromCharCode(...frame.subarray(at, at + 4));
  if (tag !== "Xing" && tag !== "Info") return undefined;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (at + 12 > frame.length || !(v.getUint32(at + 4) & 1)) return undefined;
  return v.getUint32(at + 8);
}

async function openMp3(src: ByteSource, file: string, tagEnd: number, maxDuration: number): Promise<Opened> {
  const head = await src.readAt(tagEnd, 65536 + 4096);
  const first = findFirstFrame(head, 0);
  if (!first) throw new AudioDecodeError(file, "no MPEG audio frames found");
  const h = first.header;
  const start = tagEnd + first.at;
  const xing = xingFrames(head.subarray(first.at, first.at + h.frameLength), h);
  const declaredFrames = xing !== undefined
    ? xing * h.samplesPerFrame
    : Math.round(((src.size - start) * 8 / h.bitrate) * h.sampleRate);
  checkAudioBounds(file, h.sampleRate, declaredFrames, maxDuration);
  let tags: Tags = {};
  if (tagEnd > 0) {
    try {
      tags = readId3v2(await src.readAt(0, Math.min(tagEnd, 16 << 20)));
    } catch { /* tags are a courtesy */ }
  }
  // each WebAssembly decoder is loaded when its format is met (a page that decodes WAV loads none)
  const { MPEGDecoder } = await import("mpg123-decoder");
  const decoder = new MPEGDecoder();
  await decoder.ready;
  // the frame walk: where the next frame starts, and the bytes of it seen so far
  let frames = 0, walking = true;
  let pending: Uint8Array = new Uint8Array(0); // bytes from the next frame on that the walk has not passed yet
  const walk = (bytes: Uint8Array) => {
    if (!walking) return;
    pending = pending.length ? concat2(pending, bytes) : bytes;
    let off = 0;
    for (;;) {
      if (off + 4 > pending.length) break;
      const f = parseFrameHeader(pending, off);
      if (!f) { // trailing tag (ID3v1, APE) or junk: the stream ends here
        walking = false;
        break;
      }
      if (off + f.frameLength > pending.length) break; // wait for the rest of this frame
      frames++;
      off += f.frameLength;
    }
    pending = pending.slice(off);
  };
  const codec: Codec = {
    warnings: [],
    decode(bytes) {
      walk(bytes);
      const r = decoder.decode(bytes);
      codec.warnings.push(...errorsOf(r.errors));
      return Promise.resolve(r.samplesDecoded ? channelsOf(r, h.channels) : []);
    },
    finish() {
      // at the end of the file, a whole frame header whose frame runs past it means the file was cut
      const f = walking && pending.length >= 4 ? parseFrameHeader(pending, 0) : null;
      if (f && f.frameLength > pending.length) {
        throw new AudioDecodeError(
          file,
          `truncated: the last MPEG frame (after ${frames} whole frames) runs past the end of the file`,
        );
      }
      return Promise.resolve([]);
    },
    free: () => decoder.free(),
  };
  return {
    info: { format: "mp3", sampleRate: h.sampleRate, channelCount: h.channels, declaredFrames, tags },
    dataStart: start,
    dataEnd: src.size,
    codec,
  };
}

// --------------------------------------------------------------------------------------------- FLAC

async function openFlac(src: ByteSource, file: string, tagEnd: number, maxDuration: number): Promise<Opened> {
  const si = await src.readAt(tagEnd + 4, 4 + 34);
  if (si.length < 38 || (si[0] & 0x7f) !== 0) {
    throw new AudioDecodeError(file, "FLAC stream has no valid STREAMINFO block");
  }
  const d = si.subarray(4);
  const sampleRate = (d[10] << 12) | (d[11] << 4) | (d[12] >> 4);
  const channels = ((d[12] >> 1) & 7) + 1;
  const totalSamples = (d[13] & 0x0f) * 2 ** 32 + ((d[14] << 24) >>> 0) + (d[15] << 16) + (d[16] << 8) +
    d[17];
  checkAudioBounds(file, sampleRate, totalSamples, maxDuration);
  let tags: Tags = {};
  try {
    let at = tagEnd + 4;
    for (let guard = 0; guard < 128 && at + 4 <= src.size; guard++) {
      const b = await src.readAt(at, 4);
      const type = b[0] & 0x7f, last = b[0] & 0x80, len = (b[1] << 16) | (b[2] << 8) | b[3];
      if (type === 4) {
        tags = readVorbisComment(await src.readAt(at + 4, Math.min(len, 1 << 20)));
        break;
      }
      if (last) break;
      at += 4 + len;
    }
  } catch { /* tags are a courtesy */ }
  const { FLACDecoder } = await import("@wasm-audio-decoders/flac");
  const decoder = new FLACDecoder();
  await decoder.ready;
  let decoded = 0;
  const codec: Codec = {
    warnings: [],
    async decode(bytes) {
      const r = await decoder.decode(bytes);
      codec.warnings.push(...errorsOf(r.errors));
      decoded += r.samplesDecoded;
      return r.samplesDecoded ? channelsOf(r, channels) : [];
    },
    async finish() {
      const r = await decoder.flush();
      codec.warnings.push(...errorsOf(r.errors));
      decoded += r.samplesDecoded;
      if (totalSamples > 0 && decoded < totalSamples) {
        throw new AudioDecodeError(
          file,
          `truncated: STREAMINFO declares ${totalSamples} samples, only ${decoded} decoded`,
        );
      }
      return r.samplesDecoded ? channelsOf(r, channels) : [];
    },
    free: () => decoder.free(),
  };
  return {
    info: {
      format: "flac",
      sampleRate,
      channelCount: channels,
      declaredFrames: totalSamples > 0 ? totalSamples : undefined,
      tags,
    },
    dataStart: tagEnd,
    dataEnd: src.size,
    codec,
  };
}

// ------------------------------------------------------------------------------------ through ffmpeg

async function openWithFfmpeg(
  src: ByteSource,
  file: string,
  format: FfmpegFormat,
  maxDuration: number,
): Promise<Opened> {
  // ffmpeg reads the file itself (an MP4's index may sit at its end): a file on disk, or a private copy
  let path = file, copy: string | undefined;
  if (!(src instanceof FileByteSource)) {
    copy = await Deno.makeTempFile({ prefix: "openl3-ffmpeg-", suffix: `.${format}` });
    await Deno.writeFile(copy, await src.readAt(0, src.size));
    path = copy;
  }
  const removeCopy = () => {
    if (copy) Deno.remove(copy).catch(() => {});
    copy = undefined;
  };
  try {
    const probed = await probeAudio(path, file, format);
    const declaredFrames = probed.duration === undefined
      ? undefined
      : Math.round(probed.duration * probed.sampleRate);
    checkAudioBounds(file, probed.sampleRate, declaredFrames ?? 0, maxDuration);
    if (!(probed.channelCount >= 1 && probed.channelCount <= 64)) {
      throw new AudioDecodeError(file, `${probed.channelCount} channels: not a file this tool reads`);
    }
    const decode = decodeWithFfmpeg(path, file, format, probed.channelCount);
    return {
      info: {
        format,
        sampleRate: probed.sampleRate,
        channelCount: probed.channelCount,
        declaredFrames,
        tags: probed.tags,
      },
      dataStart: 0,
      dataEnd: 0,
      codec: {
        warnings: [],
        pull: async () => {
          const out = await decode.pull();
          if (out === null) removeCopy();
          return out;
        },
        decode: () => Promise.resolve([]),
        finish: () => Promise.resolve([]),
        free: () => {
          decode.kill();
          removeCopy();
        },
      },
    };
  } catch (e) {
    removeCopy();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------- Ogg

/** The granule position of the stream's last page in the file's tail, if a page header is found there. */
async function lastGranule(src: ByteSource, serial: number): Promise<number | undefined> {
  const tailStart = Math.max(0, src.size - 65536);
  const tail = await src.readAt(tailStart, src.size - tailStart);
  for (let at = tail.length - 27; at >= 0; at--) {
    if (startsWith(tail, at, "OggS") && oggSerial(tail, at) === serial) {
      const v = new DataView(tail.buffer, tail.byteOffset + at, 27);
      return v.getUint32(6, true) + v.getUint32(10, true) * 2 ** 32;
    }
  }
  return undefined;
}

async function openOgg(
  src: ByteSource,
  file: string,
  format: "ogg-vorbis" | "ogg-opus",
  maxDuration: number,
): Promise<Opened> {
  const head = await src.readAt(0, 65536);
  const stream = oggAudioStream(head);
  if (!stream) throw new AudioDecodeError(file, "no Vorbis or Opus stream among the Ogg file's streams");
  const p = oggFirstPacket(head, stream.at);
  // Vorbis identification header: channels at +11, rate at +12; OpusHead: channels at +9, pre-skip at +10.
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const channels = format === "ogg-vorbis" ? head[p + 11] : head[p + 9];
  const sampleRate = format === "ogg-vorbis" ? v.getUint32(p + 12, true) : 48000;
  const granule = await lastGranule(src, stream.serial);
  const declaredFrames = granule === undefined
    ? undefined
    : Math.max(0, granule - (format === "ogg-opus" ? v.getUint16(p + 10, true) : 0));
  checkAudioBounds(file, sampleRate, declaredFrames ?? 0, maxDuration);
  let tags: Tags = {};
  try {
    tags = readOggTags(oggStreamPages(head, stream.serial));
  } catch { /* tags are a courtesy */ }
  const decoder = format === "ogg-vorbis"
    ? new (await import("@wasm-audio-decoders/ogg-vorbis")).OggVorbisDecoder()
    : new (await import("ogg-opus-decoder")).OggOpusDecoder();
  await decoder.ready;
  // the page walk
  let pending: Uint8Array = new Uint8Array(0), offset = 0, pages = 0, eos = false;
  let problem: string | undefined;
  // whole pages of the audio stream go to the decoder; other streams' pages (a cover's Theora) are dropped
  const walk = (bytes: Uint8Array): Uint8Array => {
    if (problem) return new Uint8Array(0);
    pending = pending.length ? concat2(pending, bytes) : bytes;
    let at = 0;
    const keep: Uint8Array[] = [];
    for (;;) {
      if (at + 27 > pending.length) break;
      if (!startsWith(pending, at, "OggS")) {
        problem = `corrupt Ogg stream: no page header at byte ${offset + at}`;
        break;
      }
      const end = oggPageEnd(pending, at);
      if (end < 0) break;
      if (oggSerial(pending, at) === stream.serial) {
        eos = (pending[at + 5] & 0x04) !== 0;
        keep.push(pending.subarray(at, end));
      }
      pages++;
      at = end;
    }
    offset += at;
    pending = pending.slice(at);
    return concat(keep);
  };
  const codec: Codec = {
    warnings: [],
    async decode(bytes) {
      const pagesOfStream = walk(bytes);
      if (problem) throw new AudioDecodeError(file, problem);
      if (pagesOfStream.length === 0) return [];
      const r = await decoder.decode(pagesOfStream);
      codec.warnings.push(...errorsOf(r.errors));
      return r.samplesDecoded ? channelsOf(r, channels) : [];
    },
    async finish() {
      if (pending.length > 0) {
        const cut = pending.length < 27 || pending.length < 27 + pending[26]
          ? "header is cut off"
          : "runs past the end of the file";
        throw new AudioDecodeError(file, `truncated: Ogg page ${pages} ${cut}`);
      }
      if (!eos) {
        throw new AudioDecodeError(
          file,
          `truncated: the last Ogg page (${pages}) is not marked end-of-stream`,
        );
      }
      const r = await decoder.flush();
      codec.warnings.push(...errorsOf(r.errors));
      return r.samplesDecoded ? channelsOf(r, channels) : [];
    },
    free: () => decoder.free(),
  };
  return {
    info: { format, sampleRate, channelCount: channels, declaredFrames, tags },
    dataStart: 0,
    dataEnd: src.size,
    codec,
  };
}

// ------------------------------------------------------------------------------------------- stream

/**
 * Open an audio file (a path, or a {@linkcode ByteSource} and a name) for streaming decoding: the
 * format is detected from the bytes, the header checked, the tags read; {@linkcode AudioStream.read}
 * then gives the samples chunk by chunk.
 *
 * @throws {AudioDecodeError} naming the file: not a regular file, empty, unrecognised, a header out of
 *   bounds, or undecodable.
 *
 * @example
 * ```ts ignore
 * import { openAudio } from "./audio_stream.ts";
 * const stream = await openAudio("song.flac");
 * for (let chunk; (chunk = await stream.read()) !== null;) console.log(chunk[0].length);
 * stream.close();
 * ```
 */
export async function openAudio(
  input: string | { source: ByteSource; file: string },
  options: OpenAudioOptions = {},
): Promise<AudioStream> {
  const file = typeof input === "string" ? input : input.file;
  let src: ByteSource;
  if (typeof input === "string") {
    try {
      src = await FileByteSource.open(input);
    } catch (e) {
      if (e instanceof InputFileError) throw new AudioDecodeError(file, e.problem, { cause: e });
      throw e;
    }
  } else src = input.source;
  try {
    return await openStream(src, file, options);
  } catch (e) {
    src.close();
    if (e instanceof AudioDecodeError) throw e;
    throw new AudioDecodeError(file, `decoder failed: ${(e as Error)?.message ?? e}`, { cause: e });
  }
}

async function openStream(src: ByteSource, file: string, options: OpenAudioOptions): Promise<AudioStream> {
  const maxDuration = options.maxDuration ?? 4 * 3600;
  const chunkBytes = options.chunkBytes ?? 1 << 18;
  if (src.size === 0) throw new AudioDecodeError(file, "file is empty (0 bytes)");
  const head = await src.readAt(0, 4096);
  const tagEnd = startsWith(head, 0, "ID3") ? await id3End(src) : 0;
  const afterTag = tagEnd > 0 ? await src.readAt(tagEnd, 65536) : await src.readAt(0, 65536);
  const format = detectFormat(head, afterTag, tagEnd > 0);
  if (!format) {
    throw new AudioDecodeError(
      file,
      `unrecognised or unsupported audio format (first bytes: ${describeStart(head)}); ` +
        `supported: ${AUDIO_FORMATS.join(", ")}`,
    );
  }
  const opened = format === "wav"
    ? await openWav(src, file, maxDuration)
    : format === "mp3"
    ? await openMp3(src, file, tagEnd, maxDuration)
    : format === "flac"
    ? await openFlac(src, file, tagEnd, maxDuration)
    : format === "m4a" || format === "aac"
    ? await openWithFfmpeg(src, file, format, maxDuration)
    : await openOgg(src, file, format, maxDuration);
  const { info, codec } = opened;
  let at = opened.dataStart, frames = 0, nonFinite = 0, channels = 0, finished = false;
  const maxFrames = maxDuration * info.sampleRate;
  const stream: AudioStream = {
    file,
    info,
    warnings: codec.warnings,
    get frames() {
      return frames;
    },
    async read() {
      if (finished) return null;
      try {
        for (;;) {
          let out: Pcm[];
          if (at < opened.dataEnd) {
            const bytes = await src.readAt(at, Math.min(chunkBytes, opened.dataEnd - at));
            if (bytes.length === 0) throw new AudioDecodeError(file, "truncated: the file ended early");
            at += bytes.length;
            out = await codec.decode(bytes);
          } else if (codec.pull) {
            const pulled = await codec.pull();
            if (pulled === null) {
              out = [];
              finished = true;
            } else out = pulled;
          } else {
            out = await codec.finish();
            finished = true;
          }
          const n = out.length ? out[0].length : 0;
          if (n > 0) channels = out.length;
          frames += n;
          if (frames > maxFrames) checkAudioBounds(file, info.sampleRate, frames, maxDuration);
          const bad = countNonFiniteSamples(out);
          if (bad > 0 || nonFinite > 0) {
            // count them all (decoding only), then refuse the file
            nonFinite += bad;
            if (!finished) continue;
            const total = frames * Math.max(1, channels);
            throw new AudioDecodeError(
              file,
              `${nonFinite} of ${total} samples are not finite numbers (NaN or ±Inf): the audio is corrupt`,
            );
          }
          if (finished) {
            if (frames === 0) {
              throw new AudioDecodeError(file, `no audio: the ${info.format} stream decodes to 0 samples`);
            }
            if (n === 0) return null;
            return out;
          }
          if (n > 0) return out;
        }
      } catch (e) {
        finished = true;
        if (e instanceof AudioDecodeError) throw e;
        throw new AudioDecodeError(file, `${info.format} decoder failed: ${(e as Error)?.message ?? e}`, {
          cause: e,
        });
      }
    },
    close() {
      codec.free();
      src.close();
    },
  };
  return stream;
}
