/**
 * Stage dump: runs the pipeline on one audio file up to a stage and writes
 * that stage's output as a float32 `.npy`, to compare with Python's figures.
 *
 *     deno task mel <audio> --stage resampled --out x.npy
 *
 * Stages: `resampled` (the 48 kHz mono signal OpenL3 frames).
 *
 * @module
 */

import { choiceFlag, parseCli, runMain } from "./lib/cli.ts";
import { decodeAudioFile, toMono } from "./lib/decode.ts";
import { ArgumentError } from "./lib/errors.ts";
import { sourceAt48k } from "./lib/frame.ts";
import { encodeNpy } from "./lib/npy.ts";

/** Pipeline stages the command can dump. */
export const STAGES = ["resampled"] as const;
/** One of {@linkcode STAGES}. */
export type Stage = typeof STAGES[number];

/** Options of {@linkcode run}. */
export interface MelOptions {
  /** Audio file to read. */
  audio: string;
  /** Where to write the `.npy`. */
  out: string;
  /** Stage to dump; default `resampled`. */
  stage?: Stage;
}

/** Result of {@linkcode run}. */
export interface MelResult {
  shape: number[];
  sampleRate: number;
}

/** Compute the stage and write it; returns the array's shape. */
export async function run(options: MelOptions): Promise<MelResult> {
  const audio = await decodeAudioFile(options.audio);
  for (const w of audio.warnings) console.error(`warning: ${options.audio}: ${w}`);
  const source = sourceAt48k(toMono(audio.channels), audio.sampleRate);
  const signal = new Float32Array(source.length);
  source.read(signal);
  const shape = [signal.length];
  await Deno.writeFile(options.out, encodeNpy(signal, shape));
  return { shape, sampleRate: 48000 };
}

const HELP = `Dump one stage of the OpenL3 pipeline for an audio file as a float32 .npy.

Usage: deno task mel <audio> --out FILE.npy [--stage resampled]

  --stage S     ${STAGES.join(" | ")} (default: resampled): the 48 kHz mono signal
  --out FILE    output .npy (required)
  -h, --help    this text`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCli(args, {
    stage: { type: "string" },
    out: { type: "string" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new ArgumentError(`expected one audio file, got ${positionals.length}`);
  }
  if (!values.out) throw new ArgumentError("--out FILE.npy is required");
  const stage = choiceFlag(values.stage, "stage", STAGES, "resampled");
  const r = await run({ audio: positionals[0], out: values.out, stage });
  console.log(`${values.out}: ${stage}, float32, shape (${r.shape.join(", ")})`);
  return 0;
}

if (import.meta.main) await runMain(main);
