/**
 * Song-level pooling: frame embeddings (one per window) → one vector per
 * song, element-wise max (the original project's choice) or mean, in
 * float64, fed batch by batch so no frame needs to be kept.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";

/** How frame embeddings become one vector per song. */
export const POOLINGS = ["max", "mean"] as const;
/** One of {@linkcode POOLINGS}. */
export type Pooling = typeof POOLINGS[number];

/**
 * Check a pooling (unset stays unset: the database's, or max); the one place `--pool` is checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPooling } from "./pooling.ts";
 * assert.equal(checkPooling("mean"), "mean");
 * assert.equal(checkPooling(undefined), undefined);
 * assert.throws(() => checkPooling("avg"), /--pool must be one of max, mean; got "avg"/);
 * ```
 */
export function checkPooling(kind: string | undefined): Pooling | undefined {
  if (kind !== undefined && !(POOLINGS as readonly string[]).includes(kind)) {
    throw new ArgumentError(`--pool must be one of ${POOLINGS.join(", ")}; got "${kind}"`);
  }
  return kind as Pooling | undefined;
}

/**
 * Pools frames as they come.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FramePooler } from "./pooling.ts";
 * const max = new FramePooler("max", 2);
 * max.add(new Float32Array([1, 5, 3, 2]), 2); // two frames of two values
 * assert.deepEqual(Array.from(max.result()), [3, 5]);
 * const mean = new FramePooler("mean", 2);
 * mean.add(new Float32Array([1, 5, 3, 2]), 2);
 * assert.deepEqual(Array.from(mean.result()), [2, 3.5]);
 * ```
 */
export class FramePooler {
  /** Max or mean. */
  readonly kind: Pooling;
  /** Values per frame. */
  readonly size: number;
  #acc: Float64Array;
  #frames = 0;

  /**
   * An empty pooler.
   * @param kind Max or mean.
   * @param size Values per frame.
   */
  constructor(kind: Pooling, size: number) {
    this.kind = checkPooling(kind) ?? "max";
    this.size = size;
    this.#acc = new Float64Array(size).fill(kind === "max" ? -Infinity : 0);
  }

  /** Frames pooled so far. */
  get frames(): number {
    return this.#frames;
  }

  /** Add `count` frames (count × size, row-major). */
  add(frames: ArrayLike<number>, count: number): void {
    const acc = this.#acc, size = this.size;
    if (frames.length < count * size) {
      throw new ArgumentError(`${count} frames need ${count * size} values, got ${frames.length}`);
    }
    for (let k = 0; k < count; k++) {
      const o = k * size;
      if (this.kind === "max") {
        for (let d = 0; d < size; d++) {
          const v = frames[o + d];
          // a NaN frame value must not vanish into the max: it poisons the result, which is then refused
          if (v > acc[d] || v !== v) acc[d] = v;
        }
      } else {
        for (let d = 0; d < size; d++) acc[d] += frames[o + d];
      }
    }
    this.#frames += count;
  }

  /** The song vector (a new array). */
  result(): Float64Array {
    if (this.#frames === 0) throw new ArgumentError("no frames to pool");
    const out = this.#acc.slice();
    if (this.kind === "mean") { for (let d = 0; d < this.size; d++) out[d] /= this.#frames; }
    return out;
  }
}
