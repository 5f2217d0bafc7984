/**
 * A corpus of hostile inputs, made on the fly (nothing large is committed):
 * audio with NaN and infinite samples, absurd headers, special files, odd
 * names and links; weights and converted models that are not what they
 * claim; databases holding vectors no analysis should trust.
 *
 * @module
 */

import { encodeWav } from "../lib/audio/wav.ts";
import { writeKerasWeights } from "../lib/model/keras_weights.ts";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { randomWeights } from "../lib/model/random_weights.ts";

/** A 16 kHz tone of `seconds`. */
export function tone(freq: number, seconds: number, sr = 16000): Float32Array {
  return Float32Array.from(
    { length: Math.round(sr * seconds) },
    (_, i) => 0.4 * Math.sin(2 * Math.PI * freq * i / sr),
  );
}

/** A float32 WAV whose samples are all `value` (NaN, Infinity). */
export function constantWav(value: number, seconds = 1, sr = 16000): Uint8Array {
  return encodeWav([new Float32Array(Math.round(sr * seconds)).fill(value)], sr, { encoding: "float32" });
}

/** A float32 WAV of a tone with `count` NaN and `count` +Infinity samples scattered in it. */
export function partlyNonFiniteWav(count: number): Uint8Array {
  const x = tone(440, 1);
  for (let k = 0; k < count; k++) {
    x[100 + k * 997] = NaN;
    x[500 + k * 991] = Infinity;
  }
  return encodeWav([x], 16000, { encoding: "float32" });
}

/** A WAV whose fmt chunk declares `rate` Hz (the data is 0.5 s of a 16 kHz tone). */
export function patchedRateWav(rate: number): Uint8Array {
  const bytes = encodeWav([tone(440, 0.5)], 16000);
  const view = new DataView(bytes.buffer);
  // canonical 44-byte header: fmt chunk at 12, sample rate at 24, byte rate at 28
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  return bytes;
}

/** Seeded random weights in the official layout with one NaN planted in a conv kernel. */
export async function poisonedWeights(path: string): Promise<void> {
  const w = randomWeights(openl3Architecture("mel256", 512), 3);
  const conv = w.layers.find((l) => l.kind === "conv")!;
  if (conv.kind === "conv") conv.kernel[5] = NaN;
  await writeKerasWeights(path, w, { untrained: "poisoned test weights" });
}

/** Flip `count` bytes from the middle of a file, in place. */
export async function corrupt(path: string, count: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  const at = Math.floor(bytes.length / 2);
  for (let i = 0; i < count; i++) bytes[at + i] ^= 0xa5;
  await Deno.writeFile(path, bytes);
}

/** Make a FIFO (named pipe) with the system's mkfifo. */
export async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  if (!r.success) throw new Error(`mkfifo ${path} failed`);
}
