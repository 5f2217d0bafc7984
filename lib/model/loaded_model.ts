/**
 * A network ready to run, and what loading one takes: the types the model store, its download and its
 * quantization share.
 *
 * @module
 */

import type { InputRepr } from "../frontend/spec.ts";
import type { ContentType, EmbeddingSize } from "./architecture.ts";
import type { Precision } from "./precision.ts";
import type { WeightsProvenance } from "./provenance.ts";

/** A network ready to run. */
export interface LoadedModel {
  /** The converted network (ONNX bytes). */
  onnx: Uint8Array;
  /** The frontend it takes. */
  repr: InputRepr;
  /** Its output length. */
  embeddingSize: EmbeddingSize;
  /** Content type as known from the file name or the caller. */
  content: ContentType;
  /** SHA-256 of the weights file the model was made from. */
  weightsHash: string;
  /**
   * `official` when the bytes are a published file (git blob id checked),
   * `untrained` for seeded random test weights, `custom` otherwise.
   */
  provenance: WeightsProvenance;
  /** Where it came from (path). */
  source: string;
  /** Path of the cached converted model. */
  cached?: string;
  /** The network's precision: `int8` for the quantized network. */
  precision: Precision;
}

/** Options of {@linkcode loadModel}. */
export interface LoadModelOptions {
  /** The frontend. */
  repr: InputRepr;
  /** The training set. */
  content: ContentType;
  /** The output length. */
  embeddingSize: EmbeddingSize;
  /** `.h5`, `.h5.gz` or `.onnx`; default: the official file in `modelsDir`. */
  weights?: string;
  /** Folder of the official weights and of converted models. */
  modelsDir: string;
  /**
   * Download the official weights when missing.
   * @default {true}
   */
  download?: boolean;
  /** Download address (tests). */
  baseUrl?: string;
  /** Blob ids (tests). */
  blobIds?: Record<string, string>;
  /**
   * Progress lines and cache repairs on stderr.
   * @default {true}
   */
  verbose?: boolean;
  /**
   * The network's precision: `int8` quantizes the float network (calibrated once per weights and cached
   * beside the converted model).
   * @default {"fp32"}
   */
  precision?: Precision;
}
