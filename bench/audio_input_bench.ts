/**
 * Decode and resample cost. Each case handles 10 s of audio, so the time per
 * iteration divided by 10 is the cost per second of audio.
 */
import { decodeAudioBytes, toMono } from "../lib/audio/decode.ts";
import { encodeMp3 } from "../lib/audio/mp3_encode.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { resample } from "../lib/audio/resample.ts";
import { frameBatches, planFrames, sourceAt48k } from "../lib/audio/frame.ts";

const SECONDS = 10;
const tone = (sr: number, nch: number) =>
  Array.from(
    { length: nch },
    (_, c) =>
      Float32Array.from({ length: sr * SECONDS }, (_, i) => 0.5 * Math.sin(2 * Math.PI * (440 + c) * i / sr)),
  );
const mp3Mono22k = encodeMp3(tone(22050, 1), 22050);
const mp3Stereo44k = encodeMp3(tone(44100, 2), 44100);
const wavStereo44k = encodeWav(tone(44100, 2), 44100);
const mono22k = tone(22050, 1)[0];
const mono44k = tone(44100, 1)[0];
const mono96k = tone(96000, 1)[0];

Deno.bench("decode MP3 22.05 kHz mono, 10 s", { group: "decode" }, async () => {
  await decodeAudioBytes(mp3Mono22k, "bench.mp3");
});
Deno.bench("decode MP3 44.1 kHz stereo, 10 s", { group: "decode" }, async () => {
  await decodeAudioBytes(mp3Stereo44k, "bench.mp3");
});
Deno.bench("decode WAV 44.1 kHz stereo 16-bit + downmix, 10 s", { group: "decode" }, async () => {
  toMono((await decodeAudioBytes(wavStereo44k, "bench.wav")).channels);
});
Deno.bench("resample kaiser_best 22.05 → 48 kHz, 10 s", { group: "resample" }, () => {
  resample(mono22k, 22050, 48000);
});
Deno.bench("resample kaiser_best 44.1 → 48 kHz, 10 s", { group: "resample" }, () => {
  resample(mono44k, 44100, 48000);
});
Deno.bench("resample kaiser_best 96 → 48 kHz, 10 s", { group: "resample" }, () => {
  resample(mono96k, 96000, 48000);
});
Deno.bench("resample + frame (hop 0.1 s, batches of 32), 44.1 kHz, 10 s", { group: "frame" }, () => {
  let n = 0;
  const source = sourceAt48k(mono44k, 44100);
  for (const b of frameBatches(source, planFrames(source.length, { hopSize: 0.1, center: true }), 32)) {
    n += b.count;
  }
  if (n !== 96) throw new Error(`expected 96 windows, got ${n}`);
});
