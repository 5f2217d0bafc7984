/**
 * The inputs behind the reference spectrograms in tests/fixtures: the tones
 * signal (docs/numerics.md), OpenL3's chirp and the 96 kHz 24-bit "deep" file,
 * resampled and framed in float64 by the project's own (separately tested)
 * stages.
 *
 * @module
 */

import { decodeAudioFile, toMono } from "../lib/audio/decode.ts";
import { frameBatches, planFrames, sourceAt48k } from "../lib/audio/frame.ts";
import { decodeNpy } from "../lib/util/npy.ts";
import { fixture } from "./helpers.ts";

/** `0.5 sin(2π·440 n/22050) + 0.3 sin(2π·1000 n/22050) + 0.2 sin(2π·5000 n/22050)`, 2 s. */
export function tones22050(): Float64Array {
  return Float64Array.from(
    { length: 44100 },
    (_, n) =>
      0.5 * Math.sin(2 * Math.PI * 440 * n / 22050) + 0.3 * Math.sin(2 * Math.PI * 1000 * n / 22050) +
      0.2 * Math.sin(2 * Math.PI * 5000 * n / 22050),
  );
}

/** Every window (hop 0.1 s, centred) of a mono signal, copied out. */
export function allWindows(mono: Float32Array | Float64Array, sampleRate: number): Float64Array[] {
  const out: Float64Array[] = [];
  const source = sourceAt48k(mono, sampleRate);
  for (const b of frameBatches(source, planFrames(source.length, { hopSize: 0.1, center: true }), 8)) {
    for (let k = 0; k < b.count; k++) out.push(b.samples.slice(k * 48000, (k + 1) * 48000));
  }
  return out;
}

/** Windows of the tones signal (float64 input, as in the reference). */
export function toneWindows(): Float64Array[] {
  return allWindows(tones22050(), 22050);
}

/** Windows of OpenL3's 2 s, 44.1 kHz test chirp. */
export async function chirpWindows(): Promise<Float64Array[]> {
  const audio = await decodeAudioFile(fixture("openl3_chirp_44k.wav"));
  return allWindows(toMono(audio.channels), audio.sampleRate);
}

/** Windows (hop 1 s, no centring) of the 96 kHz 24-bit stereo file with content at every level. */
export async function deepWindows(): Promise<Float64Array[]> {
  const audio = await decodeAudioFile(fixture("deep_96k_24bit_stereo.wav"));
  const out: Float64Array[] = [];
  const source = sourceAt48k(toMono(audio.channels), audio.sampleRate);
  for (const b of frameBatches(source, planFrames(source.length, { hopSize: 1, center: false }), 3)) {
    for (let k = 0; k < b.count; k++) out.push(b.samples.slice(k * 48000, (k + 1) * 48000));
  }
  return out;
}

/** A reference array from tests/fixtures. */
export async function referenceArray(name: string): Promise<{ data: ArrayLike<number>; shape: number[] }> {
  return decodeNpy(await Deno.readFile(fixture(`${name}.npy`)), name);
}
