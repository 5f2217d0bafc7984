/**
 * What every codec shares: the formats, the header facts, the bounds a header is checked against, and the
 * interface a codec file implements (`codec_*.ts`, registered in `codecs.ts`).
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import type { ByteSource } from "./byte_source.ts";
import type { Tags } from "./tags.ts";

/** Container/codec pairs this tool decodes. */
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

/** Whether `bytes` hold `text` (ASCII) at `at`. */
export function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Something that turns bytes into samples: fed the data front to back, then finished; or one that reads
 * the file itself (ffmpeg) and is pulled until it says null.
 */
export interface Codec {
  /** The next samples of a decoder that reads the file itself; null at the end. */
  pull?(): Promise<Pcm[] | null>;
  /** Samples decoded from the next piece of data (one array per channel, possibly empty). */
  decode(bytes: Uint8Array): Promise<Pcm[]>;
  /** The last samples, after every end-of-stream check. */
  finish(): Promise<Pcm[]>;
  /** What the decoder noticed but decoded past (a damaged frame, a bad checksum). */
  warnings: string[];
  /** Release what the decoder holds (WebAssembly memory, a child process). */
  free(): void;
}

/** A format's header, where its data lies, and how to decode it. */
export interface Opened {
  /** The header's description of the audio. */
  info: AudioInfo;
  /** The byte offset where the coded audio starts. */
  dataStart: number;
  /** The byte offset where the coded audio ends (exclusive). */
  dataEnd: number;
  /** The decoder to feed with the bytes between them. */
  codec: Codec;
}

/** The messages of a decoder's errors. */
export function errorsOf(errors: { message: string }[]): string[] {
  return errors.map((e) => e.message);
}

/** A decoder's channels, cut to the samples it decoded. */
export function channelsOf(r: { channelData: Float32Array[]; samplesDecoded: number }, count: number): Pcm[] {
  return r.channelData.slice(0, Math.max(1, Math.min(count, r.channelData.length))).map((c) =>
    c.slice(0, r.samplesDecoded)
  );
}

/** Two byte arrays, one after the other. */
export function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** What a codec is given to open a file. */
export interface OpenContext {
  /** The file's bytes. */
  src: ByteSource;
  /** Its name, for messages. */
  file: string;
  /** Its format, as {@linkcode detectFormat} named it. */
  format: AudioFormat;
  /** Where the ID3v2 tags at its start end (0 without). */
  tagEnd: number;
  /** Longest audio accepted, seconds. */
  maxDuration: number;
}

/** One codec: the formats it decodes, the file types (extension, MIME type) it is picked up by, and how. */
export interface CodecEntry {
  /** What it is, for the layout and the docs. */
  name: string;
  /** The formats it opens. */
  formats: readonly AudioFormat[];
  /** The extensions files of these formats carry, with the MIME type a browser plays them by. */
  files: readonly { ext: string; mime: string }[];
  /** Open a file: check its header, read its tags, and make its decoder. */
  open(ctx: OpenContext): Promise<Opened>;
}
