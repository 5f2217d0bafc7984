/**
 * One interface over the two frontend implementations: the float64 CPU
 * reference (`cpu_spectrogram.ts`) and the WGSL kernels
 * (`wgsl_spectrogram.ts`), chosen by `--device auto|webgpu|cpu` with the
 * one GPU rule of `gpu/device.ts`.
 *
 * @module
 */

import { type DeviceChoice, type GpuContext, gpuDecision, openGpu } from "../gpu/device.ts";
import { verifyDoubleFloat } from "../gpu/double_float.ts";
import { OpenL3Error } from "../util/errors.ts";
import { spectrogramBatch } from "./cpu_spectrogram.ts";
import { FRONTENDS, type FrontendSpec, type InputRepr } from "./spec.ts";
import { GpuFrontend, gpuSpectrogramBatch } from "./wgsl_spectrogram.ts";

/** A frontend: window samples in, dB patches (N, 1, bins, frames) out. */
export interface Frontend {
  /** Its shape and parameters. */
  readonly spec: FrontendSpec;
  /** "cpu" or "webgpu". */
  readonly kind: "cpu" | "webgpu";
  /** One line saying where it runs and why. */
  readonly description: string;
  /** The device, when it runs on WebGPU (to share with the network). */
  readonly gpu?: GpuContext;
  /** Patches of `count` windows (window-major samples), on the CPU. */
  compute(samples: Float32Array | Float64Array, count: number): Promise<Float32Array>;
  /**
   * WebGPU only: compute the patches into the frontend's GPU buffer and
   * return it (N, 1, bins, frames), without reading it back.
   */
  computeOnGpu?(samples: Float32Array | Float64Array, count: number): GPUBuffer;
  /** Windows one {@linkcode computeOnGpu} call takes. */
  readonly gpuCapacity?: number;
  /** Release what the frontend owns (GPU buffers; the device only when it opened it). */
  destroy(): void;
}

function cpuFrontend(spec: FrontendSpec, repr: InputRepr, why: string): Frontend {
  return {
    spec,
    kind: "cpu",
    description: `CPU, float64 (${why})`,
    compute: (samples, count) => Promise.resolve(spectrogramBatch(samples, count, repr)),
    destroy: () => {},
  };
}

/** Options of {@linkcode createFrontend}. */
export interface CreateFrontendOptions {
  /**
   * Input representation.
   * @default {"mel256"}
   */
  repr?: InputRepr;
  /**
   * Where to run.
   * @default {"auto"}
   */
  device?: DeviceChoice;
  /**
   * The GPU already found (shared with the network), or null when there is
   * none; when left out, the frontend looks for one itself and owns it.
   */
  gpu?: GpuContext | null;
  /**
   * Windows per GPU dispatch.
   * @default {32}
   */
  batchSize?: number;
}

/**
 * Build the frontend for a representation on the chosen device.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createFrontend } from "./frontend.ts";
 * const fe = await createFrontend({ repr: "mel128", device: "cpu" });
 * const patches = await fe.compute(new Float64Array(48000), 1);
 * assert.equal(patches.length, 128 * 199);
 * fe.destroy();
 * ```
 */
export async function createFrontend(options: CreateFrontendOptions = {}): Promise<Frontend> {
  const repr = options.repr ?? "mel256";
  const spec = FRONTENDS[repr];
  const choice = options.device ?? "auto";
  const owns = options.gpu === undefined && choice !== "cpu";
  const gpu = options.gpu !== undefined ? options.gpu : choice === "cpu" ? null : await openGpu();
  const decision = gpuDecision(choice, gpu, "--device");
  if (!decision.use || !gpu) {
    if (owns) gpu?.device.destroy();
    return cpuFrontend(spec, repr, decision.reason);
  }
  // the kernels' double-float arithmetic must be exact on this device, or the patches would not be
  const check = await verifyDoubleFloat(gpu.device);
  if (!check.ok) {
    const why = `this device's float arithmetic fails the double-float check (${check.problem})`;
    if (choice === "webgpu") throw new OpenL3Error(`--device webgpu: ${why}`);
    if (owns) gpu.device.destroy();
    return cpuFrontend(spec, repr, why);
  }
  const fe = GpuFrontend.create(gpu.device, repr, { maxWindows: options.batchSize ?? 32 });
  return {
    spec,
    kind: "webgpu",
    description: `WebGPU on ${gpu.description}, double-float (${decision.reason})`,
    gpu,
    compute: (samples, count) => gpuSpectrogramBatch(fe, samples, count),
    computeOnGpu: (samples, count) => fe.run(samples, count),
    gpuCapacity: fe.capacity,
    destroy: () => {
      fe.destroy();
      if (owns) gpu.device.destroy();
    },
  };
}
