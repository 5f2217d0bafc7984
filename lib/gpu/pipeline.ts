/**
 * WebGPU kernel plumbing shared by every WGSL stage (the frontend and the
 * network): shader builders return {@linkcode ShaderSource}, pipelines are
 * compiled once per device and cache key and labelled with the shader's
 * name, and validation errors become exceptions.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";

/** What a shader builder returns. */
export interface ShaderSource {
  /** Label of the module and pipeline. */
  name: string;
  /** Pipelines with one key are compiled once per device. */
  cacheKey: string;
  /** The WGSL source. */
  code: string;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** Compile (once per device and cache key) and return a labelled compute pipeline. */
export function getPipeline(device: GPUDevice, shader: ShaderSource): GPUComputePipeline {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, cache = new Map());
  let pipeline = cache.get(shader.cacheKey);
  if (!pipeline) {
    const module = device.createShaderModule({ label: shader.name, code: shader.code });
    pipeline = device.createComputePipeline({
      label: shader.name,
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    cache.set(shader.cacheKey, pipeline);
  }
  return pipeline;
}

/** Number of pipelines compiled for a device (for tests of the cache). */
export function cachedPipelineCount(device: GPUDevice): number {
  return pipelineCache.get(device)?.size ?? 0;
}

/** Throw when the device reports a validation error inside `fn`. */
export async function withValidation<T>(device: GPUDevice, fn: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope("validation");
  const result = await fn();
  const error = await device.popErrorScope();
  if (error) throw new OpenL3Error(`WebGPU validation error: ${error.message}`);
  return result;
}
