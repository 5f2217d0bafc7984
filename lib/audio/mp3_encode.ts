/**
 * MP3 encoding with `@breezystack/lamejs`, plus the LAME "Info" tag that
 * lamejs leaves out, so that a gapless decoder returns exactly the samples
 * that went in (same count, same alignment).
 *
 * @module
 */

import { Mp3Encoder } from "@breezystack/lamejs";
import { ArgumentError } from "../util/errors.ts";
import { makeInfoFrame, scanMp3 } from "./mp3.ts";
import { concat } from "../util/bytes.ts";

export { concat } from "../util/bytes.ts";

/** Samples LAME inserts before the audio (its `ENCDELAY`). */
export const LAME_ENCODER_DELAY = 576;

/** Options of {@linkcode encodeMp3}. */
export interface EncodeMp3Options {
  /** Constant bitrate in kbit/s; default 128. */
  kbps?: number;
  /** Write the Xing/LAME Info frame with delay and padding; default true. */
  gapless?: boolean;
}

function toInt16(x: ArrayLike<number>): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] * 32767)));
  }
  return out;
}

/**
 * Encode one or two channels of float samples in [-1, 1] as a CBR MP3.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMp3 } from "./mp3_encode.ts";
 * const tone = Float32Array.from({ length: 22050 }, (_, n) => 0.5 * Math.sin(2 * Math.PI * 440 * n / 22050));
 * const mp3 = encodeMp3([tone], 22050);
 * assert.ok(mp3.length > 1000);
 * ```
 */
export function encodeMp3(
  channels: ArrayLike<number>[],
  sampleRate: number,
  options: EncodeMp3Options = {},
): Uint8Array {
  const kbps = options.kbps ?? 128;
  if (channels.length !== 1 && channels.length !== 2) {
    throw new ArgumentError(`encodeMp3: 1 or 2 channels, got ${channels.length}`);
  }
  const n = channels[0].length;
  if (n === 0) throw new ArgumentError("encodeMp3: no samples");
  const encoder = new Mp3Encoder(channels.length, sampleRate, kbps);
  const pcm = channels.map(toInt16);
  const parts: Uint8Array[] = [];
  const block = 1152 * 16;
  for (let i = 0; i < n; i += block) {
    const left = pcm[0].subarray(i, i + block);
    const right = pcm.length === 2 ? pcm[1].subarray(i, i + block) : undefined;
    parts.push(encoder.encodeBuffer(left, right));
  }
  parts.push(encoder.flush());
  const body = concat(parts);
  if (options.gapless === false) return body;
  const scan = scanMp3(body);
  if (!scan) throw new Error("encodeMp3: lamejs produced no MPEG frames");
  const total = scan.frames * scan.first.samplesPerFrame;
  const padding = total - LAME_ENCODER_DELAY - n;
  const info0 = makeInfoFrame({
    template: scan.first,
    frames: scan.frames,
    streamBytes: 0,
    delay: LAME_ENCODER_DELAY,
    padding,
  });
  const info = makeInfoFrame({
    template: scan.first,
    frames: scan.frames,
    streamBytes: info0.length + body.length,
    delay: LAME_ENCODER_DELAY,
    padding,
  });
  return concat([info, body]);
}
