/**
 * What a network session is, whichever backend runs it: the backends'
 * names, the session's interface and its options. `inference.ts` makes
 * sessions; the native thread (`native_thread.ts`) runs one elsewhere.
 *
 * @module
 */

import type { GpuContext } from "../gpu/device.ts";
import type { Precision } from "./precision.ts";

/** The concrete backends, in the order `auto` tries the GPU ones; each has its row in the backend table. */
export const BACKEND_NAMES = ["wgsl", "webgpu", "wasm", "native"] as const;
/** A concrete backend. */
export type Backend = typeof BACKEND_NAMES[number];
/** Every `--backend` choice: `auto`, or a concrete backend. */
export const BACKENDS = ["auto", ...BACKEND_NAMES] as const;
/** One of {@linkcode BACKENDS}. */
export type BackendChoice = typeof BACKENDS[number];

/** A loaded model on one backend. */
export interface EmbeddingSession {
  /** The backend that runs. */
  readonly backend: Backend;
  /** Where it runs, in one line (with the reason for a fallback, if any). */
  readonly description: string;
  /** Input (bins, frames). */
  readonly input: [number, number];
  /** Embedding length. */
  readonly outputSize: number;
  /** Embed `count` patches (N, 1, bins, frames) held on the CPU. */
  run(patches: Float32Array, count: number): Promise<Float32Array>;
  /** WebGPU only: embed `count` patches already in a GPU buffer of the session's device. */
  runGpuBuffer?(buffer: GPUBuffer, count: number): Promise<Float32Array>;
  /** WebGPU only: the most windows {@linkcode runGpuBuffer} takes at once. */
  readonly gpuCapacity?: number;
  /** Free the session. */
  release(): Promise<void>;
}

/** Options of {@linkcode createEmbeddingSession}. */
export interface SessionOptions {
  /** Which backend; default `auto`. */
  backend?: BackendChoice;
  /** Input (bins, frames) of the model. */
  input: [number, number];
  /** Embedding length of the model. */
  outputSize: number;
  /**
   * The GPU already found (the frontend's, shared), or null when there is
   * none; when left out, the session looks for one itself.
   */
  gpu?: GpuContext | null;
  /** CPU threads for the native backend; default: all cores. */
  threads?: number;
  /**
   * Windows per run the WGSL engine is built for (it takes more, in chunks).
   * @default {32}
   */
  maxBatch?: number;
  /**
   * The network's precision (what the model bytes are: the int8 network runs in chunks on the CPU backends).
   * @default {"fp32"}
   */
  precision?: Precision;
  /**
   * How a CPU session runs its batches (benchmarks compare settings).
   * @default {NATIVE_RUNS or WASM_RUNS of the precision}
   */
  runs?: CpuRuns;
  /** Skip the GPU-vs-CPU agreement check (tests of the check itself); default false. */
  skipGpuCheck?: boolean;
  /**
   * Run the native backend in a worker thread of its own: its `run` otherwise holds the calling thread for
   * the whole batch (what a server answering other requests cannot afford).
   * @default {false}
   */
  thread?: boolean;
}

/** How a CPU session runs its batches: windows per onnxruntime run, and whether its CPU arena is on. */
export interface CpuRuns {
  /** Windows per onnxruntime run (a larger batch is run that many at a time; the outputs are identical). */
  chunk: number;
  /** onnxruntime's CPU memory arena (native backend only): it keeps the peak of every activation shape. */
  arena: boolean;
}
