/**
 * OpenL3's API in TypeScript: what people who call OpenL3 from their own
 * code expect (`openl3.get_audio_embedding`, `load_audio_embedding_model`,
 * `process_audio_file`), with its semantics and defaults — 6144-d
 * `mel256`/`music`, centred windows every 0.1 s, openl3's frame counts and
 * timestamps, its errors and warnings — computed by this project's
 * pipeline (resampy `kaiser_best` to 48 kHz, float64 spectrograms, the
 * converted network), so the numbers are the ones the command line stores.
 *
 * @example
 * ```ts ignore
 * import { getAudioEmbedding, loadAudioEmbeddingModel } from "./mod.ts";
 * const model = await loadAudioEmbeddingModel({ inputRepr: "mel256", contentType: "music", embeddingSize: 512 });
 * const audio = new Float32Array(44100 * 3); // 3 s of mono audio at 44.1 kHz
 * const { embeddings, timestamps, frames, size } = await getAudioEmbedding(audio, 44100, { model });
 * await model.close();
 * ```
 *
 * @module
 */

import { basename, dirname, extname, join } from "node:path";
import {
  CONTENT_TYPES,
  type ContentType,
  EMBEDDING_SIZES,
  type EmbeddingSize,
} from "./lib/model/architecture.ts";
import { INPUT_REPRS, type InputRepr } from "./lib/frontend/spec.ts";
import { planFrames, sourceAt48k } from "./lib/audio/frame.ts";
import { TARGET_SR } from "./lib/audio/resample.ts";
import { createEmbedder, type Embedder, embedSource } from "./lib/pipeline/embedder.ts";
import { embedFile } from "./lib/pipeline/embed_song.ts";
import { writeEmbeddingNpz } from "./lib/pipeline/npz_export.ts";
import { OpenL3Error } from "./lib/util/errors.ts";
import type { BackendChoice } from "./lib/model/inference.ts";

export { OpenL3Error } from "./lib/util/errors.ts";
export {
  CONTENT_TYPES,
  type ContentType,
  EMBEDDING_SIZES,
  type EmbeddingSize,
} from "./lib/model/architecture.ts";
export { INPUT_REPRS, type InputRepr } from "./lib/frontend/spec.ts";
export { type BackendChoice, BACKENDS } from "./lib/model/inference.ts";
export { TOOL_VERSION as VERSION } from "./lib/util/version.ts";

/** A warning where openl3 warns (`OpenL3Warning`): audio shorter than a window, audio that is all zeros. */
export class OpenL3Warning {
  /** What it says. */
  readonly message: string;
  /**
   * The warning.
   * @param message What it says.
   */
  constructor(message: string) {
    this.message = message;
  }
}

/** Where the spectrograms are computed: the GPU when there is a hardware one, or the CPU (float64). */
export type Frontend = "auto" | "cpu" | "webgpu";
const FRONTENDS: readonly Frontend[] = ["auto", "cpu", "webgpu"];

/** Options of {@linkcode loadAudioEmbeddingModel}. */
export interface ModelOptions {
  /**
   * The spectrogram the network takes.
   * @default {"mel256"}
   */
  inputRepr?: InputRepr;
  /**
   * What the network was trained on.
   * @default {"music"}
   */
  contentType?: ContentType;
  /**
   * Embedding length (openl3's default).
   * @default {6144}
   */
  embeddingSize?: EmbeddingSize;
  /** A weights file (`.h5`, `.h5.gz`, `.onnx`); default: the official ones, fetched once into `modelsDir`. */
  weights?: string;
  /**
   * Where weights and converted models are kept.
   * @default {"models"}
   */
  modelsDir?: string;
  /**
   * The network's backend.
   * @default {"auto"}
   */
  backend?: BackendChoice;
  /**
   * Where the spectrograms are computed.
   * @default {"auto"}
   */
  frontend?: Frontend;
}

/** A loaded model (openl3's `load_audio_embedding_model`); {@linkcode AudioEmbeddingModel.close} frees it. */
export interface AudioEmbeddingModel {
  /** The spectrogram it takes. */
  readonly inputRepr: InputRepr;
  /** What it was trained on. */
  readonly contentType: ContentType;
  /** Its embedding length. */
  readonly embeddingSize: EmbeddingSize;
  /** SHA-256 of its weights. */
  readonly weightsHash: string;
  /** Free the network, the frontend and the device. */
  close(): Promise<void>;
}

const EMBEDDERS = new WeakMap<AudioEmbeddingModel, Embedder>();

function check<T>(value: unknown, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value as T)) {
    throw new OpenL3Error(`Invalid ${what} ${JSON.stringify(value)}: one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function checkModelOptions(o: ModelOptions) {
  return {
    inputRepr: check(o.inputRepr ?? "mel256", INPUT_REPRS, "input representation"),
    contentType: check(o.contentType ?? "music", CONTENT_TYPES, "content type"),
    embeddingSize: check(o.embeddingSize ?? 6144, EMBEDDING_SIZES, "embedding size"),
    frontend: check(o.frontend ?? "auto", FRONTENDS, "frontend"),
  };
}

/**
 * Load the network for a variant (openl3's `load_audio_embedding_model`).
 *
 * @throws {OpenL3Error} for an unknown input representation, content type, embedding size or frontend.
 */
export async function loadAudioEmbeddingModel(options: ModelOptions = {}): Promise<AudioEmbeddingModel> {
  const o = checkModelOptions(options);
  const embedder = await createEmbedder({
    inputRepr: o.inputRepr,
    contentType: o.contentType,
    embeddingSize: o.embeddingSize,
    weights: options.weights,
    modelsDir: options.modelsDir,
    backend: options.backend,
    device: o.frontend,
    verbose: false,
  });
  const model: AudioEmbeddingModel = {
    inputRepr: o.inputRepr,
    contentType: o.contentType,
    embeddingSize: o.embeddingSize,
    weightsHash: embedder.model.weightsHash,
    close: () => embedder.close(),
  };
  EMBEDDERS.set(model, embedder);
  return model;
}

/** One clip: mono samples. */
export type Clip = Float32Array | Float64Array;

/** The embeddings of one clip. */
export interface AudioEmbedding {
  /** `frames × size`, row-major. */
  embeddings: Float32Array;
  /** Seconds, one per frame: `i · hopSize`. */
  timestamps: Float64Array;
  /** Number of frames (windows). */
  frames: number;
  /** Embedding length. */
  size: number;
}

/** Options of {@linkcode getAudioEmbedding}. */
export interface EmbeddingOptions extends ModelOptions {
  /** A loaded model; when given, `inputRepr`, `contentType`, `embeddingSize`, `weights` are not used. */
  model?: AudioEmbeddingModel;
  /**
   * Prepend half a window so that window i is centred at i · hopSize.
   * @default {true}
   */
  center?: boolean;
  /**
   * Seconds between windows.
   * @default {0.1}
   */
  hopSize?: number;
  /**
   * Windows per network call.
   * @default {32}
   */
  batchSize?: number;
  /** Told each warning; default: one line on stderr. */
  onWarning?: (w: OpenL3Warning) => void;
}

/** A call's framing, openl3's defaults applied. */
function framingOf(o: EmbeddingOptions): { hopSize: number; center: boolean; batchSize: number } {
  return { hopSize: o.hopSize ?? 0.1, center: o.center ?? true, batchSize: o.batchSize ?? 32 };
}

/** Refuse a framing openl3 refuses (and a hop under one sample at 48 kHz, or a batch that is not one). */
function checkFraming(hopSize: unknown, center: unknown, batchSize: unknown): void {
  if (typeof hopSize !== "number" || !Number.isFinite(hopSize) || hopSize <= 0) {
    throw new OpenL3Error(`Invalid hop size ${JSON.stringify(hopSize)}`);
  }
  if (Math.trunc(hopSize * TARGET_SR) < 1) {
    throw new OpenL3Error(`Invalid hop size ${hopSize}: under one sample`);
  }
  if (typeof center !== "boolean") throw new OpenL3Error(`Invalid center value ${JSON.stringify(center)}`);
  if (typeof batchSize !== "number" || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new OpenL3Error(`Invalid batch size ${JSON.stringify(batchSize)}`);
  }
}

/** The model's pipeline with a call's framing. */
function framed(model: AudioEmbeddingModel, hopSize: number, center: boolean, batchSize: number): Embedder {
  const base = EMBEDDERS.get(model)!;
  return { ...base, batchSize, options: { ...base.options, hopSize, center, batchSize } };
}

function isClip(x: unknown): x is Clip {
  return x instanceof Float32Array || x instanceof Float64Array;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (ArrayBuffer.isView(x)) return x.constructor.name;
  return typeof x;
}

/**
 * Embeddings of one clip or of several (openl3's `get_audio_embedding`): one clip gives one
 * {@linkcode AudioEmbedding}, an array of clips gives an array (`sr` one rate, or one per clip).
 *
 * @throws {OpenL3Error} where openl3 raises: audio that is not mono samples, empty audio, rates that do not
 * match the clips, a rate or hop that is not a positive number, a non-boolean `center`, an unknown input
 * representation, content type, embedding size or frontend, a `model` that is not one.
 */
export function getAudioEmbedding(
  audio: Clip,
  sr: number,
  options?: EmbeddingOptions,
): Promise<AudioEmbedding>;
/** Several clips: one result each. */
export function getAudioEmbedding(
  audio: Clip[],
  sr: number | number[],
  options?: EmbeddingOptions,
): Promise<AudioEmbedding[]>;
export async function getAudioEmbedding(
  audio: Clip | Clip[],
  sr: number | number[],
  options: EmbeddingOptions = {},
): Promise<AudioEmbedding | AudioEmbedding[]> {
  // every argument is checked before anything is loaded, in openl3's order
  if (options.model !== undefined && !EMBEDDERS.has(options.model)) {
    throw new OpenL3Error(
      `Invalid model provided: expected one from loadAudioEmbeddingModel, got ${describe(options.model)}`,
    );
  }
  const variant = checkModelOptions(options.model ?? options);
  const single = isClip(audio);
  if (!single && !(Array.isArray(audio) && audio.every(isClip))) {
    throw new OpenL3Error(
      `audio must be mono samples (Float32Array or Float64Array) or an array of them, got ${
        describe(audio)
      }` +
        (Array.isArray(audio) ? ` holding ${describe((audio as unknown[]).find((c) => !isClip(c)))}` : ""),
    );
  }
  const clips = single ? [audio as Clip] : audio as Clip[];
  if (single && typeof sr !== "number") {
    throw new OpenL3Error(`sr must be one number for one clip, got ${describe(sr)}`);
  }
  if (typeof sr !== "number" && !Array.isArray(sr)) {
    throw new OpenL3Error(`sr must be a number or an array of numbers, got ${describe(sr)}`);
  }
  const rates = typeof sr === "number" ? clips.map(() => sr) : sr;
  if (rates.length !== clips.length) {
    throw new OpenL3Error(
      `Mismatch between number of audio inputs (${clips.length}) and number of sample rates (${rates.length})`,
    );
  }
  const { hopSize, center, batchSize } = framingOf(options);
  for (const [i, clip] of clips.entries()) {
    if (clip.length === 0) throw new OpenL3Error(`Got empty audio${single ? "" : ` (clip ${i})`}`);
    const rate = rates[i];
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0) {
      throw new OpenL3Error(`Invalid sample rate ${JSON.stringify(rate)}`);
    }
  }
  checkFraming(hopSize, center, batchSize);
  const warn = options.onWarning ?? ((w: OpenL3Warning) => console.error(`OpenL3Warning: ${w.message}`));

  const model = options.model ?? await loadAudioEmbeddingModel({ ...options, ...variant });
  try {
    const embedder = framed(model, hopSize, center, batchSize);
    const results: AudioEmbedding[] = [];
    for (const [i, clip] of clips.entries()) {
      if (clip.every((x) => x === 0)) warn(new OpenL3Warning("Provided audio is all zeros"));
      const source = sourceAt48k(clip, rates[i]);
      if (planFrames(source.length, { hopSize, center }).warnings.length) {
        warn(
          new OpenL3Warning(
            "Duration of provided audio is shorter than window size (1 second). Audio will be padded.",
          ),
        );
      }
      let embeddings = new Float32Array(0);
      const plan = await embedSource(embedder, source, (b) => {
        if (b.start === 0) embeddings = new Float32Array(b.windows * embedder.size);
        embeddings.set(b.embedding.subarray(0, b.count * embedder.size), b.start * embedder.size);
      });
      const timestamps = Float64Array.from({ length: plan.windows }, (_, k) => k * hopSize);
      results.push({ embeddings, timestamps, frames: plan.windows, size: embedder.size });
    }
    return single ? results[0] : results;
  } finally {
    if (!options.model) await model.close();
  }
}

/** Options of {@linkcode processAudioFile}. */
export interface ProcessOptions extends Omit<EmbeddingOptions, "onWarning"> {
  /** Folder of the `.npz` files; default: each audio file's own folder. */
  outputDir?: string;
  /** `<stem>_<suffix>.npz` instead of `<stem>.npz`. */
  suffix?: string;
  /**
   * Replace `.npz` files that exist (openl3 skips them).
   * @default {false}
   */
  overwrite?: boolean;
}

/** Where openl3 writes a file's embeddings: `<output dir or its folder>/<stem>[_<suffix>].npz`. */
export function outputPath(file: string, suffix = "", outputDir?: string): string {
  const stem = basename(file, extname(file));
  return join(outputDir ?? dirname(file), `${stem}${suffix ? `_${suffix}` : ""}.npz`);
}

/**
 * Embed audio files and write each one's `embedding` (frames × size) and `timestamps` as an `.npz`
 * (openl3's `process_audio_file`). Returns the files written (existing ones are skipped unless `overwrite`).
 *
 * @throws {OpenL3Error} for a file that does not exist or cannot be decoded, and for the arguments
 * {@linkcode getAudioEmbedding} refuses.
 */
export async function processAudioFile(
  path: string | string[],
  options: ProcessOptions = {},
): Promise<string[]> {
  const paths = typeof path === "string" ? [path] : path;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) {
    throw new OpenL3Error(`filepath should be a string or an array of strings, got ${describe(path)}`);
  }
  for (const p of paths) {
    if (!(await Deno.stat(p).then((s) => s.isFile, () => false))) {
      throw new OpenL3Error(`File "${p}" could not be found.`);
    }
  }
  const variant = checkModelOptions(options.model ?? options);
  const { hopSize, center, batchSize } = framingOf(options);
  checkFraming(hopSize, center, batchSize);
  const model = options.model ?? await loadAudioEmbeddingModel({ ...options, ...variant });
  const written: string[] = [];
  try {
    const embedder = framed(model, hopSize, center, batchSize);
    if (options.outputDir) await Deno.mkdir(options.outputDir, { recursive: true });
    for (const p of paths) {
      const out = outputPath(p, options.suffix ?? "", options.outputDir);
      if (!options.overwrite && await Deno.stat(out).then(() => true, () => false)) continue;
      const e = await embedFile(embedder, p);
      await writeEmbeddingNpz(out, {
        ...e,
        timestamps: Float64Array.from(e.timestamps, (_, k) => k * hopSize),
      });
      written.push(out);
    }
  } finally {
    if (!options.model) await model.close();
  }
  return written;
}
