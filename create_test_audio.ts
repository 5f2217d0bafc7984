/**
 * Writes the synthetic test set (eight 30-second sounds) to `previews/`.
 *
 *     deno task create-audio [--out DIR] [--format mp3|wav] [--duration S]
 *                            [--sample-rate HZ] [--seed N] [--true-pink]
 *
 * @module
 */

import { join } from "node:path";
import { PREVIEWS_DIR } from "./files.ts";
import { choiceFlag, type Command, defineCommand, numberFlag, runCommand } from "./lib/util/cli.ts";
import { ArgumentError } from "./lib/util/errors.ts";
import { encodeMp3 } from "./lib/audio/mp3_encode.ts";
import { encodeWav } from "./lib/audio/wav.ts";
import { type SoundSpec, synthesize, TEST_SOUNDS, TRUE_PINK } from "./lib/audio/synthetic_set.ts";

/** Options of {@linkcode run}. */
export interface CreateTestAudioOptions {
  /** Output folder; default `previews`. */
  out?: string;
  /** File format; default `mp3` (128 kbit/s CBR, with a LAME gapless tag). */
  format?: "mp3" | "wav";
  /** Seconds per sound; default 30. */
  duration?: number;
  /** Sample rate; default 22 050 Hz. */
  sampleRate?: number;
  /** Seed of the noise generator; default 42. */
  seed?: number;
  /** Also write `pink_noise_1f`, a true 1/f pink noise; default false. */
  truePink?: boolean;
  /** Print one line per file on stderr; default true. */
  verbose?: boolean;
}

/** Write the test set; returns the paths written. */
export async function run(options: CreateTestAudioOptions = {}): Promise<string[]> {
  const out = options.out ?? PREVIEWS_DIR;
  const format = options.format ?? "mp3";
  const duration = options.duration ?? 30;
  const sampleRate = options.sampleRate ?? 22050;
  const seed = options.seed ?? 42;
  if (!(duration > 0)) throw new ArgumentError(`--duration must be positive, got ${duration}`);
  if (!Number.isInteger(sampleRate) || sampleRate < 1) {
    throw new ArgumentError(`--sample-rate must be a positive integer, got ${sampleRate}`);
  }
  const sounds: SoundSpec[] = [...TEST_SOUNDS, ...(options.truePink ? [TRUE_PINK] : [])];
  await Deno.mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const spec of sounds) {
    const x = synthesize(spec, sampleRate, duration, seed);
    const bytes = format === "mp3" ? encodeMp3([x], sampleRate, { kbps: 128 }) : encodeWav([x], sampleRate);
    const path = join(out, `${spec.name}.${format}`);
    await Deno.writeFile(path, bytes);
    written.push(path);
    if (options.verbose ?? true) {
      console.error(`✓ ${path} (${duration} s, ${sampleRate} Hz, ${bytes.length} bytes)`);
    }
  }
  return written;
}

const HELP = `Write the synthetic test set (chords, tones, noises) as audio files.

Usage: deno task create-audio [options]

  --out DIR          output folder (default: ${PREVIEWS_DIR})
  --format mp3|wav   file format (default: mp3)
  --duration S       seconds per sound (default: 30)
  --sample-rate HZ   sample rate (default: 22050)
  --seed N           noise seed (default: 42)
  --true-pink        also write pink_noise_1f.<format>, a true 1/f pink noise
  -h, --help         this text`;

/** The `create-audio` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "create-audio",
  summary: "write the eight synthetic test sounds",
  help: HELP,
  options: {
    out: { type: "string" },
    format: { type: "string" },
    duration: { type: "string" },
    "sample-rate": { type: "string" },
    seed: { type: "string" },
    "true-pink": { type: "boolean" },
  },
  body: async ({ values }) => {
    const paths = await run({
      out: values.out,
      format: choiceFlag(values.format, "format", ["mp3", "wav"] as const, "mp3"),
      duration: numberFlag(values.duration, "duration", 30),
      sampleRate: numberFlag(values["sample-rate"], "sample-rate", 22050),
      seed: numberFlag(values.seed, "seed", 42),
      truePink: values["true-pink"],
    });
    console.log(`${paths.length} files written to ${values.out ?? PREVIEWS_DIR}`);
    return 0;
  },
});

if (import.meta.main) await runCommand(command);
