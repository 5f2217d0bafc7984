/**
 * The whole OpenL3 pipeline for one signal: 48 kHz source → framing in
 * batches → spectrogram frontend → network → embeddings with timestamps.
 * On WebGPU the patches go from the WGSL kernels to the network on the same
 * device without a round trip through the CPU.
 *
 * @module
 */

import { sourceAt48k } from "../audio/frame.ts";
import { createFrontend, type Frontend } from "../frontend/frontend.ts";
import { type GpuContext, openGpu } from "../gpu/device.ts";
import { openl3Architecture } from "../model/architecture.ts";
import { createEmbeddingSession, type EmbeddingSession, isGpuBackend } from "../model/inference.ts";
import { type LoadedModel, loadModel } from "../model/model_store.ts";
import type { Pooling } from "../model/pooling.ts";
import type { NumbersConfig } from "../store/model_config.ts";
import { EMBED_DEFAULTS } from "./defaults.ts";
import type { FeedBatch } from "./file_feed.ts";
import { embedSource } from "./embed_source.ts";
import {
  type EmbedderOptions,
  type ResolvedEmbedderOptions,
  resolveEmbedderOptions,
} from "./embed_options.ts";

export type { EmbedderOptions } from "./embed_options.ts";
export { type EmbeddingBatch, embedSource } from "./embed_source.ts";

/** A loaded pipeline; {@linkcode Embedder.close} frees it. */
export interface Embedder {
  /** The options it was made with, every default applied. */
  readonly options: ResolvedEmbedderOptions;
  /** The network and where its weights came from. */
  readonly model: LoadedModel;
  /** The spectrogram frontend. */
  readonly frontend: Frontend;
  /** The network's session on its backend. */
  readonly session: EmbeddingSession;
  /** Windows per batch. */
  readonly batchSize: number;
  /** Embedding length. */
  readonly size: number;
  /** Release the session, the frontend and the device. */
  close(): Promise<void>;
}

/** Embeddings of one signal. */
export interface Embeddings {
  /** windows × size, row-major. */
  embedding: Float32Array;
  /** Seconds, one per window. */
  timestamps: Float64Array;
  /** Number of windows. */
  windows: number;
  /** Embedding length. */
  size: number;
  /** OpenL3's warnings (audio shorter than a window). */
  warnings: string[];
}

/**
 * Load weights, frontend and network. Every option is checked first, before
 * anything is loaded.
 *
 * @throws {ArgumentError} for a bad option (naming the flag and the value).
 *
 * @example
 * ```ts ignore
 * import { createEmbedder } from "./embedder.ts";
 * import { embedFile } from "./embed_song.ts";
 * const e = await createEmbedder({ weights: "models/test.h5", backend: "native" });
 * const { embedding, timestamps } = await embedFile(e, "previews/bell_sound.mp3");
 * await e.close();
 * ```
 */
export async function createEmbedder(
  options: EmbedderOptions = {},
  preloaded?: PreparedModel,
): Promise<Embedder> {
  const { options: o, model } = preloaded ?? await prepareModel(options);
  const arch = openl3Architecture(o.inputRepr, o.embeddingSize);
  const wantsGpu = o.device !== "cpu" || o.backend === "auto" || isGpuBackend(o.backend);
  const gpu: GpuContext | null = preloaded?.gpu !== undefined
    ? preloaded.gpu
    : wantsGpu
    ? await openGpu()
    : null;
  let session: EmbeddingSession | undefined;
  let frontend: Frontend | undefined;
  try {
    session = await createEmbeddingSession(model.onnx, {
      backend: o.backend,
      input: arch.input,
      outputSize: o.embeddingSize,
      gpu,
      threads: o.threads,
      thread: o.networkThread,
      precision: model.precision,
      runs: o.cpuRuns,
      maxBatch: o.batchSize ?? EMBED_DEFAULTS.gpuBatchSize,
    });
    const batchSize = o.batchSize ??
      (isGpuBackend(session.backend) ? EMBED_DEFAULTS.gpuBatchSize : EMBED_DEFAULTS.cpuBatchSize);
    frontend = await createFrontend({ repr: o.inputRepr, device: o.device, gpu, batchSize });
    if (o.verbose) {
      console.error(`frontend: ${frontend.description}`);
      console.error(`network:  ${session.description}`);
      if (model.provenance === "untrained") {
        console.error("weights:  UNTRAINED test weights (seeded random): the embeddings mean nothing");
      }
    }
    const s = session, f = frontend;
    return {
      options: o,
      model,
      frontend: f,
      session: s,
      batchSize,
      size: o.embeddingSize,
      async close() {
        await s.release();
        f.destroy();
        gpu?.device.destroy();
      },
    };
  } catch (e) {
    await session?.release();
    frontend?.destroy();
    gpu?.device.destroy();
    throw e;
  }
}

/** Checked options and the loaded network, before any device is opened. */
export interface PreparedModel {
  /** The options, checked, every default applied. */
  options: ResolvedEmbedderOptions;
  /** The network. */
  model: LoadedModel;
  /** A GPU already opened (or null: looked for, none), to be used and closed by the embedder. */
  gpu?: GpuContext | null;
}

/** The settings that decide a prepared model's numbers, with the pooling the song vectors get. */
export function numbersOf(prepared: PreparedModel, pooling: Pooling): NumbersConfig {
  return {
    inputRepr: prepared.options.inputRepr,
    contentType: prepared.options.contentType,
    embeddingSize: prepared.options.embeddingSize,
    weightsHash: prepared.model.weightsHash,
    hopSize: prepared.options.hopSize,
    center: prepared.options.center,
    pooling,
    precision: prepared.model.precision,
  };
}

/**
 * Check the options and load the network (fetching and converting the
 * weights as needed), without opening a device: enough to know the weights'
 * hash, so a run can tell which files are already stored before it builds
 * the rest of the pipeline.
 */
export async function prepareModel(options: EmbedderOptions): Promise<PreparedModel> {
  const o = resolveEmbedderOptions(options);
  const model = await loadModel({
    repr: o.inputRepr,
    content: o.contentType,
    embeddingSize: o.embeddingSize,
    weights: o.weights,
    modelsDir: o.modelsDir,
    download: o.download,
    verbose: o.verbose,
    precision: o.precision,
  });
  return { options: o, model };
}

/**
 * Embed one batch from the feed: its patches straight into the network, or its window samples through
 * the frontend first (handed over on the GPU when both run there).
 */
export async function embedBatch(e: Embedder, b: FeedBatch): Promise<Float32Array> {
  if (b.patches) return await e.session.run(b.patches, b.count);
  const samples = b.samples!;
  const direct = e.frontend.computeOnGpu && e.session.runGpuBuffer &&
    (e.frontend.gpuCapacity ?? 0) >= b.count;
  return direct
    ? await e.session.runGpuBuffer!(e.frontend.computeOnGpu!(samples, b.count), b.count)
    : await e.session.run(await e.frontend.compute(samples, b.count), b.count);
}

/** Embed mono audio at any rate, keeping every window's embedding. */
export async function embedSignal(
  e: Embedder,
  mono: Float32Array | Float64Array,
  sampleRate: number,
): Promise<Embeddings> {
  let embedding = new Float32Array(0), timestamps = new Float64Array(0);
  const plan = await embedSource(e, sourceAt48k(mono, sampleRate), (b) => {
    if (b.start === 0) {
      embedding = new Float32Array(b.windows * e.size);
      timestamps = new Float64Array(b.windows);
    }
    embedding.set(b.embedding.subarray(0, b.count * e.size), b.start * e.size);
    timestamps.set(b.timestamps, b.start);
  });
  return { embedding, timestamps, windows: plan.windows, size: e.size, warnings: plan.warnings };
}
