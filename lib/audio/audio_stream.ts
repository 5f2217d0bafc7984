/**
 * Streaming decoding: a file is opened, its header checked (format from the
 * bytes, sample rate and declared length within bounds, tags read), and its
 * samples delivered in chunks as they are decoded, so memory does not grow
 * with the length of the track. Each format's codec is a file of its own
 * (`codec_wav.ts`, `codec_mp3.ts`, `codec_flac.ts`, `codec_ogg.ts`,
 * `codec_ffmpeg.ts`), registered in `codecs.ts`.
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
import { findFirstFrame, skipId3v2 } from "./mp3.ts";
import { isWav } from "./wav.ts";
import {
  AUDIO_FORMATS,
  type AudioFormat,
  type AudioInfo,
  checkAudioBounds,
  countNonFiniteSamples,
  type Pcm,
  startsWith,
} from "./codec.ts";
import { oggAudioStream } from "./codec_ogg.ts";
import { codecOf } from "./codecs.ts";

export {
  AUDIO_FORMATS,
  type AudioFormat,
  type AudioInfo,
  checkAudioBounds,
  countNonFiniteSamples,
  type Pcm,
  SAMPLE_RATE_RANGE,
} from "./codec.ts";

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

/** The first bytes of a file, in hex, for a message. */
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
  const opened = await codecOf(format).open({ src, file, format, tagEnd, maxDuration });
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
