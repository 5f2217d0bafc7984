/**
 * WAV (RIFF/WAVE), parsed here: PCM 8/16/24/32-bit and float 32/64, WAVE_FORMAT_EXTENSIBLE, the LIST/INFO
 * tags; the data chunk is checked against the file's length before a sample is read.
 *
 * @module
 */

import { AudioDecodeError } from "../util/errors.ts";
import type { ByteSource } from "./byte_source.ts";
import { checkAudioBounds, type Codec, type CodecEntry, concat2, type Opened } from "./codec.ts";
import { readRiffInfoList, type Tags } from "./tags.ts";
import { encodingOf, readSamples, wavDataSize, type WavEncoding } from "./wav.ts";

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

/** The WAV codec. */
export const WAV_CODEC: CodecEntry = {
  name: "WAV (parsed here)",
  formats: ["wav"],
  files: [{ ext: ".wav", mime: "audio/wav" }, { ext: ".wave", mime: "audio/wav" }],
  open: ({ src, file, maxDuration }) => openWav(src, file, maxDuration),
};
