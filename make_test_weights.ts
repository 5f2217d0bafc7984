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

import { choiceFlag, numberFlag, parseCli, runMain } from "./lib/cli.ts";
import { ArgumentError } from "./lib/errors.ts";
import { writeKerasWeights } from "./lib/keras_weights.ts";
import { openl3Architecture } from "./lib/openl3_arch.ts";
import { INPUT_REPRS, type InputRepr } from "./lib/spectrogram.ts";
import { randomWeights } from "./lib/test_weights.ts";

/** Options of {@linkcode run}. */
export interface MakeTestWeightsOptions {
  out: string;
  /** Only recorded in the layer names' numbering; the shapes are the same for every frontend. */
  inputRepr?: InputRepr;
  seed?: number;
  layout?: "weights" | "model";
  /** Channel widths (tests use reduced ones); default the published 64/128/256/512. */
  widths?: [number, number, number, number];
}

/** Write the file; returns the Keras layer names it holds. */
export async function run(options: MakeTestWeightsOptions): Promise<string[]> {
  const seed = options.seed ?? 0;
  const arch = openl3Architecture(options.inputRepr ?? "mel256", 512, options.widths);
  const weights = randomWeights(arch, seed);
  // Keras numbers layers per session: vary the numbering by seed so names differ between files.
  const firstIndex = 1 + (seed % 40);
  const gz = options.out.endsWith(".gz");
  const h5 = gz ? `${options.out}.tmp-${crypto.randomUUID()}.h5` : options.out;
  const names = await writeKerasWeights(h5, weights, { layout: options.layout, firstIndex });
  if (gz) {
    const file = await Deno.open(h5);
    await file.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(
      (await Deno.open(options.out, { write: true, create: true, truncate: true })).writable,
    );
    await Deno.remove(h5);
  }
  return names;
}

const HELP = `Write seeded random OpenL3 weights in the official Keras HDF5 layout (NOT a trained model).

Usage: deno task make-test-weights --out PATH [options]

  --out PATH            output file; a name ending in .gz is gzipped (required)
  --input-repr R        ${INPUT_REPRS.join(" | ")} (default: mel256; the shapes are the same for all)
  --seed N              random seed (default: 0); also changes the Keras layer numbering
  --layout L            weights (model.save_weights, default) | model (full-model save)
  -h, --help            this text`;

async function main(args: string[]): Promise<number> {
  const { values } = parseCli(args, {
    out: { type: "string" },
    "input-repr": { type: "string" },
    seed: { type: "string" },
    layout: { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.out) throw new ArgumentError("--out PATH is required");
  const names = await run({
    out: values.out,
    inputRepr: choiceFlag(values["input-repr"], "input-repr", INPUT_REPRS, "mel256"),
    seed: numberFlag(values.seed, "seed", 0),
    layout: choiceFlag(values.layout, "layout", ["weights", "model"] as const, "weights"),
  });
  console.log(`${values.out}: random (untrained) OpenL3 weights, ${names.length} Keras layers`);
  return 0;
}

if (import.meta.main) await runMain(main);
