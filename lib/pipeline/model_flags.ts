/**
 * The command-line flags that choose the model and where it runs, one
 * definition for every command that embeds (`embed`, `simple-embed`,
 * `similar`, `parity`, `mel`): their parseArgs options, their help lines,
 * OpenL3's own flag names as aliases, and the mapping to
 * {@linkcode EmbedderOptions} (values are checked once, by
 * `resolveEmbedderOptions`).
 *
 * @module
 */

import { numberFlag } from "../util/cli.ts";
import { DEVICE_CHOICES } from "../gpu/device.ts";
import { INPUT_REPRS } from "../frontend/spec.ts";
import { CONTENT_TYPES } from "../model/architecture.ts";
import { BACKENDS } from "../model/inference.ts";
import { PRECISIONS } from "../model/int8_graph.ts";
import { DEFAULT_PATHS, EMBED_DEFAULTS } from "./defaults.ts";
import type { EmbedderOptions } from "./embed_options.ts";

/** parseArgs options of the model flags. */
export const MODEL_FLAGS = {
  weights: { type: "string" },
  "models-dir": { type: "string" },
  "input-repr": { type: "string", short: "i" },
  "content-type": { type: "string" },
  "embedding-size": { type: "string" },
  hop: { type: "string" },
  "no-center": { type: "boolean" },
  device: { type: "string" },
  backend: { type: "string" },
  precision: { type: "string" },
  "batch-size": { type: "string" },
  threads: { type: "string" },
} as const;

/** The flags that choose the variant only (for commands that take the rest from elsewhere). */
export const VARIANT_FLAGS = ["input-repr", "content-type", "embedding-size", "hop", "no-center"] as const;

/** OpenL3's own flag names (its `openl3` command line), accepted as aliases. */
export const OPENL3_ALIASES: Record<string, string> = {
  "audio-hop-size": "hop",
  "hop-size": "hop",
  "audio-embedding-size": "embedding-size",
  "no-audio-centering": "no-center",
  "no-centering": "no-center",
  "audio-batch-size": "batch-size",
};

const d = EMBED_DEFAULTS;

/** The help lines of the model flags. */
export const MODEL_FLAGS_HELP =
  `  --weights PATH        .h5, .h5.gz or .onnx (default: the official file in ${DEFAULT_PATHS.models}/, fetched if missing)
  --models-dir DIR      weights and converted models (default: ${DEFAULT_PATHS.models})
  -i, --input-repr R    ${INPUT_REPRS.join(" | ")} (default: ${d.inputRepr})
  --content-type C      ${CONTENT_TYPES.join(" | ")} (default: ${d.contentType})
  --embedding-size N    512 | 6144 (default: ${d.embeddingSize})
  --hop S               seconds between windows (default: ${d.hopSize})
  --no-center           do not centre the windows (OpenL3's center=False)
  --device D            spectrogram: ${DEVICE_CHOICES.join(" | ")} (default: ${d.device})
  --backend B           network: ${BACKENDS.join(" | ")} (default: ${d.backend})
  --precision P         network: ${
    PRECISIONS.join(" | ")
  } (default: ${d.precision}; int8: quantized, on the CPU,
                        faster, not fp32's numbers; a database keeps one)
  --batch-size N        windows per batch (default: ${d.gpuBatchSize} on WebGPU, ${d.cpuBatchSize} on CPU)
  --threads N           CPU threads of the native network backend (default: every core)
                        OpenL3's names work too: --audio-hop-size, --audio-embedding-size,
                        --no-audio-centering, --audio-batch-size`;

/** Parsed values of the model flags (as parseArgs returns them). */
export type ModelFlagValues = Partial<Record<keyof typeof MODEL_FLAGS, string | boolean>>;

/**
 * Turn parsed model flags into embedder options. Only the parsing of numbers
 * happens here; the values are checked by `resolveEmbedderOptions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelOptions } from "./model_flags.ts";
 * const o = modelOptions({ hop: "0.5", "no-center": true, "embedding-size": "6144" });
 * assert.deepEqual([o.hopSize, o.center, o.embeddingSize], [0.5, false, 6144]);
 * ```
 */
export function modelOptions(values: ModelFlagValues): EmbedderOptions {
  const str = (k: keyof typeof MODEL_FLAGS) => values[k] as string | undefined;
  return {
    weights: str("weights"),
    modelsDir: str("models-dir"),
    inputRepr: str("input-repr") as EmbedderOptions["inputRepr"],
    contentType: str("content-type") as EmbedderOptions["contentType"],
    embeddingSize: numberFlag(str("embedding-size"), "embedding-size") as EmbedderOptions["embeddingSize"],
    hopSize: numberFlag(str("hop"), "hop"),
    center: values["no-center"] ? false : undefined,
    device: str("device") as EmbedderOptions["device"],
    backend: str("backend") as EmbedderOptions["backend"],
    precision: str("precision") as EmbedderOptions["precision"],
    batchSize: numberFlag(str("batch-size"), "batch-size"),
    threads: numberFlag(str("threads"), "threads"),
  };
}
