/**
 * FLAC, through `@wasm-audio-decoders/flac` (loaded when a FLAC is met): STREAMINFO gives the rate, the
 * channels and the length (fewer samples decoded is a truncated file); the Vorbis comment the tags.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import type { ByteSource } from "./byte_source.ts";
import { channelsOf, checkAudioBounds, type Codec, type CodecEntry, errorsOf, type Opened } from "./codec.ts";
import { readVorbisComment, type Tags } from "./tags.ts";

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

/** The FLAC codec. */
export const FLAC_CODEC: CodecEntry = {
  name: "FLAC (@wasm-audio-decoders/flac)",
  formats: ["flac"],
  files: [{ ext: ".flac", mime: "audio/flac" }],
  open: ({ src, file, tagEnd, maxDuration }) => openFlac(src, file, tagEnd, maxDuration),
};
