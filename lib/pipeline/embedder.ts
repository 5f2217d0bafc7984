/**
 * The whole OpenL3 pipeline for one signal: 48 kHz source → framing in
 * batches → spectrogram frontend → network → embeddings with timestamps.
 * On WebGPU the patches go from the WGSL kernels to onnxruntime-web on the
 * same device without a round trip through the CPU.
 *
 * @module
 */

import { decodeAudioFile, toMono } from "../audio/decode.ts";
import { ArgumentError } from "../util/errors.ts";
import { frameBatches, planFrames, type SampleSource, sourceAt48k } from "../audio/frame.ts";
import { createFrontend, type Frontend } from "../frontend/frontend.ts";
import type { DeviceChoice } from "../gpu/device.ts";
import { type BackendChoice, createEmbeddingSession, type EmbeddingSession } from "../model/inference.ts";
import { type ContentType, type EmbeddingSize, openl3Architecture } from "../model/architecture.ts";
import { type LoadedModel, loadModel } from "../model/model_store.ts";
import type { InputRepr } from "../frontend/spec.ts";

/** Everything that decides the numbers (and where they are computed). */
export interface EmbedderOptions {
  inputRepr?: InputRepr;
  contentType?: ContentType;
  embeddingSize?: EmbeddingSize;
  /** `.h5`, `.h5.gz` or `.onnx`; default: the official weights in `modelsDir` (fetched if missing). */
  weights?: string;
  modelsDir?: string;
  /** Frontend device; default `auto`. */
  device?: DeviceChoice;
  /** Network backend; default `auto`. */
  backend?: BackendChoice;
  /**
   * Windows per batch; default 32 on WebGPU, 8 on the CPU backends (the same speed per window there,
   * and a quarter of the activation memory: ~0.8 GB transient for 32 mel256 windows).
   */
  batchSize?: number;
  /** Seconds between windows; default 0.1. */
  hopSize?: number;
  /** Centre windows; default true. */
  center?: boolean;
  /** Download missing official weights; default true. */
  download?: boolean;
  /** Report choices on stderr; default true. */
  verbose?: boolean;
}

/** A loaded pipeline; {@linkcode Embedder.close} frees it. */
export interface Embedder {
  readonly model: LoadedModel;
  readonly frontend: Frontend;
  readonly session: EmbeddingSession;
  readonly hopSize: number;
  readonly center: boolean;
  readonly batchSize: number;
  /** Embedding length. */
  readonly size: number;
  close(): Promise<void>;
}

/** Embeddings of one signal. */
export interface Embeddings {
  /** windows × size, row-major. */
  embedding: Float32Array;
  /** Seconds, one per window. */
  timestamps: Float64Array;
  windows: number;
  size: number;
  /** OpenL3's warnings (audio shorter than a window). */
  warnings: string[];
}

/**
 * Load weights, frontend and network.
 *
 * @example
 * ```ts ignore
 * import { createEmbedder, embedFile } from "./embedder.ts";
 * const e = await createEmbedder({ weights: "models/test.h5", backend: "native" });
 * const { embedding, timestamps } = await embedFile(e, "previews/bell_sound.mp3");
 * await e.close();
 * ```
 */
export async function createEmbedder(options: EmbedderOptions = {}): Promise<Embedder> {
  const repr = options.inputRepr ?? "mel256";
  const size = options.embeddingSize ?? 512;
  if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
    throw new ArgumentError(`--batch-size must be a positive integer, got ${options.batchSize}`);
  }
  const verbose = options.verbose ?? true;
  const model = await loadModel({
    repr,
    content: options.contentType ?? "music",
    embeddingSize: size,
    weights: options.weights,
    modelsDir: options.modelsDir,
    download: options.download,
    verbose,
  });
  const arch = openl3Architecture(repr, size);
  const frontend = await createFrontend({
    repr,
    device: options.device ?? "auto",
    batchSize: options.batchSize ?? 32,
  });
  let session: EmbeddingSession;
  try {
    session = await createEmbeddingSession(model.onnx, {
      backend: options.backend ?? "auto",
      input: arch.input,
      outputSize: size,
      gpu: frontend.gpu,
    });
  } catch (e) {
    frontend.destroy();
    throw e;
  }
  const batchSize = options.batchSize ?? (session.backend === "webgpu" ? 32 : 8);
  if (verbose) {
    console.error(`frontend: ${frontend.description}`);
    console.error(`network:  ${session.description}`);
  }
  return {
    model,
    frontend,
    session,
    hopSize: options.hopSize ?? 0.1,
    center: options.center ?? true,
    batchSize,
    size,
    async close() {
      await session.release();
      frontend.destroy();
    },
  };
}

/** One batch of results, for callers that pool or store as they go. */
export interface EmbeddingBatch {
  start: number;
  count: number;
  /** count × size; valid only during the callback. */
  embedding: Float32Array;
  timestamps: Float64Array;
}

/**
 * Embed a 48 kHz source batch by batch, calling `onBatch` for each; memory is
 * bounded by one batch whatever the length. Returns the number of windows.
 */
export async function embedSource(
  e: Embedder,
  source: SampleSource,
  onBatch: (b: EmbeddingBatch) => void | Promise<void>,
): Promise<number> {
  const frame = { hopSize: e.hopSize, center: e.center };
  let windows = 0;
  const direct = e.frontend.computeOnGpu && e.session.runGpuBuffer &&
    e.frontend.gpu?.device && (e.frontend.gpuCapacity ?? 0) >= e.batchSize;
  for (const batch of frameBatches(source, { ...frame, batchSize: e.batchSize })) {
    const embedding = direct
      ? await e.session.runGpuBuffer!(e.frontend.computeOnGpu!(batch.samples, batch.count), batch.count)
      : await e.session.run(await e.frontend.compute(batch.samples, batch.count), batch.count);
    await onBatch({ start: batch.start, count: batch.count, embedding, timestamps: batch.timestamps });
    windows += batch.count;
  }
  return windows;
}

/** Embed mono audio at any rate, keeping every window's embedding. */
export async function embedSignal(e: Embedder, mono: Float32Array, sampleRate: number): Promise<Embeddings> {
  const source = sourceAt48k(mono, sampleRate);
  const plan = planFrames(source.length, { hopSize: e.hopSize, center: e.center });
  const embedding = new Float32Array(plan.windows * e.size);
  const timestamps = new Float64Array(plan.windows);
  await embedSource(e, source, (b) => {
    embedding.set(b.embedding.subarray(0, b.count * e.size), b.start * e.size);
    timestamps.set(b.timestamps, b.start);
  });
  return { embedding, timestamps, windows: plan.windows, size: e.size, warnings: plan.warnings };
}

/** Decode, downmix and embed a file. */
export async function embedFile(e: Embedder, path: string): Promise<Embeddings> {
  const audio = await decodeAudioFile(path);
  const result = await embedSignal(e, toMono(audio.channels), audio.sampleRate);
  return { ...result, warnings: [...audio.warnings, ...result.warnings] };
}
