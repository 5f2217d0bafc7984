/**
 * The command-line flags that choose the model and where it runs, shared by
 * every script that embeds (`embed`, `parity`), parsed into
 * {@linkcode EmbedderOptions}.
 *
 * @module
 */

import { choiceFlag, numberFlag } from "../util/cli.ts";
import type { EmbedderOptions } from "./embedder.ts";
import { DEVICE_CHOICES } from "../gpu/device.ts";
import { BACKENDS } from "../model/inference.ts";
import { CONTENT_TYPES, type EmbeddingSize } from "../model/architecture.ts";
import { INPUT_REPRS } from "../frontend/spec.ts";

/** parseArgs options of the model flags. */
export const MODEL_FLAGS = {
  weights: { type: "string" },
  "models-dir": { type: "string" },
  "input-repr": { type: "string" },
  "content-type": { type: "string" },
  "embedding-size": { type: "string" },
  hop: { type: "string" },
  "no-center": { type: "boolean" },
  device: { type: "string" },
  backend: { type: "string" },
  "batch-size": { type: "string" },
} as const;

/** The help lines of the model flags. */
export const MODEL_FLAGS_HELP =
  `  --weights PATH        .h5, .h5.gz or .onnx (default: the official file in models/, fetched if missing)
  --models-dir DIR      weights and converted models (default: models)
  --input-repr R        ${INPUT_REPRS.join(" | ")} (default: mel256)
  --content-type C      ${CONTENT_TYPES.join(" | ")} (default: music)
  --embedding-size N    512 | 6144 (default: 512)
  --hop S               seconds between windows (default: 0.1)
  --no-center           OpenL3's center=False
  --device D            spectrogram: ${DEVICE_CHOICES.join(" | ")} (default: auto)
  --backend B           network: ${BACKENDS.join(" | ")} (default: auto)
  --batch-size N        windows per batch (default: 32 on WebGPU, 8 on CPU)`;

/** Parsed values of the model flags (as parseArgs returns them). */
export type ModelFlagValues = Partial<Record<keyof typeof MODEL_FLAGS, string | boolean>>;

/** Turn parsed model flags into embedder options, quoting any bad value. */
export function modelOptions(values: ModelFlagValues, modelsDir: string): EmbedderOptions {
  const str = (k: keyof typeof MODEL_FLAGS) => values[k] as string | undefined;
  return {
    weights: str("weights"),
    modelsDir: str("models-dir") ?? modelsDir,
    inputRepr: choiceFlag(str("input-repr"), "input-repr", INPUT_REPRS, "mel256"),
    contentType: choiceFlag(str("content-type"), "content-type", CONTENT_TYPES, "music"),
    embeddingSize: Number(
      choiceFlag(str("embedding-size"), "embedding-size", ["512", "6144"] as const, "512"),
    ) as EmbeddingSize,
    hopSize: numberFlag(str("hop"), "hop", 0.1),
    center: !values["no-center"],
    device: choiceFlag(str("device"), "device", DEVICE_CHOICES, "auto"),
    backend: choiceFlag(str("backend"), "backend", BACKENDS, "auto"),
    batchSize: str("batch-size") === undefined ? undefined : numberFlag(str("batch-size"), "batch-size", 8),
  };
}
