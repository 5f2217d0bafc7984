/**
 * The options that decide the numbers (and where they are computed), checked
 * once, where an embedder is made: every value is validated here, with the
 * flag and the bad value named, and every default comes from
 * {@linkcode EMBED_DEFAULTS}. Everything downstream takes the resolved,
 * typed values and checks nothing again.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { DEVICE_CHOICES, type DeviceChoice } from "../gpu/device.ts";
import { TARGET_SR } from "../audio/resample.ts";
import { INPUT_REPRS, type InputRepr } from "../frontend/spec.ts";
import {
  CONTENT_TYPES,
  type ContentType,
  EMBEDDING_SIZES,
  type EmbeddingSize,
} from "../model/architecture.ts";
import { type BackendChoice, BACKENDS, type CpuRuns } from "../model/inference.ts";
import { type Precision, precisionProblem, PRECISIONS } from "../model/precision.ts";
import { DEFAULT_PATHS, EMBED_DEFAULTS, OPTION_RANGES } from "./defaults.ts";

/** What decides the numbers, and where they are computed. Every field has a default. */
export interface EmbedderOptions {
  /**
   * Input representation.
   * @default {"mel256"}
   */
  inputRepr?: InputRepr;
  /**
   * The training set of the weights.
   * @default {"music"}
   */
  contentType?: ContentType;
  /**
   * Embedding length.
   * @default {512}
   */
  embeddingSize?: EmbeddingSize;
  /** `.h5`, `.h5.gz` or `.onnx`; default: the official weights in `modelsDir` (fetched if missing). */
  weights?: string;
  /**
   * Folder of weights and converted models.
   * @default {"models"}
   */
  modelsDir?: string;
  /**
   * Frontend device.
   * @default {"auto"}
   */
  device?: DeviceChoice;
  /**
   * Network backend.
   * @default {"auto"}
   */
  backend?: BackendChoice;
  /**
   * The network's precision: `int8` is the quantized network (opt-in; on the CPU backends, several times
   * faster where the CPU has int8 dot-product instructions; its numbers are not fp32's).
   * @default {"fp32"}
   */
  precision?: Precision;
  /** Windows per batch; default 32 on WebGPU, 8 on the CPU backends. */
  batchSize?: number;
  /** CPU threads of the native network backend; default: every core. */
  threads?: number;
  /**
   * How the CPU backends run a batch (windows per onnxruntime run, arena): for benchmarks that compare
   * settings. Default: `NATIVE_RUNS` / `WASM_RUNS` of the precision (chosen by measurement).
   */
  cpuRuns?: CpuRuns;
  /**
   * Run the native network in a worker thread of its own (a server that keeps answering while it embeds).
   * @default {false}
   */
  networkThread?: boolean;
  /**
   * Seconds between windows.
   * @default {0.1}
   */
  hopSize?: number;
  /**
   * Centre windows (OpenL3's `center`).
   * @default {true}
   */
  center?: boolean;
  /**
   * Download missing official weights.
   * @default {true}
   */
  download?: boolean;
  /**
   * Report choices on stderr.
   * @default {true}
   */
  verbose?: boolean;
}

/**
 * Where the network runs and with which weights: what a command that embeds new files the way a database's
 * songs were lets people choose (the variant, framing and pooling are the database's). The command-line
 * flags of these are `RUNTIME_FLAGS` (`model_flags.ts`).
 */
export type RuntimeOptions = Pick<
  EmbedderOptions,
  "weights" | "modelsDir" | "backend" | "device" | "precision"
>;

/** The fields of {@linkcode RuntimeOptions}. */
export const RUNTIME_FIELDS = ["weights", "modelsDir", "backend", "device", "precision"] as const;

/**
 * The runtime options among some options (the rest left behind).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runtimeOf } from "./embed_options.ts";
 * assert.deepEqual(runtimeOf({ backend: "native", hopSize: 0.5 } as never), { backend: "native" });
 * ```
 */
export function runtimeOf(o: RuntimeOptions): RuntimeOptions {
  const out: RuntimeOptions = {};
  for (const k of RUNTIME_FIELDS) if (o[k] !== undefined) Object.assign(out, { [k]: o[k] });
  return out;
}

/** {@linkcode EmbedderOptions} with every default applied and every value checked. */
export interface ResolvedEmbedderOptions {
  /** Input representation. */
  inputRepr: InputRepr;
  /** Training set of the weights. */
  contentType: ContentType;
  /** Embedding length. */
  embeddingSize: EmbeddingSize;
  /** Weights file, when not the official one. */
  weights?: string;
  /** Folder of weights and converted models. */
  modelsDir: string;
  /** Frontend device. */
  device: DeviceChoice;
  /** Network backend. */
  backend: BackendChoice;
  /** The network's precision. */
  precision: Precision;
  /** undefined: chosen from the backend ({@linkcode EMBED_DEFAULTS}). */
  batchSize?: number;
  /** CPU threads of the native backend; undefined: every core. */
  threads?: number;
  /** How the CPU backends run a batch; undefined: by precision. */
  cpuRuns?: CpuRuns;
  /** The native network in a worker thread of its own. */
  networkThread: boolean;
  /** Seconds between windows. */
  hopSize: number;
  /** Centre the windows. */
  center: boolean;
  /** Download missing official weights. */
  download: boolean;
  /** Report choices on stderr. */
  verbose: boolean;
}

/**
 * Refuse a value outside its option's range ({@linkcode OPTION_RANGES}), naming the flag, the value and
 * the range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRange } from "./embed_options.ts";
 * checkRange("threads", 1);
 * assert.throws(() => checkRange("batch-size", 1e9), /--batch-size must be from 1 to 1024, got 1000000000/);
 * ```
 */
export function checkRange(flag: keyof typeof OPTION_RANGES, value: number | undefined): void {
  if (value === undefined) return;
  const { min } = OPTION_RANGES[flag];
  const max = flag === "threads" ? Math.min(OPTION_RANGES.threads.max, cores()) : OPTION_RANGES[flag].max;
  if (!(value >= min && value <= max)) {
    const lo = flag === "hop" ? "one sample" : String(min);
    throw new ArgumentError(
      `${flag.length === 1 ? "-" : "--"}${flag} must be from ${lo} to ${max}, got ${value}`,
    );
  }
}

/** This machine's cores. */
function cores(): number {
  return Math.max(1, navigator.hardwareConcurrency ?? 1);
}

function oneOf<T extends string | number>(value: unknown, flag: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) {
    throw new ArgumentError(`--${flag} must be one of ${choices.join(", ")}; got "${value}"`);
  }
  return value as T;
}

/**
 * Apply the defaults and check every value, quoting the flag and the bad value.
 *
 * @throws {ArgumentError} on any value outside what the option takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveEmbedderOptions } from "./embed_options.ts";
 * assert.equal(resolveEmbedderOptions({}).hopSize, 0.1);
 * assert.throws(() => resolveEmbedderOptions({ hopSize: 0 }), /--hop must be a positive number of seconds/);
 * assert.throws(() => resolveEmbedderOptions({ backend: "tpu" as "auto" }), /--backend must be one of/);
 * assert.equal(resolveEmbedderOptions({}).precision, "fp32");
 * assert.throws(() => resolveEmbedderOptions({ precision: "int8", backend: "wgsl" }), /int8 runs on the CPU/);
 * ```
 */
export function resolveEmbedderOptions(o: EmbedderOptions): ResolvedEmbedderOptions {
  const d = EMBED_DEFAULTS;
  const hopSize = o.hopSize ?? d.hopSize;
  if (typeof hopSize !== "number" || !Number.isFinite(hopSize) || hopSize <= 0) {
    throw new ArgumentError(`--hop must be a positive number of seconds, got ${hopSize}`);
  }
  if (Math.trunc(hopSize * TARGET_SR) < 1) {
    throw new ArgumentError(`--hop ${hopSize} s is shorter than one sample at 48 kHz`);
  }
  if (hopSize > OPTION_RANGES.hop.max) {
    throw new ArgumentError(`--hop must be at most ${OPTION_RANGES.hop.max} seconds, got ${hopSize}`);
  }
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1)) {
    throw new ArgumentError(`--batch-size must be a positive whole number, got ${o.batchSize}`);
  }
  checkRange("batch-size", o.batchSize);
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) {
    throw new ArgumentError(`--threads must be a positive whole number, got ${o.threads}`);
  }
  checkRange("threads", o.threads);
  const backend = oneOf(o.backend ?? d.backend, "backend", BACKENDS);
  const precision = oneOf(o.precision ?? d.precision, "precision", PRECISIONS);
  const problem = precisionProblem(precision, backend);
  if (problem) throw new ArgumentError(problem);
  return {
    inputRepr: oneOf(o.inputRepr ?? d.inputRepr, "input-repr", INPUT_REPRS),
    contentType: oneOf(o.contentType ?? d.contentType, "content-type", CONTENT_TYPES),
    embeddingSize: oneOf(o.embeddingSize ?? d.embeddingSize, "embedding-size", EMBEDDING_SIZES),
    weights: o.weights,
    modelsDir: o.modelsDir ?? DEFAULT_PATHS.models,
    device: oneOf(o.device ?? d.device, "device", DEVICE_CHOICES),
    backend,
    precision,
    batchSize: o.batchSize,
    threads: o.threads,
    cpuRuns: o.cpuRuns,
    networkThread: o.networkThread ?? false,
    hopSize,
    center: o.center ?? d.center,
    download: o.download ?? true,
    verbose: o.verbose ?? true,
  };
}
