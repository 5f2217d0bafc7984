/**
 * Writes seeded random weights for the OpenL3 audio network in the official
 * Keras HDF5 layout. NOT a trained model: the embeddings they give are
 * meaningless; they exist so the pipeline runs (and is tested) anywhere.
 *
 *     deno task make-test-weights --out PATH [--input-repr R] [--seed N] [--layout weights|model]
 *
 * A PATH ending in `.gz` is gzipped, like the published `.h5.gz` files.
 *
 * @module
 */

import { choiceFlag, type Command, defineCommand, numberFlag, runCommand } from "./lib/util/cli.ts";
import { ArgumentError } from "./lib/util/errors.ts";
import { INPUT_REPRS } from "./lib/frontend/spec.ts";
import { type RandomWeightsFileOptions, writeRandomWeights } from "./lib/model/random_weights.ts";

/** Write the file; returns the Keras layer names it holds. */
export async function run(options: RandomWeightsFileOptions): Promise<string[]> {
  return await writeRandomWeights(options);
}

const HELP = `Write seeded random OpenL3 weights in the official Keras HDF5 layout (NOT a trained model).

Usage: deno task make-test-weights --out PATH [options]

  --out PATH            output file; a name ending in .gz is gzipped (required)
  --input-repr R        ${INPUT_REPRS.join(" | ")} (default: mel256; the shapes are the same for all)
  --seed N              random seed (default: 0); also changes the Keras layer numbering
  --layout L            weights (model.save_weights, default) | model (full-model save)
  -h, --help            this text`;

/** The `make-test-weights` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "make-test-weights",
  summary: "write seeded random (untrained) weights in the official layout",
  help: HELP,
  options: {
    out: { type: "string" },
    "input-repr": { type: "string" },
    seed: { type: "string" },
    layout: { type: "string" },
  },
  body: async ({ values }) => {
    if (!values.out) throw new ArgumentError("--out PATH is required");
    const names = await run({
      out: values.out,
      inputRepr: choiceFlag(values["input-repr"], "input-repr", INPUT_REPRS, "mel256"),
      seed: numberFlag(values.seed, "seed", 0),
      layout: choiceFlag(values.layout, "layout", ["weights", "model"] as const, "weights"),
    });
    console.log(`${values.out}: random (untrained) OpenL3 weights, ${names.length} Keras layers`);
    return 0;
  },
});

if (import.meta.main) await runCommand(command);
