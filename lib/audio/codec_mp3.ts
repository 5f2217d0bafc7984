/**
 * MP3, through mpg123 compiled to WebAssembly (`mpg123-decoder`, loaded when an MP3 is met): the frame walk
 * beside the decoder tells a file cut mid-frame; a Xing/Info frame gives the length; ID3v2 the tags.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import type { ByteSource } from "./byte_source.ts";
import {
  channelsOf,
  checkAudioBounds,
  type Codec,
  type CodecEntry,
  concat2,
  errorsOf,
  type Opened,
} from "./codec.ts";
import { findFirstFrame, type Mp3FrameHeader, parseFrameHeader } from "./mp3.ts";
import { readId3v2, type Tags } from "./tags.ts";

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

/** The MP3 codec. */
export const MP3_CODEC: CodecEntry = {
  name: "MP3 (mpg123-decoder)",
  formats: ["mp3"],
  files: [{ ext: ".mp3", mime: "audio/mpeg" }],
  open: ({ src, file, tagEnd, maxDuration }) => openMp3(src, file, tagEnd, maxDuration),
};
