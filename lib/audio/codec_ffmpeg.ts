/**
 * M4A (AAC or ALAC in MP4) and ADTS AAC, decoded by `ffmpeg` (on the PATH) reading the file itself: an
 * MP4's index may sit at its end. A source that is not a file on disk is copied to a private temporary file.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import { type ByteSource, FileByteSource } from "./byte_source.ts";
import { checkAudioBounds, type CodecEntry, type Opened } from "./codec.ts";
import { decodeWithFfmpeg, type FfmpegFormat, probeAudio } from "./ffmpeg.ts";

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

/** The codec of the formats ffmpeg decodes for this tool. */
export const FFMPEG_CODEC: CodecEntry = {
  name: "M4A/AAC (ffmpeg)",
  formats: ["m4a", "aac"],
  files: [{ ext: ".m4a", mime: "audio/mp4" }, { ext: ".aac", mime: "audio/aac" }],
  open: ({ src, file, format, maxDuration }) =>
    openWithFfmpeg(src, file, format as FfmpegFormat, maxDuration),
};
