/**
 * Choosing where the frontend runs: `--device auto|webgpu|cpu`.
 *
 * `auto` takes WebGPU only on a real (hardware) adapter: a software
 * rasteriser (llvmpipe, lavapipe, SwiftShader, WARP, or any adapter flagged
 * `isFallbackAdapter`) is slower than the CPU path, so it is used only when
 * asked for by name. No adapter at all is not an error for `auto`.
 *
 * @module
 */

import { ArgumentError, OpenL3Error } from "../util/errors.ts";

/** Where the frontend may run. */
export const DEVICE_CHOICES = ["auto", "webgpu", "cpu"] as const;
/** One of {@linkcode DEVICE_CHOICES}. */
export type DeviceChoice = typeof DEVICE_CHOICES[number];

/** A WebGPU device with a description of its adapter. */
export interface GpuContext {
  device: GPUDevice;
  /** e.g. "NVIDIA H100 80GB HBM3 (nvidia)" or "llvmpipe (LLVM 15.0.6, 256 bits)" */
  description: string;
  /** True for software rasterisers. */
  software: boolean;
}

/** The outcome of {@linkcode selectDevice}. */
export type DeviceSelection =
  | { kind: "webgpu"; gpu: GpuContext; reason: string }
  | { kind: "cpu"; reason: string };

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|microsoft basic render|\bwarp\b/i;

/** Describe an adapter in one line. */
export function describeAdapter(info: GPUAdapterInfo): string {
  const vendor = /^\d*$/.test(info.vendor) ? "" : `vendor ${info.vendor}`; // some drivers give only a PCI id
  const parts = [info.description, vendor, info.architecture].filter((s) => s);
  return parts.join(", ") || "unnamed adapter";
}

/** True when the adapter is a software rasteriser (or says it is a fallback adapter). */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const flagged = info.isFallbackAdapter === true ||
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return flagged || SOFTWARE.test(`${info.description} ${info.vendor} ${info.architecture} ${info.device}`);
}

/** Request an adapter, or null when this runtime has no WebGPU or no adapter. */
export async function requestAdapter(): Promise<GPUAdapter | null> {
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) return null;
  try {
    return await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch {
    return null;
  }
}

/** Open a device on an adapter with the largest buffer limits it offers. */
export async function openDevice(adapter: GPUAdapter): Promise<GpuContext> {
  const device = await adapter.requestDevice({
    label: "openl3",
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return { device, description: describeAdapter(adapter.info), software: isSoftwareAdapter(adapter) };
}

/**
 * Pick the device for a choice. `webgpu` fails when there is no adapter;
 * `auto` falls back to the CPU, with the reason.
 *
 * @example
 * ```ts ignore
 * import { selectDevice } from "./device.ts";
 * const sel = await selectDevice("auto");
 * console.error(`frontend: ${sel.reason}`);
 * ```
 */
export async function selectDevice(choice: DeviceChoice): Promise<DeviceSelection> {
  if (!DEVICE_CHOICES.includes(choice)) {
    throw new ArgumentError(`--device must be one of ${DEVICE_CHOICES.join(", ")}; got "${choice}"`);
  }
  if (choice === "cpu") return { kind: "cpu", reason: "CPU (asked for with --device cpu)" };
  const adapter = await requestAdapter();
  if (!adapter) {
    if (choice === "webgpu") throw new OpenL3Error("--device webgpu: no WebGPU adapter is available");
    return { kind: "cpu", reason: "CPU (no WebGPU adapter found)" };
  }
  const software = isSoftwareAdapter(adapter);
  const description = describeAdapter(adapter.info);
  if (choice === "auto" && software) {
    return {
      kind: "cpu",
      reason: `CPU (the WebGPU adapter is a software rasteriser, ${description}, slower than the CPU; ` +
        `--device webgpu forces it)`,
    };
  }
  const gpu = await openDevice(adapter);
  return {
    kind: "webgpu",
    gpu,
    reason: `WebGPU on ${description}${
      software ? " (software rasteriser, chosen with --device webgpu)" : ""
    }`,
  };
}
