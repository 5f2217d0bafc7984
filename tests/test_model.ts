/**
 * Seeded random (untrained) OpenL3 weights for tests and benchmarks, converted
 * once so that every run after finds the cached model.
 */
import { writeRandomWeights } from "../lib/model/random_weights.ts";
import { type LoadedModel, loadModel } from "../lib/model/model_store.ts";

/** The variant the test weights are converted as. */
const TEST_VARIANT = { repr: "mel256", content: "music", embeddingSize: 512 } as const;

/**
 * Write random weights in the official Keras layout to `weights` and convert them into `modelsDir` (mel256,
 * music, 512): later runs with the same paths load the cached model.
 */
export async function convertedTestWeights(
  weights: string,
  modelsDir: string,
  seed: number,
): Promise<LoadedModel> {
  await writeRandomWeights({ out: weights, seed });
  return await loadModel({ ...TEST_VARIANT, weights, modelsDir, verbose: false });
}

/**
 * The int8 network of weights written by {@linkcode convertedTestWeights} (quantized and calibrated once, then
 * cached beside the float32 model in `modelsDir`).
 */
export async function convertedTestInt8(weights: string, modelsDir: string): Promise<LoadedModel> {
  return await loadModel({ ...TEST_VARIANT, weights, modelsDir, precision: "int8", verbose: false });
}
