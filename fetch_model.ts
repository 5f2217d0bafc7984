/**
 * Downloads the official OpenL3 weights for a variant into `models/`,
 * verifying their git blob id before keeping a byte, then converts them to
 * ONNX (cached in `models/`).
 *
 *     deno task fetch-model [--input-repr R] [--content-type C] [--embedding-size N] [--models-dir DIR]
 *
 * @module
 */

import { MODELS_DIR } from "./files.ts";
import { choiceFlag, type Command, defineCommand, runCommand } from "./lib/util/cli.ts";
import { CONTENT_TYPES, type EmbeddingSize } from "./lib/model/architecture.ts";
import { loadModel } from "./lib/model/model_store.ts";
import { INPUT_REPRS } from "./lib/frontend/spec.ts";

const HELP = `Download (and check, and convert) the official OpenL3 audio weights.

Usage: deno task fetch-model [options]

  --input-repr R       ${INPUT_REPRS.join(" | ")} (default: mel256)
  --content-type C     ${CONTENT_TYPES.join(" | ")} (default: music)
  --embedding-size N   512 | 6144 (default: 512): which converted model to cache
  --models-dir DIR     where to store them (default: ${MODELS_DIR})
  -h, --help           this text`;

/** The `fetch-model` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "fetch-model",
  summary: "download, check and convert the official weights",
  help: HELP,
  options: {
    "input-repr": { type: "string" },
    "content-type": { type: "string" },
    "embedding-size": { type: "string" },
    "models-dir": { type: "string" },
  },
  body: async ({ values }) => {
    const size = choiceFlag(values["embedding-size"], "embedding-size", ["512", "6144"] as const, "512");
    const m = await loadModel({
      repr: choiceFlag(values["input-repr"], "input-repr", INPUT_REPRS, "mel256"),
      content: choiceFlag(values["content-type"], "content-type", CONTENT_TYPES, "music"),
      embeddingSize: Number(size) as EmbeddingSize,
      modelsDir: values["models-dir"] ?? MODELS_DIR,
    });
    console.log(`weights: ${m.source} (sha256 ${m.weightsHash.slice(0, 16)}…)`);
    console.log(`model:   ${m.cached ?? "(not cached)"}`);
    return 0;
  },
});

if (import.meta.main) await runCommand(command);
