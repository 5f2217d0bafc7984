/**
 * The OpenL3 audio network as data (spec §3): the 16 layers that carry
 * weights, their shapes, and the embedding pool, for any frontend, either
 * embedding size, and (for tests) reduced channel widths built by the same
 * code path.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { FRONTENDS, INPUT_REPRS, type InputRepr } from "../frontend/spec.ts";

/** The two training sets of the published models. */
export const CONTENT_TYPES = ["music", "env"] as const;
/** One of {@linkcode CONTENT_TYPES}. */
export type ContentType = typeof CONTENT_TYPES[number];
/** The two embedding sizes. */
export const EMBEDDING_SIZES = [512, 6144] as const;
/** One of {@linkcode EMBEDDING_SIZES}. */
export type EmbeddingSize = typeof EMBEDDING_SIZES[number];

/** BatchNormalization epsilon of the Keras models. */
export const BN_EPSILON = 0.001;

/** Channel widths of the four conv blocks of the published networks. */
export const OPENL3_WIDTHS = [64, 128, 256, 512] as const;

/** A layer that carries weights, in Keras order. */
export type LayerSpec =
  | { kind: "bn"; channels: number }
  | { kind: "conv"; inChannels: number; outChannels: number };

/** Embedding max-pool size (rows, columns) per frontend and embedding size (spec §3 table). */
export const EMBEDDING_POOL: Record<InputRepr, Record<EmbeddingSize, [number, number]>> = {
  mel256: { 512: [32, 24], 6144: [8, 8] },
  mel128: { 512: [16, 24], 6144: [4, 8] },
  linear: { 512: [32, 24], 6144: [8, 8] },
};

/** A fully specified network. */
export interface Architecture {
  /** The frontend it takes. */
  repr: InputRepr;
  /** Its output length. */
  embeddingSize: EmbeddingSize;
  /** Input (bins, frames). */
  input: [number, number];
  /** Channels of the four conv blocks. */
  widths: readonly [number, number, number, number];
  /** The 16 weighted layers, in order. */
  layers: LayerSpec[];
  /** Embedding pool (rows, cols) = stride. */
  pool: [number, number];
  /** Spatial size after the three 2×2 pools. */
  finalMap: [number, number];
  /** Output length: widths[3] × pooled rows × pooled cols. */
  outputSize: number;
}

/**
 * The architecture for a frontend and embedding size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openl3Architecture, storedValueCount } from "./architecture.ts";
 * const a = openl3Architecture("mel256", 6144);
 * assert.ok(a.outputSize === 6144 && a.layers.length === 16);
 * assert.ok(storedValueCount(a) === 4689860);
 * ```
 */
export function openl3Architecture(
  repr: InputRepr,
  embeddingSize: EmbeddingSize = 512,
  widths: readonly [number, number, number, number] = OPENL3_WIDTHS,
): Architecture {
  if (!INPUT_REPRS.includes(repr)) {
    throw new ArgumentError(`input representation must be one of ${INPUT_REPRS.join(", ")}; got "${repr}"`);
  }
  if (!EMBEDDING_SIZES.includes(embeddingSize)) {
    throw new ArgumentError(`embedding size must be 512 or 6144, got ${embeddingSize}`);
  }
  const spec = FRONTENDS[repr];
  const layers: LayerSpec[] = [{ kind: "bn", channels: 1 }];
  let c = 1;
  widths.forEach((w, block) => {
    layers.push({ kind: "conv", inChannels: c, outChannels: w }, { kind: "bn", channels: w });
    layers.push({ kind: "conv", inChannels: w, outChannels: w });
    if (block < 3) layers.push({ kind: "bn", channels: w });
    c = w;
  });
  let [h, w] = [spec.bins, spec.frames];
  for (let i = 0; i < 3; i++) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
  const pool = EMBEDDING_POOL[repr][embeddingSize];
  const rows = Math.floor(h / pool[0]), cols = Math.floor(w / pool[1]);
  return {
    repr,
    embeddingSize,
    input: [spec.bins, spec.frames],
    widths,
    layers,
    pool,
    finalMap: [h, w],
    outputSize: widths[3] * rows * cols,
  };
}

/**
 * One step of the network, in order: the input's batch normalisation, a 3×3 'same' convolution (with the
 * batch normalisation and ReLU that follow it, except after the last one), a 2×2 max pool after each of the
 * first three blocks, and the embedding max pool. `layer` and `bn` index {@linkcode Architecture.layers}.
 */
export type NetworkStep =
  | { op: "bn"; layer: number }
  | {
    op: "conv";
    layer: number;
    bn: number | null;
    relu: boolean;
    inChannels: number;
    outChannels: number;
    /** The first convolution (it reads the normalised input). */
    first: boolean;
  }
  | { op: "pool"; size: [number, number]; embedding: boolean };

/**
 * The network's topology as one list of steps: what the ONNX export, the WGSL engine and the tests' naive
 * network all walk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkSteps, openl3Architecture } from "./architecture.ts";
 * const steps = networkSteps(openl3Architecture("mel256", 512));
 * assert.equal(steps.filter((s) => s.op === "conv").length, 8);
 * assert.deepEqual(steps.at(-1), { op: "pool", size: [32, 24], embedding: true });
 * ```
 */
export function networkSteps(arch: Architecture): NetworkStep[] {
  const steps: NetworkStep[] = [{ op: "bn", layer: 0 }];
  let li = 1;
  for (let block = 0; block < 4; block++) {
    for (let k = 0; k < 2; k++) {
      const spec = arch.layers[li];
      if (spec.kind !== "conv") throw new ArgumentError(`architecture out of order at layer ${li}`);
      const last = block === 3 && k === 1; // the embedding layer: no BN, no ReLU
      steps.push({
        op: "conv",
        layer: li,
        bn: last ? null : li + 1,
        relu: !last,
        inChannels: spec.inChannels,
        outChannels: spec.outChannels,
        first: block === 0 && k === 0,
      });
      li += last ? 1 : 2;
    }
    steps.push(
      block < 3 ? { op: "pool", size: [2, 2], embedding: false } : {
        op: "pool",
        size: arch.pool,
        embedding: true,
      },
    );
  }
  return steps;
}

/** Shapes of a layer's weights in Keras order (conv: kernel HWIO, bias; BN: gamma, beta, mean, variance). */
export function weightShapes(layer: LayerSpec): number[][] {
  return layer.kind === "conv"
    ? [[3, 3, layer.inChannels, layer.outChannels], [layer.outChannels]]
    : [[layer.channels], [layer.channels], [layer.channels], [layer.channels]];
}

/** Number of stored values (spec §3: 4 689 860 for the published networks). */
export function storedValueCount(arch: Architecture): number {
  let n = 0;
  for (const l of arch.layers) for (const s of weightShapes(l)) n += s.reduce((a, b) => a * b, 1);
  return n;
}
