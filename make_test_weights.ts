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
import {
  type RandomWeightsFileOptions,
  untrainedNote,
  writeRandomWeights,
} from "./lib/model/random_weights.ts";
import { readKerasFile } from "./lib/model/keras_weights.ts";

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
    const options = {
      out: values.out,
      inputRepr: choiceFlag(values["input-repr"], "input-repr", INPUT_REPRS, "mel256"),
      seed: numberFlag(values.seed, "seed", 0),
      layout: choiceFlag(values.layout, "layout", ["weights", "model"] as const, "weights"),
    };
    // the same seeded weights already there are kept: HDF5 files carry write times, so a new file would
    // have another SHA-256, and a database made with the old one would not take the new one
    if (await sameTestWeights(options)) {
      console.log(`${values.out}: kept (the same seeded test weights are already there)`);
      return 0;
    }
    const names = await run(options);
    console.log(`${values.out}: random (untrained) OpenL3 weights, ${names.length} Keras layers`);
    return 0;
  },
});

/** True when `out` already holds the test weights these options would write. */
export async function sameTestWeights(options: RandomWeightsFileOptions): Promise<boolean> {
  try {
    const file = await readKerasFile(await Deno.readFile(options.out), options.out);
    // earlier versions named only the seed: the values depend on nothing else (every frontend's layers have
    // the same shapes), so such a file with this seed holds these very weights
    const legacy = `seeded random weights (seed ${
      options.seed ?? 0
    }) written by make-test-weights: NOT a trained model`;
    return file.untrained === untrainedNote(options) || (!options.widths && file.untrained === legacy);
  } catch {
    return false;
  }
}

if (import.meta.main) await runCommand(command);
