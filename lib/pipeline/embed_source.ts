/**
 * The heart of every embedding: a 48 kHz source cut into windows, batch by
 * batch through the frontend and the network. Shared by the command line,
 * the library (`mod.ts`) and the browser build (`browser.ts`), so it imports
 * nothing that a web page cannot load.
 *
 * @module
 */

import {
  frameBatches,
  type FrameOptions,
  type FramePlan,
  planFrames,
  type SampleSource,
} from "../audio/frame.ts";
import type { Frontend } from "../frontend/frontend.ts";
import type { EmbeddingSession } from "../model/inference.ts";

/** What {@linkcode embedSource} needs of a pipeline: a frontend, a network, a framing and a batch size. */
export interface WindowPipeline {
  /** Hop and centring. */
  readonly options: FrameOptions;
  /** The spectrogram frontend. */
  readonly frontend: Pick<Frontend, "compute" | "computeOnGpu" | "gpuCapacity">;
  /** The network. */
  readonly session: Pick<EmbeddingSession, "run" | "runGpuBuffer" | "gpuCapacity">;
  /** Windows per batch. */
  readonly batchSize: number;
}

/** One batch of results, for callers that pool or store as they go. */
export interface EmbeddingBatch {
  /** Index of the first window of the batch. */
  start: number;
  /** Windows in the batch. */
  count: number;
  /** Windows of the whole signal. */
  windows: number;
  /** count × size; valid only during the callback. */
  embedding: Float32Array;
  /** Seconds, one per window of the batch. */
  timestamps: Float64Array;
}

/**
 * Embed a 48 kHz source batch by batch, calling `onBatch` for each; memory is
 * bounded by one batch whatever the length. Returns the framing (windows,
 * warnings), computed once here.
 */
export async function embedSource(
  e: WindowPipeline,
  source: SampleSource,
  onBatch: (b: EmbeddingBatch) => void | Promise<void>,
): Promise<FramePlan> {
  const plan = planFrames(source.length, e.options);
  // the frontend and the network share one device: hand the patches over on the GPU
  const direct = e.frontend.computeOnGpu && e.session.runGpuBuffer &&
    (e.frontend.gpuCapacity ?? 0) >= e.batchSize && (e.session.gpuCapacity ?? Infinity) >= e.batchSize;
  for (const batch of frameBatches(source, plan, e.batchSize)) {
    const embedding = direct
      ? await e.session.runGpuBuffer!(e.frontend.computeOnGpu!(batch.samples, batch.count), batch.count)
      : await e.session.run(await e.frontend.compute(batch.samples, batch.count), batch.count);
    await onBatch({
      start: batch.start,
      count: batch.count,
      windows: plan.windows,
      embedding,
      timestamps: batch.timestamps,
    });
  }
  return plan;
}
