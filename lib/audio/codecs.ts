/**
 * The codecs, in one table: a new format is one `codec_*.ts` file and one row here. The table gives what
 * decodes each format (`audio_stream.ts`), and the extensions and MIME types of the files picked up in
 * folders and served by the explorer (`formats.ts`).
 *
 * @module
 */

import { AUDIO_FORMATS, type AudioFormat, type CodecEntry } from "./codec.ts";
import { MP3_CODEC } from "./codec_mp3.ts";
import { WAV_CODEC } from "./codec_wav.ts";
import { FLAC_CODEC } from "./codec_flac.ts";
import { OGG_CODEC } from "./codec_ogg.ts";
import { FFMPEG_CODEC } from "./codec_ffmpeg.ts";

/** Every codec, in the order their extensions are listed. */
export const CODECS: readonly CodecEntry[] = [MP3_CODEC, WAV_CODEC, FLAC_CODEC, OGG_CODEC, FFMPEG_CODEC];

/**
 * The codec of a format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codecOf } from "./codecs.ts";
 * assert.equal(codecOf("ogg-opus").files[0].ext, ".ogg");
 * ```
 */
export function codecOf(format: AudioFormat): CodecEntry {
  const codec = CODECS.find((c) => c.formats.includes(format));
  if (!codec) throw new Error(`no codec for ${format}`); // every format has one (codecs_test.ts)
  return codec;
}

export { AUDIO_FORMATS };
