/**
 * The network's numeric precision, and the one rule about where each runs.
 *
 * @module
 */

/** The network's numeric precisions: `fp32` (the default, exact) and `int8` (opt-in, faster on the CPU). */
export const PRECISIONS = ["fp32", "int8"] as const;
/** One of {@linkcode PRECISIONS}. */
export type Precision = typeof PRECISIONS[number];

/**
 * Whether a precision runs on a backend (`auto` always: it picks one that does), and if not, why, in one
 * line that names both flags. The quantized operators run on onnxruntime's CPU providers; no WebGPU engine
 * here takes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { precisionProblem } from "./precision.ts";
 * assert.equal(precisionProblem("int8", "native"), null);
 * assert.equal(precisionProblem("int8", "auto"), null);
 * assert.match(precisionProblem("int8", "wgsl")!, /int8 runs on the CPU backends \(native, wasm\)/);
 * assert.equal(precisionProblem("fp32", "wgsl"), null);
 * ```
 */
export function precisionProblem(precision: Precision, backend: string): string | null {
  if (precision !== "int8" || backend === "auto" || backend === "native" || backend === "wasm") return null;
  return `--precision int8 runs on the CPU backends (native, wasm), not --backend ${backend}`;
}
