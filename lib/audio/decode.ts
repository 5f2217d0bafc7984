/**
 * Whole-signal decoding, for callers that want every sample at once (tools,
 * tests, short files): the streaming decoders of `audio_stream.ts` read to
 * the end and the chunks joined. The format is detected from the bytes
 * (never the file name); every failure is an {@linkcode AudioDecodeError}
 * naming the file and the problem. The embedding pipeline itself streams.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import {
  type AudioFormat,
  type AudioStream,
  openAudio,
  type OpenAudioOptions,
  type Pcm,
} from "./audio_stream.ts";
import { MemoryByteSource } from "./byte_source.ts";
import type { Tags } from "./tags.ts";

export {
  AUDIO_FORMATS,
  type AudioFormat,
  checkAudioBounds,
  countNonFiniteSamples,
  detectFormat,
  type Pcm,
  SAMPLE_RATE_RANGE,
} from "./audio_stream.ts";

/** Decoded audio. */
export interface DecodedAudio {
  /** One array per channel. */
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

/** Options of {@linkcode decodeAudioBytes} and {@linkcode decodeAudioFile}. */
export type DecodeOptions = Pick<OpenAudioOptions, "maxDuration">;

/** Read a stream to its end and join its chunks. */
async function readAll(stream: AudioStream): Promise<DecodedAudio> {
  const parts: Pcm[][] = [];
  try {
    for (let chunk; (chunk = await stream.read()) !== null;) {
      if (chunk.length && chunk[0].length) parts.push(chunk);
    }
  } finally {
    stream.close();
  }
  const nch = parts[0].length;
  const total = parts.reduce((s, p) => s + p[0].length, 0);
  const wide = parts.some((p) => p[0] instanceof Float64Array);
  const channels: Pcm[] = Array.from(
    { length: nch },
    () => wide ? new Float64Array(total) : new Float32Array(total),
  );
  let at = 0;
  for (const p of parts) {
    for (let c = 0; c < nch; c++) channels[c].set(p[c], at);
    at += p[0].length;
  }
  const { info } = stream;
  return {
    channels,
    sampleRate: info.sampleRate,
    format: info.format,
    channelCount: info.channelCount,
    warnings: stream.warnings,
    tags: info.tags,
  };
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
  return await readAll(await openAudio({ source: new MemoryByteSource(bytes), file }, options));
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
  return await readAll(await openAudio(path, options));
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
  if (channels.length === 0) throw new AudioDecodeError("toMono", "no channels");
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
