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

import type { Architecture } from "./openl3_arch.ts";
import type { LayerWeights, OpenL3Weights } from "./openl3_onnx.ts";
import { Rng } from "./rng.ts";

/**
 * Random weights for an architecture.
 *
 * @example
 * ```ts
 * import { openl3Architecture } from "./openl3_arch.ts";
 * import { randomWeights } from "./test_weights.ts";
 * const w = randomWeights(openl3Architecture("mel128", 512, [2, 2, 4, 4]), 1);
 * console.assert(w.layers.length === 16);
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
