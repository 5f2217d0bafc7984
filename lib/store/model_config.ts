/**
 * The model configuration stored with every vector: what decides its numbers
 * (variant, weights, framing, pooling) and where it was computed, typed with
 * the real choices, and the key that says "same numbers".
 *
 * @module
 */

import type { InputRepr } from "../frontend/spec.ts";
import type { ContentType, EmbeddingSize } from "../model/architecture.ts";
import type { Backend } from "../model/inference.ts";
import type { WeightsProvenance } from "../model/provenance.ts";
import type { Pooling } from "../model/pooling.ts";
import type { Precision } from "../model/precision.ts";

/** The part of a configuration that decides the numbers. */
export interface NumbersConfig {
  /** Input representation. */
  inputRepr: InputRepr;
  /** Training set of the weights. */
  contentType: ContentType;
  /** Embedding length. */
  embeddingSize: EmbeddingSize;
  /** SHA-256 of the weights file. */
  weightsHash: string;
  /** Seconds between windows. */
  hopSize: number;
  /** Whether the windows were centred. */
  center: boolean;
  /** Song-level pooling. */
  pooling: Pooling;
  /** The network's precision (`int8`: the quantized network, other numbers than `fp32`'s). */
  precision: Precision;
}

/** What decides the numbers of a vector, plus where they were computed. */
export interface ModelConfig extends NumbersConfig {
  /** Official, untrained test weights, or custom (recorded, follows from the weights hash). */
  weightsProvenance: WeightsProvenance;
  /** Where the frontend ran (recorded, not part of the identity of the numbers). */
  frontend: "cpu" | "webgpu";
  /** Where the network ran (recorded, not part of the identity). */
  backend: Backend;
  /** Version of this tool that computed it. */
  toolVersion: string;
}

/**
 * The part of a configuration that decides the numbers, as one string:
 * equal keys → same vectors (to float32 rounding). The precision is appended only when it is not `fp32`,
 * so the keys of databases written before int8 existed are unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configKey } from "./model_config.ts";
 * const c = { inputRepr: "mel256", contentType: "music", embeddingSize: 512, weightsHash: "ab",
 *   hopSize: 0.1, center: true, pooling: "max", precision: "fp32" } as const;
 * assert.equal(configKey(c), "mel256|music|512|ab|0.1|1|max");
 * assert.equal(configKey({ ...c, precision: "int8" }), "mel256|music|512|ab|0.1|1|max|int8");
 * assert.notEqual(configKey({ ...c, hopSize: 0.5 }), configKey(c));
 * ```
 */
export function configKey(c: NumbersConfig): string {
  const key = [
    c.inputRepr,
    c.contentType,
    c.embeddingSize,
    c.weightsHash,
    c.hopSize,
    c.center ? 1 : 0,
    c.pooling,
  ];
  if (c.precision !== "fp32") key.push(c.precision);
  return key.join("|");
}

/**
 * The configuration a {@linkcode configKey} was made from, or null when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configFromKey, configKey } from "./model_config.ts";
 * const c = { inputRepr: "mel256", contentType: "music", embeddingSize: 512, weightsHash: "ab12", hopSize: 0.1,
 *   center: true, pooling: "mean", precision: "int8" } as const;
 * assert.deepEqual(configFromKey(configKey(c)), c);
 * assert.equal(configFromKey("mel256|music"), null);
 * ```
 */
export function configFromKey(key: string): NumbersConfig | null {
  const p = key.split("|");
  if (p.length !== 7 && p.length !== 8) return null;
  const c = {
    inputRepr: p[0],
    contentType: p[1],
    embeddingSize: Number(p[2]),
    weightsHash: p[3],
    hopSize: Number(p[4]),
    center: p[5] === "1",
    pooling: p[6],
    precision: p[7] ?? "fp32",
  } as NumbersConfig;
  return configKey(c) === key ? c : null;
}
