/**
 * Audio decoding: the format is detected from the bytes (never the file
 * name), then WAV is parsed here and MP3, FLAC, Ogg Vorbis and Ogg Opus go to
 * the `@wasm-audio-decoders` family. Every failure is an
 * {@linkcode AudioDecodeError} naming the file and the problem.
 *
 * @module
 */

import { MPEGDecoder } from "mpg123-decoder";
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { OggVorbisDecoder } from "@wasm-audio-decoders/ogg-vorbis";
import { OggOpusDecoder } from "ogg-opus-decoder";
import { AudioDecodeError } from "../util/errors.ts";
import { InputFileError, readInputFile } from "../util/input_file.ts";
import { decodeWav, isWav } from "./wav.ts";
import { scanMp3, skipId3v2 } from "./mp3.ts";
import { readFlacTags, readId3v2, readOggTags, readWavTags, type Tags } from "./tags.ts";

/** Container/codec pairs this module decodes. */
export type AudioFormat = "wav" | "mp3" | "flac" | "ogg-vorbis" | "ogg-opus";

/**
 * Samples of one channel: float32 where that is exact (16- and 24-bit integers, float32 files, the
 * codecs' float32 output), float64 where it is not (32-bit integer and float64 WAV).
 */
export type Pcm = Float32Array | Float64Array;

/** Decoded audio. */
export interface DecodedAudio {
  /** One array per channel (the decoder's own count for MP3 is reported in `channelCount`). */
  channels: Pcm[];
  /** Samples per second. */
  sampleRate: number;
  /** Detected format. */
  format: AudioFormat;
  /** Channels in the source. */
  channelCount: number;
  /** Problems the decoder recovered from (e.g. a corrupt frame skipped). */
  warnings: string[];
  /** Title, artist, album, … where the file carries them. */
  tags: Tags;
}

/** Every format name, for messages and help texts. */
export const AUDIO_FORMATS: readonly AudioFormat[] = [
  "wav",
  "mp3",
  "flac",
  "ogg-vorbis",
  "ogg-opus",
];

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[at + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** Offset of the first packet of the Ogg page at `at`. */
function oggFirstPacket(bytes: Uint8Array, at: number): number {
  return at + 27 + bytes[at + 26];
}

/**
 * Name the format of a file from its first bytes, or return null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectFormat } from "./decode.ts";
 * assert.ok(detectFormat(new TextEncoder().encode("fLaC\0\0\0\x22")) === "flac");
 * assert.ok(detectFormat(new Uint8Array(16)) === null);
 * ```
 */
export function detectFormat(bytes: Uint8Array): AudioFormat | null {
  if (isWav(bytes)) return "wav";
  if (startsWith(bytes, 0, "OggS") && bytes.length > 27) {
    const p = oggFirstPacket(bytes, 0);
    if (startsWith(bytes, p, "\x01vorbis")) return "ogg-vorbis";
    if (startsWith(bytes, p, "OpusHead")) return "ogg-opus";
    return null;
  }
  const afterId3 = skipId3v2(bytes);
  if (startsWith(bytes, afterId3, "fLaC")) return "flac";
  if (afterId3 > 0) return "mp3"; // an ID3v2 tag announces MP3 (checked when decoding)
  if (scanMp3(bytes)) return "mp3";
  return null;
}

function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0"));
  return head.join(" ");
}

/** Sample rates real files use: anything outside is a damaged or hostile header. */
export const SAMPLE_RATE_RANGE = [1000, 768000] as const;

/** Options of {@linkcode decodeAudioBytes}. */
export interface DecodeOptions {
  /**
   * Longest audio accepted, in seconds: a file that declares (or decodes to) more is refused, so one
   * file cannot stall a run.
   * @default {14400}
   */
  maxDuration?: number;
}

/**
 * Refuse what no real file has: a sample rate outside {@linkcode SAMPLE_RATE_RANGE}, or more audio than
 * `maxDuration` seconds. Called with what a header declares (before decoding) and with what was decoded.
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

/**
 * Decode a file held in memory.
 *
 * @param bytes The whole file.
 * @param file The file's name or path, used in error messages.
 * @throws {AudioDecodeError} for empty, truncated, unrecognised or undecodable input, for a sample rate
 *   or length no real file has, and for samples that are not finite numbers.
 */
export async function decodeAudioBytes(
  bytes: Uint8Array,
  file: string,
  options: DecodeOptions = {},
): Promise<DecodedAudio> {
  const maxDuration = options.maxDuration ?? 4 * 3600;
  if (bytes.length === 0) throw new AudioDecodeError(file, "file is empty (0 bytes)");
  const format = detectFormat(bytes);
  if (!format) {
    throw new AudioDecodeError(
      file,
      `unrecognised or unsupported audio format (first bytes: ${describeStart(bytes)}); ` +
        `supported: ${AUDIO_FORMATS.join(", ")}`,
    );
  }
  let decoded: DecodedAudio;
  try {
    switch (format) {
      case "wav": {
        const w = decodeWav(bytes, file, (rate, frames) => checkAudioBounds(file, rate, frames, maxDuration));
        decoded = {
          channels: w.channels,
          sampleRate: w.sampleRate,
          format,
          channelCount: w.channels.length,
          warnings: [],
          tags: {},
        };
        break;
      }
      case "mp3":
        decoded = await decodeMp3(bytes, file);
        break;
      case "flac":
        decoded = await decodeFlac(bytes, file, maxDuration);
        break;
      case "ogg-vorbis":
      case "ogg-opus":
        decoded = await decodeOgg(bytes, file, format);
        break;
    }
  } catch (e) {
    if (e instanceof AudioDecodeError) throw e;
    throw new AudioDecodeError(file, `${format} decoder failed: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  }
  try {
    decoded.tags = format === "wav"
      ? readWavTags(bytes)
      : format === "mp3"
      ? readId3v2(bytes)
      : format === "flac"
      ? readFlacTags(bytes, skipId3v2(bytes))
      : readOggTags(bytes);
  } catch {
    decoded.tags = {}; // tags are a courtesy: never a reason to fail
  }
  if (decoded.channels.length === 0 || decoded.channels[0].length === 0) {
    throw new AudioDecodeError(file, `no audio: the ${format} stream decodes to 0 samples`);
  }
  checkAudioBounds(file, decoded.sampleRate, decoded.channels[0].length, maxDuration);
  const bad = countNonFiniteSamples(decoded.channels);
  if (bad > 0) {
    const total = decoded.channels.length * decoded.channels[0].length;
    throw new AudioDecodeError(
      file,
      `${bad} of ${total} samples are not finite numbers (NaN or ±Inf): the audio is corrupt`,
    );
  }
  if (!(decoded.sampleRate > 0)) {
    throw new AudioDecodeError(file, `invalid sample rate ${decoded.sampleRate}`);
  }
  return decoded;
}

/**
 * Read and decode an audio file.
 *
 * @example
 * ```ts ignore
 * import { decodeAudioFile, toMono } from "./decode.ts";
 * const audio = await decodeAudioFile("previews/bell_sound.mp3");
 * const mono = toMono(audio.channels);
 * ```
 */
export async function decodeAudioFile(path: string, options: DecodeOptions = {}): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path, { what: "an audio file" });
  } catch (e) {
    if (e instanceof InputFileError) throw new AudioDecodeError(path, e.problem, { cause: e });
    throw e;
  }
  return await decodeAudioBytes(bytes, path, options);
}

function errorsOf(errors: { message: string }[]): string[] {
  return errors.map((e) => e.message);
}

async function decodeMp3(bytes: Uint8Array, file: string): Promise<DecodedAudio> {
  const scan = scanMp3(bytes);
  if (!scan) throw new AudioDecodeError(file, "no MPEG audio frames found");
  if (scan.truncated) {
    throw new AudioDecodeError(
      file,
      `truncated: the last MPEG frame (after ${scan.frames} whole frames) runs past the end of the file`,
    );
  }
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    // mpg123 applies the LAME/Xing tag's encoder delay and padding (gapless).
    const r = decoder.decode(bytes.subarray(scan.firstFrame));
    const channels = r.channelData.slice(0, scan.channels).map((c) => c.slice(0, r.samplesDecoded));
    return {
      channels,
      sampleRate: r.sampleRate,
      format: "mp3",
      channelCount: scan.channels,
      warnings: errorsOf(r.errors),
      tags: {},
    };
  } finally {
    decoder.free();
  }
}

/** FLAC STREAMINFO fields this module checks. */
function flacStreamInfo(
  bytes: Uint8Array,
): { totalSamples: number; channels: number; sampleRate: number } | null {
  const at = skipId3v2(bytes) + 4; // after "fLaC"
  if (at + 4 + 34 > bytes.length || (bytes[at] & 0x7f) !== 0) return null;
  const d = bytes.subarray(at + 4, at + 4 + 34);
  const channels = ((d[12] >> 1) & 7) + 1;
  const sampleRate = (d[10] << 12) | (d[11] << 4) | (d[12] >> 4);
  const totalSamples = (d[13] & 0x0f) * 2 ** 32 +
    ((d[14] << 24) >>> 0) + (d[15] << 16) + (d[16] << 8) + d[17];
  return { totalSamples, channels, sampleRate };
}

async function decodeFlac(bytes: Uint8Array, file: string, maxDuration: number): Promise<DecodedAudio> {
  const info = flacStreamInfo(bytes);
  if (!info) throw new AudioDecodeError(file, "FLAC stream has no valid STREAMINFO block");
  checkAudioBounds(file, info.sampleRate, info.totalSamples, maxDuration);
  const decoder = new FLACDecoder();
  await decoder.ready;
  try {
    const r = await decoder.decodeFile(bytes.subarray(skipId3v2(bytes)));
    if (info.totalSamples > 0 && r.samplesDecoded < info.totalSamples) {
      throw new AudioDecodeError(
        file,
        `truncated: STREAMINFO declares ${info.totalSamples} samples, only ${r.samplesDecoded} decoded`,
      );
    }
    return {
      channels: r.channelData.map((c) => c.slice(0, r.samplesDecoded)),
      sampleRate: r.sampleRate,
      format: "flac",
      channelCount: info.channels,
      warnings: errorsOf(r.errors),
      tags: {},
    };
  } finally {
    decoder.free();
  }
}

/** Walk the Ogg pages: is the stream whole (every page complete, last page flagged end-of-stream)? */
function oggProblem(bytes: Uint8Array): string | null {
  let at = 0, pages = 0, eos = false;
  while (at < bytes.length) {
    if (!startsWith(bytes, at, "OggS") || at + 27 > bytes.length) {
      return `corrupt Ogg stream: no page header at byte ${at}`;
    }
    const nseg = bytes[at + 26];
    if (at + 27 + nseg > bytes.length) return `truncated: Ogg page ${pages} header is cut off`;
    let body = 0;
    for (let i = 0; i < nseg; i++) body += bytes[at + 27 + i];
    const end = at + 27 + nseg + body;
    if (end > bytes.length) return `truncated: Ogg page ${pages} runs past the end of the file`;
    eos = (bytes[at + 5] & 0x04) !== 0;
    pages++;
    at = end;
  }
  return eos ? null : `truncated: the last Ogg page (${pages}) is not marked end-of-stream`;
}

async function decodeOgg(
  bytes: Uint8Array,
  file: string,
  format: "ogg-vorbis" | "ogg-opus",
): Promise<DecodedAudio> {
  const problem = oggProblem(bytes);
  if (problem) throw new AudioDecodeError(file, problem);
  const head = oggFirstPacket(bytes, 0);
  // Vorbis identification header: channels at +11; OpusHead: channels at +9.
  const channelCount = format === "ogg-vorbis" ? bytes[head + 11] : bytes[head + 9];
  const decoder = format === "ogg-vorbis" ? new OggVorbisDecoder() : new OggOpusDecoder();
  await decoder.ready;
  try {
    const r = await decoder.decodeFile(bytes);
    return {
      channels: r.channelData.slice(0, channelCount).map((c) => c.slice(0, r.samplesDecoded)),
      sampleRate: r.sampleRate,
      format,
      channelCount,
      warnings: errorsOf(r.errors),
      tags: {},
    };
  } finally {
    decoder.free();
  }
}

/**
 * Downmix to mono by the mean of the channels, as `librosa.to_mono` does, in
 * float64 (the mean of two 24-bit channels needs 25 bits, more than float32
 * holds). A single channel is returned as it is (not copied).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toMono } from "./decode.ts";
 * const m = toMono([new Float32Array([1, 0]), new Float32Array([0, 0])]);
 * assert.ok(m[0] === 0.5 && m[1] === 0);
 * // 0.75 + 2^-23 and 0.75: their mean is not a float32 value, and is kept exactly
 * const x = 0.75 + 2 ** -23;
 * assert.equal(toMono([new Float32Array([x]), new Float32Array([0.75])])[0], 0.75 + 2 ** -24);
 * ```
 */
export function toMono(channels: Pcm[]): Pcm {
  if (channels.length === 0) throw new RangeError("toMono: no channels");
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float64Array(n);
  const k = channels.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += channels[c][i];
    out[i] = s / k;
  }
  return out;
}
