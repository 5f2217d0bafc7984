/**
 * Stage dump: runs the pipeline on one audio file up to a stage and writes
 * that stage's output as a `.npy` (the 48 kHz signal in float64, the patches in
 * float32, as the network takes them), to compare with Python's figures.
 *
 *     deno task mel <audio> --out x.npy [--stage spectrogram|resampled]
 *                   [--input-repr mel256|mel128|linear] [--hop S] [--no-center]
 *                   [--device auto|webgpu|cpu]
 *
 * @module
 */

import { choiceFlag, type Command, defineCommand, runCommand } from "./lib/util/cli.ts";
import { decodeAudioFile, toMono } from "./lib/audio/decode.ts";
import { ArgumentError } from "./lib/util/errors.ts";
import { frameBatches, planFrames, sourceAt48k } from "./lib/audio/frame.ts";
import { createFrontend } from "./lib/frontend/frontend.ts";
import { npyHeader } from "./lib/util/npy.ts";
import { EMBED_DEFAULTS } from "./lib/pipeline/defaults.ts";
import { type EmbedderOptions, resolveEmbedderOptions } from "./lib/pipeline/embed_options.ts";
import { MODEL_FLAGS, modelOptions, OPENL3_ALIASES } from "./lib/pipeline/model_flags.ts";
import { DEVICE_CHOICES } from "./lib/gpu/device.ts";
import { INPUT_REPRS } from "./lib/frontend/spec.ts";

/** Pipeline stages the command can dump. */
export const STAGES = ["spectrogram", "resampled"] as const;
/** One of {@linkcode STAGES}. */
export type Stage = typeof STAGES[number];

/** Options of {@linkcode run}: the frontend's part of the embedder options, plus the files. */
export interface MelOptions
  extends Pick<EmbedderOptions, "inputRepr" | "hopSize" | "center" | "device" | "batchSize" | "verbose"> {
  /** Audio file to read. */
  audio: string;
  /** Where to write the `.npy`. */
  out: string;
  /**
   * Stage to dump.
   * @default {"spectrogram"}
   */
  stage?: Stage;
}

/** Result of {@linkcode run}. */
export interface MelResult {
  /** Shape of the array written. */
  shape: number[];
  /** Where the frontend ran (spectrogram stage). */
  device?: string;
}

/**
 * Compute the stage and stream it to the `.npy` file (memory stays bounded by
 * one batch of windows, whatever the length of the file).
 */
export async function run(options: MelOptions): Promise<MelResult> {
  const stage = options.stage ?? "spectrogram";
  const verbose = options.verbose ?? true;
  const o = resolveEmbedderOptions(options); // every option checked before any work
  const audio = await decodeAudioFile(options.audio);
  for (const w of audio.warnings) if (verbose) console.error(`warning: ${options.audio}: ${w}`);
  const source = sourceAt48k(toMono(audio.channels), audio.sampleRate);
  const file = await Deno.open(options.out, { write: true, create: true, truncate: true });
  try {
    if (stage === "resampled") {
      const shape = [source.length];
      await file.write(npyHeader("<f8", shape));
      const chunk = new Float64Array(1 << 16);
      let n: number;
      while ((n = source.read(chunk)) > 0) await writeAll(file, new Uint8Array(chunk.buffer, 0, n * 8));
      return { shape };
    }
    const plan = planFrames(source.length, o);
    if (verbose) { for (const w of plan.warnings) console.error(`warning: ${options.audio}: ${w}`); }
    const batchSize = o.batchSize ?? EMBED_DEFAULTS.gpuBatchSize;
    const frontend = await createFrontend({ repr: o.inputRepr, device: o.device, batchSize });
    try {
      if (verbose) console.error(`frontend: ${frontend.description}`);
      const shape = [plan.windows, frontend.spec.bins, frontend.spec.frames];
      await file.write(npyHeader("<f4", shape));
      for (const batch of frameBatches(source, plan, batchSize)) {
        const patches = await frontend.compute(batch.samples, batch.count);
        await writeAll(file, new Uint8Array(patches.buffer, patches.byteOffset, patches.byteLength));
      }
      return { shape, device: frontend.description };
    } finally {
      frontend.destroy();
    }
  } finally {
    file.close();
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
}

const HELP = `Dump one stage of the OpenL3 pipeline for an audio file as a .npy.

Usage: deno task mel <audio> --out FILE.npy [options]

  --stage S           spectrogram (default): dB patches of every window, float32 (windows, bins, frames)
                      resampled: the 48 kHz mono signal, float64 (samples,)
  -i, --input-repr R  ${INPUT_REPRS.join(" | ")} (default: ${EMBED_DEFAULTS.inputRepr})
  --hop S             seconds between windows (default: ${EMBED_DEFAULTS.hopSize}; also --audio-hop-size)
  --no-center         do not centre the windows (OpenL3's center=False)
  --device D          ${DEVICE_CHOICES.join(" | ")} (default: auto: WebGPU on a hardware adapter, else CPU)
  --batch-size N      windows per batch (default: ${EMBED_DEFAULTS.gpuBatchSize})
  --out FILE          output .npy (required)
  --version           the tool's and the runtime's versions
  -h, --help          this text`;

/** The `mel` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "mel",
  summary: "dump a pipeline stage (48 kHz signal, spectrogram patches) as .npy",
  help: HELP,
  options: {
    stage: { type: "string" },
    out: { type: "string" },
    "input-repr": MODEL_FLAGS["input-repr"],
    hop: MODEL_FLAGS.hop,
    "no-center": MODEL_FLAGS["no-center"],
    device: MODEL_FLAGS.device,
    "batch-size": MODEL_FLAGS["batch-size"],
  },
  positionals: true,
  aliases: OPENL3_ALIASES,
  body: async ({ values, positionals }) => {
    if (positionals.length !== 1) {
      throw new ArgumentError(`expected one audio file, got ${positionals.length}`);
    }
    if (!values.out) throw new ArgumentError("--out FILE.npy is required");
    const stage = choiceFlag(values.stage, "stage", STAGES, "spectrogram");
    const r = await run({
      audio: positionals[0],
      out: values.out,
      stage,
      ...modelOptions(values),
    });
    console.log(
      `${values.out}: ${stage}, ${stage === "resampled" ? "float64" : "float32"}, shape (${
        r.shape.join(", ")
      })`,
    );
    return 0;
  },
});

if (import.meta.main) await runCommand(command);
