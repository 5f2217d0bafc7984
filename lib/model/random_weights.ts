/**
 * Seeded random weights for the OpenL3 architecture — NOT a trained model.
 * They let tests, and anyone without network access, run the whole pipeline:
 * the numbers mean nothing musically.
 *
 * Conv kernels are He-initialised, biases small; BN statistics are near
 * identity, except the first BN, whose moving mean/variance fit dB patches in
 * [-80, 0] so activations stay O(1) as in the trained networks.
 *
 * @module
 */

import { type Architecture, openl3Architecture } from "./architecture.ts";
import { writeKerasWeights } from "./keras_weights.ts";
import type { InputRepr } from "../frontend/spec.ts";
import type { LayerWeights, OpenL3Weights } from "./onnx_graph.ts";
import { Rng } from "../util/rng.ts";

/**
 * Random weights for an architecture.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openl3Architecture } from "./architecture.ts";
 * import { randomWeights } from "./random_weights.ts";
 * const w = randomWeights(openl3Architecture("mel128", 512, [2, 2, 4, 4]), 1);
 * assert.ok(w.layers.length === 16);
 * ```
 */
export function randomWeights(arch: Architecture, seed: number): OpenL3Weights {
  const rng = new Rng(seed);
  const fill = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const layers: LayerWeights[] = arch.layers.map((spec, i) => {
    if (spec.kind === "conv") {
      const std = Math.sqrt(2 / (9 * spec.inChannels));
      return {
        kind: "conv",
        kernel: fill(9 * spec.inChannels * spec.outChannels, () => rng.normal(0, std)),
        bias: fill(spec.outChannels, () => rng.normal(0, 0.01)),
      };
    }
    const c = spec.channels;
    if (i === 0) {
      return {
        kind: "bn",
        gamma: fill(c, () => 1),
        beta: fill(c, () => 0),
        mean: fill(c, () => -40 + rng.normal(0, 2)),
        variance: fill(c, () => 400 * (0.8 + 0.4 * rng.uniform())),
      };
    }
    return {
      kind: "bn",
      gamma: fill(c, () => 0.8 + 0.4 * rng.uniform()),
      beta: fill(c, () => rng.normal(0, 0.1)),
      mean: fill(c, () => rng.normal(0, 0.1)),
      variance: fill(c, () => 0.5 + rng.uniform()),
    };
  });
  return { arch, layers };
}

/** Options of {@linkcode writeRandomWeights}. */
export interface RandomWeightsFileOptions {
  /** Output path; a name ending in `.gz` is gzipped. */
  out: string;
  /** Only recorded in the layer names' numbering; the shapes are the same for every frontend. */
  inputRepr?: InputRepr;
  /** Random seed (it also shifts the Keras layer numbering). */
  seed?: number;
  /** `weights` (save_weights) or `model` (full-model save). */
  layout?: "weights" | "model";
  /** Channel widths (tests use reduced ones); default the published 64/128/256/512. */
  widths?: [number, number, number, number];
}

/**
 * The sentence a test weights file carries: it names everything that decides its values (seed, input
 * representation, reduced widths) and its layout, so a file already there can be recognised and kept.
 */
export function untrainedNote(options: Omit<RandomWeightsFileOptions, "out">): string {
  const widths = options.widths ? `, widths ${options.widths.join("/")}` : "";
  return `seeded random weights (seed ${options.seed ?? 0}, ${options.inputRepr ?? "mel256"}${widths}, ` +
    `${options.layout ?? "weights"} layout) written by make-test-weights: NOT a trained model`;
}

/**
 * Write seeded random weights in the official Keras HDF5 layout (gzipped when
 * the path ends in `.gz`); returns the Keras layer names it holds.
 */
export async function writeRandomWeights(options: RandomWeightsFileOptions): Promise<string[]> {
  const seed = options.seed ?? 0;
  const arch = openl3Architecture(options.inputRepr ?? "mel256", 512, options.widths);
  const weights = randomWeights(arch, seed);
  // Keras numbers layers per session: vary the numbering by seed so names differ between files.
  const firstIndex = 1 + (seed % 40);
  const gz = options.out.endsWith(".gz");
  const h5 = gz ? `${options.out}.tmp-${crypto.randomUUID()}.h5` : options.out;
  const names = await writeKerasWeights(h5, weights, {
    layout: options.layout,
    firstIndex,
    untrained: untrainedNote(options),
  });
  if (gz) {
    const file = await Deno.open(h5);
    await file.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(
      (await Deno.open(options.out, { write: true, create: true, truncate: true })).writable,
    );
    await Deno.remove(h5);
  }
  return names;
}
