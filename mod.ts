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
import type { ContentType, EmbeddingSize } from "./lib/model/architecture.ts";
import type { InputRepr } from "./lib/frontend/spec.ts";
import { type Precision, PRECISIONS } from "./lib/model/precision.ts";
import { createEmbedder, type Embedder } from "./lib/pipeline/embedder.ts";
import { runtimeOf } from "./lib/pipeline/embed_options.ts";
import { embedFile } from "./lib/pipeline/embed_song.ts";
import { checkSuffix, writeEmbeddingNpz } from "./lib/pipeline/npz_export.ts";
import { OpenL3Error } from "./lib/util/errors.ts";
import type { BackendChoice } from "./lib/model/inference.ts";
import {
  type AudioEmbedding,
  checkClips,
  checkFraming,
  checkVariant,
  type Clip,
  describe,
  embedClips,
  type Frontend,
  FRONTEND_CHOICES,
  oneOf,
  type OpenL3Warning,
  type Variant,
  warnOnStderr,
} from "./lib/pipeline/embedding_api.ts";

export { OpenL3Error } from "./lib/util/errors.ts";
export {
  CONTENT_TYPES,
  type ContentType,
  EMBEDDING_SIZES,
  type EmbeddingSize,
} from "./lib/model/architecture.ts";
export { INPUT_REPRS, type InputRepr } from "./lib/frontend/spec.ts";
export { type BackendChoice, BACKENDS } from "./lib/model/inference.ts";
export { type Precision, PRECISIONS } from "./lib/model/precision.ts";
export { TOOL_VERSION as VERSION } from "./lib/util/version.ts";
export {
  type AudioEmbedding,
  type Clip,
  type Frontend,
  OpenL3Warning,
} from "./lib/pipeline/embedding_api.ts";

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
  /**
   * The network's precision: `int8` is the quantized network (opt-in, on the CPU backends; calibrated
   * once per weights and cached in `modelsDir`); its embeddings are close to `fp32`'s, not equal.
   * @default {"fp32"}
   */
  precision?: Precision;
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
  /** The network's precision. */
  readonly precision: Precision;
  /** Free the network, the frontend and the device. */
  close(): Promise<void>;
}

const EMBEDDERS = new WeakMap<AudioEmbeddingModel, Embedder>();
/** Models whose close() was called: using one again is an error, not a crash. */
const CLOSED = new WeakSet<AudioEmbeddingModel>();

/** Refuse a model that is not one of ours, or one that was closed. */
function checkModel(model: AudioEmbeddingModel | undefined): void {
  if (model === undefined) return;
  if (!EMBEDDERS.has(model)) {
    throw new OpenL3Error(
      `Invalid model provided: expected one from loadAudioEmbeddingModel, got ${describe(model)}`,
    );
  }
  if (CLOSED.has(model)) {
    throw new OpenL3Error("the model was closed: load it again with loadAudioEmbeddingModel");
  }
}

function checkModelOptions(o: ModelOptions): Variant & { frontend: Frontend; precision: Precision } {
  return {
    ...checkVariant(o),
    frontend: oneOf(o.frontend ?? "auto", FRONTEND_CHOICES, "frontend"),
    precision: oneOf(o.precision ?? "fp32", PRECISIONS, "precision"),
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
    ...runtimeOf({ ...options, device: o.frontend, precision: o.precision }),
    inputRepr: o.inputRepr,
    contentType: o.contentType,
    embeddingSize: o.embeddingSize,
    verbose: false,
  });
  const model: AudioEmbeddingModel = {
    inputRepr: o.inputRepr,
    contentType: o.contentType,
    embeddingSize: o.embeddingSize,
    weightsHash: embedder.model.weightsHash,
    precision: embedder.model.precision,
    close: async () => {
      if (CLOSED.has(model)) return;
      CLOSED.add(model);
      await embedder.close();
    },
  };
  EMBEDDERS.set(model, embedder);
  return model;
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

/** The model's pipeline with a call's framing. */
function framed(model: AudioEmbeddingModel, hopSize: number, center: boolean, batchSize: number): Embedder {
  const base = EMBEDDERS.get(model)!;
  return { ...base, batchSize, options: { ...base.options, hopSize, center, batchSize } };
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
  checkModel(options.model);
  const variant = checkModelOptions(options.model ?? options);
  const checked = checkClips(audio, sr);
  const { hopSize, center, batchSize } = checkFraming(options);
  const model = options.model ?? await loadAudioEmbeddingModel({ ...options, ...variant });
  try {
    const results = await embedClips(
      framed(model, hopSize, center, batchSize),
      checked,
      options.onWarning ?? warnOnStderr,
    );
    return checked.single ? results[0] : results;
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
  checkModel(options.model);
  checkSuffix(options.suffix);
  const variant = checkModelOptions(options.model ?? options);
  const { hopSize, center, batchSize } = checkFraming(options);
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
