/**
 * Finding a WebGPU device and deciding whether a stage may use it.
 *
 * One rule, for the frontend (`--device auto|webgpu|cpu`) and the network
 * (`--backend auto|webgpu|…`) alike: `auto` takes WebGPU only on a real
 * (hardware) adapter: a software rasteriser (llvmpipe, lavapipe, SwiftShader,
 * WARP, or any adapter flagged `isFallbackAdapter`) is slower than the CPU
 * path, so it is used only when asked for by name. No adapter at all is not
 * an error for `auto`.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import { privateDir } from "../util/private_dir.ts";

/** Where the frontend may run. */
export const DEVICE_CHOICES = ["auto", "webgpu", "cpu"] as const;
/** One of {@linkcode DEVICE_CHOICES}. */
export type DeviceChoice = typeof DEVICE_CHOICES[number];

/** A WebGPU device with a description of its adapter. */
export interface GpuContext {
  /** The device. */
  device: GPUDevice;
  /** e.g. "NVIDIA H100 80GB HBM3 (nvidia)" or "llvmpipe (LLVM 15.0.6, 256 bits)" */
  description: string;
  /** True for software rasterisers. */
  software: boolean;
  /** Features the device was opened with (e.g. `shader-f16`, `timestamp-query`). */
  features: ReadonlySet<string>;
}

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

/**
 * Some GL/EGL drivers that the WebGPU runtime probes print "XDG_RUNTIME_DIR is
 * invalid or not set" to stderr on every probe. Give them this user's private
 * folder when the variable is missing (best effort: without --allow-env nothing changes).
 */
function quietDriverProbe(): void {
  try {
    const dir = Deno.env.get("XDG_RUNTIME_DIR");
    if (dir && Deno.statSync(dir).isDirectory) return;
    // one private folder per user, reused by every run (no folder left behind per run)
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const mine = `${tmp}/openl3-xdg-${Deno.uid()}`;
    privateDir(mine);
    Deno.env.set("XDG_RUNTIME_DIR", mine);
  } catch { /* no permission: leave it */ }
}

/** Request an adapter, or null when this runtime has no WebGPU or no adapter. */
export async function requestAdapter(): Promise<GPUAdapter | null> {
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) return null;
  quietDriverProbe();
  try {
    return await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch {
    return null;
  }
}

/** Optional features the stages use when the adapter has them. */
const WANTED_FEATURES = ["shader-f16", "timestamp-query"] as const;

/** Open a device on an adapter with the largest buffer and workgroup limits it offers. */
export async function openDevice(adapter: GPUAdapter): Promise<GpuContext> {
  const features = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    label: "openl3",
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  return {
    device,
    description: describeAdapter(adapter.info),
    software: isSoftwareAdapter(adapter),
    features: new Set(features),
  };
}

/** The first adapter's device, or null when there is none. */
export async function openGpu(): Promise<GpuContext | null> {
  const adapter = await requestAdapter();
  return adapter ? await openDevice(adapter) : null;
}

/** Whether a stage runs on the GPU, and why (one line for the user). */
export interface GpuDecision {
  /** Run on the GPU. */
  use: boolean;
  /** Why, in words for the user. */
  reason: string;
}

/**
 * The one rule: may a stage asked for `choice` run on `gpu`?
 * `auto` takes only a hardware adapter; `cpu` never; a GPU choice
 * (`webgpu`, `wgsl`) any adapter, and fails without one. (A CPU backend
 * never asks: its row in the backend table says where it runs.)
 *
 * @param choice The stage's choice (`auto`, `webgpu`, or a CPU choice).
 * @param gpu The device found, or null.
 * @param flag The flag that chose, for messages (`--device`, `--backend`).
 * @throws {OpenL3Error} when `webgpu` was asked for and there is no adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpuDecision } from "./device.ts";
 * assert.equal(gpuDecision("auto", null, "--device").use, false);
 * assert.equal(gpuDecision("cpu", null, "--device").use, false);
 * assert.throws(() => gpuDecision("webgpu", null, "--device"), /no WebGPU adapter/);
 * ```
 */
export function gpuDecision(choice: string, gpu: GpuContext | null, flag: string): GpuDecision {
  if (CPU_CHOICES.has(choice)) return { use: false, reason: `asked for with ${flag} ${choice}` };
  if (!gpu) {
    if (choice !== "auto") throw new OpenL3Error(`${flag} ${choice}: no WebGPU adapter is available`);
    return { use: false, reason: "no WebGPU adapter found" };
  }
  if (gpu.software && choice === "auto") {
    return {
      use: false,
      reason: `${gpu.description} is a software rasteriser, slower than the CPU (${flag} webgpu forces it)`,
    };
  }
  return {
    use: true,
    reason: gpu.software ? `software rasteriser, chosen with ${flag} ${choice}` : "hardware adapter",
  };
}

/** The choice that never runs on the GPU. */
const CPU_CHOICES = new Set(["cpu"]);
