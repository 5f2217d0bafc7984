/**
 * Running the OpenL3 ONNX model: onnxruntime-web on WebGPU (sharing the
 * frontend's `GPUDevice`, input straight from its GPU buffer) or WASM, and
 * onnxruntime-node as a native CPU backend. `--backend auto` prefers a real
 * GPU, then native, then WASM, never a software adapter; a GPU backend is
 * trusted only after its output on a probe batch agrees with the CPU's.
 *
 * @module
 */

import "../util/web_worker.ts"; // keep the runtime's Worker before onnxruntime-web replaces it
import { cosineSimilarity } from "../util/vector_math.ts";
import { ArgumentError, OpenL3Error } from "../util/errors.ts";
import { type GpuContext, gpuDecision, openGpu } from "../gpu/device.ts";
import { INPUT_NAME, OUTPUT_NAME } from "./onnx_graph.ts";
import { Rng } from "../util/rng.ts";
import { isStandalone, realFile } from "../util/standalone.ts";
import { nativeSessionInThread } from "./native_thread.ts";
import { precisionProblem } from "./precision.ts";
import {
  type Backend,
  BACKEND_NAMES,
  type CpuRuns,
  type EmbeddingSession,
  type SessionOptions,
} from "./session.ts";
import type { Precision } from "./precision.ts";

export {
  type Backend,
  BACKEND_NAMES,
  type BackendChoice,
  BACKENDS,
  type CpuRuns,
  type EmbeddingSession,
  type SessionOptions,
} from "./session.ts";

/** True for the backends that run on WebGPU (their row in the backend table says so). */
export function isGpuBackend(b: string): b is Backend {
  return (BACKEND_NAMES as readonly string[]).includes(b) && BACKEND_TABLE[b as Backend].gpu;
}

/** Below this cosine similarity to the CPU, a GPU backend is not trusted. */
export const GPU_AGREEMENT = 0.9999;

/** An onnxruntime module (node or web): its types differ by build, so it is untyped here. */
// deno-lint-ignore no-explicit-any
export type OrtModule = any;

let nodeOrt: Promise<OrtModule | Error> | undefined;
/** onnxruntime-node, or the error that stopped it loading. */
export function loadNativeOrt(): Promise<OrtModule | Error> {
  nodeOrt ??= (async () => {
    // A compiled binary extracts the addon alone (denoland/deno#36626): load its library first, from a
    // real copy, so that the system loader finds it by name when the addon asks for it.
    if (isStandalone()) preloadNativeLibrary(realFile(onnxruntimeLibraryPath()));
    return await import("onnxruntime-node");
  })().then((m) => m.default ?? m, (e) => e as Error);
  return nodeOrt;
}

/**
 * onnxruntime-node 1.30 leaves an empty `mat-debug-<pid>.log` in the temp folder for every process that
 * creates a session: removed once the session exists (only when empty: a log with something in it stays).
 */
export function removeEmptyDebugLog(dir = Deno.env.get("TMPDIR") ?? "/tmp"): void {
  try {
    const path = `${dir}/mat-debug-${Deno.pid}.log`;
    if (Deno.statSync(path).size === 0) Deno.removeSync(path);
  } catch { /* not there, or not ours to remove */ }
}

/** onnxruntime-node's shared library for this platform, inside its npm package. */
export function onnxruntimeLibraryPath(): string {
  const os = Deno.build.os === "windows" ? "win32" : Deno.build.os;
  const arch = Deno.build.arch === "x86_64" ? "x64" : "arm64";
  const name = os === "win32"
    ? "onnxruntime.dll"
    : os === "darwin"
    ? "libonnxruntime.1.dylib"
    : "libonnxruntime.so.1";
  return new URL(`../../node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/${name}`, import.meta.url)
    .pathname;
}

const preloaded: Deno.DynamicLibrary<Record<string, never>>[] = [];
/** Load a shared library into the process (kept open), so that later loads of it by name find it. */
export function preloadNativeLibrary(path: string): void {
  preloaded.push(Deno.dlopen(path, {}));
}

let webgpuOrt: Promise<OrtModule> | undefined;
/**
 * onnxruntime-web's WebGPU build. Its WASM part runs single-threaded: the
 * threaded loader of the browser builds imports a blob: URL, which Deno's
 * module loader refuses.
 */
function loadWebGpuOrt(): Promise<OrtModule> {
  webgpuOrt ??= import("onnxruntime-web/webgpu").then((m) => {
    m.env.wasm.numThreads = 1;
    m.env.logLevel = "error";
    return m;
  });
  return webgpuOrt;
}

let wasmOrt: Promise<OrtModule> | undefined;
/**
 * onnxruntime-web's Node build (what `onnxruntime-web` resolves to under Deno):
 * WASM with worker threads, one per core (412 ms per mel256 window with 2
 * threads on a 2-vCPU x86-64 container, against 800 ms single-threaded, in one
 * `bench/network_bench.ts` run).
 */
function loadWasmOrt(): Promise<OrtModule> {
  wasmOrt ??= import("onnxruntime-web").then((m) => {
    m.env.wasm.numThreads = cores();
    m.env.logLevel = "error";
    return m;
  });
  return wasmOrt;
}

/**
 * onnxruntime on the CPU for work beside the embedding sessions (calibration): the native addon where it
 * loads, else WASM, with the session options the embedding sessions use.
 */
export async function loadCpuOrt(): Promise<{ ort: OrtModule; sessionOptions: Record<string, unknown> }> {
  const native = await loadNativeOrt();
  if (!(native instanceof Error)) {
    return {
      ort: native,
      sessionOptions: {
        executionProviders: ["cpu"],
        graphOptimizationLevel: "all",
        enableCpuMemArena: false,
      },
    };
  }
  return {
    ort: await loadWasmOrt(),
    sessionOptions: { executionProviders: ["wasm"], graphOptimizationLevel: "all" },
  };
}

/**
 * How the native backend runs each precision, chosen by measurement (`deno task bench-embed` reports the
 * previous setting beside it). Float32: a window at a time, arena on. On a 2-core AMD EPYC (AVX-512) a
 * window at a time ran at 53 ms where runs of 8 without the arena took 101 (fresh activation buffers on
 * every run; 52 with the arena); on this project's 2-core Intel Xeon (AVX-512, AMX) all settings run at
 * 72–79 ms. Memory decided the arena: embedding a 60-minute file peaked at 362 MiB with it against
 * 314 MiB for a 1-minute file (1.15×), and at 599 MiB without it (every run's buffers fragment the heap).
 * Int8: 8 windows a run, arena on (uint8 activations are a quarter of float32's): 14.6 ms a window on the
 * EPYC, where a window at a time without the arena took 37.4; 18.6 on the Xeon. The outputs are the same
 * bit for bit whatever the chunk (runs of 1, 4 and 8 against each other: `inference_test.ts`).
 */
export const NATIVE_RUNS: Readonly<Record<Precision, CpuRuns>> = {
  fp32: { chunk: 1, arena: true },
  int8: { chunk: 8, arena: true },
};

/**
 * How the WASM backend runs each precision (no arena option there), by measurement (`deno task bench-wasm`,
 * 2-core Xeon, ms a window on a batch of 8; the settings take turns, median of 5 rounds): float32 a window at
 * a time, 752 against 806 for the whole batch in one run (the setting before; three earlier runs of 2–3
 * rounds gave 468 / 665 / 937 against 813 / 808 / 767: the spread of this shared machine is as large as the
 * difference); int8 4 a run, 388 against 404 for 8 and 456 for 1. The outputs are the same bit for bit
 * whatever the run (`inference_test.ts`).
 */
export const WASM_RUNS: Readonly<Record<Precision, CpuRuns>> = {
  fp32: { chunk: 1, arena: false },
  int8: { chunk: 4, arena: false },
};

function wasmDescription(): string {
  return `WASM (onnxruntime-web, ${cores()} threads)`;
}

function nativeDescription(options: SessionOptions): string {
  return `native CPU (onnxruntime-node, ${options.threads ?? cores()} threads)`;
}

function cores(): number {
  return navigator.hardwareConcurrency ?? 1;
}

async function session(
  ort: OrtModule,
  model: Uint8Array,
  backend: Backend,
  options: SessionOptions,
  description: string,
): Promise<EmbeddingSession> {
  const [bins, frames] = options.input;
  const ep = backend === "webgpu"
    ? [{ name: "webgpu", device: options.gpu?.device }]
    : backend === "native"
    ? ["cpu"]
    : ["wasm"];
  const sessionOptions: Record<string, unknown> = { executionProviders: ep, graphOptimizationLevel: "all" };
  const precision = options.precision ?? "fp32";
  const runs = options.runs ??
    (backend === "native" ? NATIVE_RUNS[precision] : backend === "wasm" ? WASM_RUNS[precision] : undefined);
  if (backend === "native") {
    sessionOptions.intraOpNumThreads = options.threads ?? cores();
    sessionOptions.enableCpuMemArena = runs!.arena;
  }
  let s: OrtModule;
  try {
    s = await ort.InferenceSession.create(model, sessionOptions);
  } catch (e) {
    throw new OpenL3Error(`cannot load the model on ${backend}: ${(e as Error).message}`, { cause: e });
  }
  if (backend === "native") removeEmptyDebugLog();
  const check = (count: number) => {
    if (!Number.isInteger(count) || count < 1) {
      throw new ArgumentError(`patch count must be ≥ 1, got ${count}`);
    }
  };
  const output = async (feeds: Record<string, unknown>) => {
    const r = await s.run(feeds);
    const t = r[OUTPUT_NAME];
    const data = t.location === "gpu-buffer" ? await t.getData(true) : t.data;
    return new Float32Array(data as Float32Array);
  };
  const chunk = runs?.chunk ?? Infinity;
  if (precision === "int8") description = `int8, ${description}`;
  const result: EmbeddingSession = {
    backend,
    description,
    input: options.input,
    outputSize: options.outputSize,
    run(patches, count) {
      check(count);
      const need = count * bins * frames;
      if (patches.length < need) {
        throw new ArgumentError(`${count} patches need ${need} values, got ${patches.length}`);
      }
      const size = bins * frames;
      const feed = (from: number, n: number) => {
        const x = new ort.Tensor("float32", patches.subarray(from * size, (from + n) * size), [
          n,
          1,
          bins,
          frames,
        ]);
        return output({ [INPUT_NAME]: x });
      };
      if (count <= chunk) return feed(0, count);
      return (async () => {
        const out = new Float32Array(count * options.outputSize);
        for (let at = 0; at < count; at += chunk) {
          const n = Math.min(chunk, count - at);
          out.set(await feed(at, n), at * options.outputSize);
        }
        return out;
      })();
    },
    release: () => s.release(),
  };
  if (backend === "webgpu") {
    result.runGpuBuffer = (buffer, count) => {
      check(count);
      const x = ort.Tensor.fromGpuBuffer(buffer, { dataType: "float32", dims: [count, 1, bins, frames] });
      return output({ [INPUT_NAME]: x });
    };
  }
  return result;
}

/** Seeded patches in [-80, 0] dB for the GPU agreement check. */
export function probePatches(count: number, bins: number, frames: number, seed = 11): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count * bins * frames }, () => -80 * rng.uniform());
}

/** Lowest per-row cosine between two (count × size) outputs. */
export function worstCosine(a: Float32Array, b: Float32Array, count: number): number {
  const size = a.length / count;
  let worst = 1;
  for (let i = 0; i < count; i++) {
    const x = a.subarray(i * size, (i + 1) * size), y = b.subarray(i * size, (i + 1) * size);
    const bothZero = x.every((v) => v === 0) && y.every((v) => v === 0);
    worst = Math.min(worst, bothZero ? 1 : cosineSimilarity(x, y));
  }
  return worst;
}

async function cpuSession(
  model: Uint8Array,
  options: SessionOptions,
  why: string,
): Promise<EmbeddingSession> {
  const native = await loadNativeOrt();
  if (!(native instanceof Error)) {
    try {
      if (options.thread) return await nativeSessionInThread(model, options);
      return await session(native, model, "native", options, `${nativeDescription(options)}${why}`);
    } catch (e) {
      why += `; native failed: ${(e as Error).message}`;
    }
  } else {
    why += `; onnxruntime-node did not load: ${native.message}`;
  }
  return await session(await loadWasmOrt(), model, "wasm", options, `${wasmDescription()}${why}`);
}

/**
 * Load the model on the chosen backend. WebGPU follows the one GPU rule of
 * `gpu/device.ts` (`auto` never takes a software adapter) and is trusted only
 * after a probe batch agrees with the CPU.
 *
 * @example
 * ```ts ignore
 * import { createEmbeddingSession } from "./inference.ts";
 * const s = await createEmbeddingSession(onnxBytes, { backend: "auto", input: [256, 199], outputSize: 512 });
 * console.error(`network: ${s.description}`);
 * const embeddings = await s.run(patches, 4);
 * ```
 */
export async function createEmbeddingSession(
  model: Uint8Array,
  options: SessionOptions,
): Promise<EmbeddingSession> {
  const choice = options.backend ?? "auto";
  const row = choice === "auto" ? undefined : BACKEND_TABLE[choice];
  const problem = precisionProblem(options.precision ?? "fp32", choice);
  if (problem) throw new ArgumentError(problem);
  if (row && !row.gpu) return await row.open(model, options, null);
  // the quantized operators run on onnxruntime's CPU providers: auto picks one of them
  if (options.precision === "int8") return await cpuSession(model, options, "");
  // wgsl, webgpu, or auto: the shared device, or one of our own
  const owns = options.gpu === undefined;
  const gpu = options.gpu !== undefined ? options.gpu : await openGpu();
  const decision = gpuDecision(choice, gpu, "--backend");
  if (!decision.use || !gpu) {
    if (owns) gpu?.device.destroy();
    return await cpuSession(model, options, ` (${decision.reason})`);
  }
  const withGpu = { ...options, gpu };
  const verified = async (s: EmbeddingSession) =>
    options.skipGpuCheck ? s : await trustedOrCpu(s, model, withGpu);
  if (row) return await verified(await row.open(model, withGpu, gpu));
  // auto on a hardware GPU: every GPU engine, each checked against the CPU; the faster one that passed runs
  const candidates: EmbeddingSession[] = [];
  for (const name of BACKEND_NAMES.filter((b) => BACKEND_TABLE[b].gpu)) {
    try {
      const s = await verified(await BACKEND_TABLE[name].open(model, withGpu, gpu));
      if (isGpuBackend(s.backend)) candidates.push(s);
      else await s.release();
    } catch { /* an engine that does not load here is not a candidate */ }
  }
  if (candidates.length === 0) {
    return await cpuSession(model, options, " (no WebGPU engine passed the check)");
  }
  const timed = await Promise.all(
    candidates.map(async (s) => ({ s, ms: await probeTime(s, options.input) })),
  );
  timed.sort((a, b) => a.ms - b.ms);
  for (const t of timed.slice(1)) await t.s.release();
  const best = timed[0];
  const why = timed.map((t) => `${t.s.backend} ${t.ms.toFixed(1)} ms/window`).join(", ");
  return {
    ...best.s,
    description: `${best.s.description} (the fastest here on a probe: ${why})`,
    release: () => best.s.release(),
  };
}

/** Milliseconds per window of a session on a probe batch (after one run to warm it). */
async function probeTime(s: EmbeddingSession, input: [number, number]): Promise<number> {
  const n = 4;
  const probe = probePatches(n, input[0], input[1]);
  await s.run(probe, n);
  const t = performance.now();
  await s.run(probe, n);
  return (performance.now() - t) / n;
}

async function ortWebGpuSession(
  model: Uint8Array,
  options: SessionOptions,
  gpu: GpuContext,
): Promise<EmbeddingSession> {
  return await session(
    await loadWebGpuOrt(),
    model,
    "webgpu",
    options,
    `WebGPU (onnxruntime-web) on ${gpu.description}`,
  );
}

/** This project's WGSL engine (`wgsl_network.ts`) on the device. */
async function wgslSession(
  model: Uint8Array,
  options: SessionOptions,
  gpu: GpuContext,
): Promise<EmbeddingSession> {
  const { architectureFromOnnx, weightsFromOnnx } = await import("./onnx_weights.ts");
  const { WgslNetwork } = await import("./wgsl_network.ts");
  const arch = architectureFromOnnx(model);
  const net = WgslNetwork.create(gpu, weightsFromOnnx(model, arch), options.maxBatch ?? 32);
  const check = (count: number) => {
    if (!Number.isInteger(count) || count < 1) {
      throw new ArgumentError(`patch count must be ≥ 1, got ${count}`);
    }
  };
  return {
    backend: "wgsl",
    description: `WebGPU (WGSL engine) on ${gpu.description}`,
    input: options.input,
    outputSize: options.outputSize,
    gpuCapacity: net.capacity,
    run: (patches, count) => {
      check(count);
      return net.run(patches, count);
    },
    runGpuBuffer: (buffer, count) => {
      check(count);
      return net.runBuffer(buffer, count);
    },
    release: () => Promise.resolve(net.destroy()),
  };
}

/**
 * Trust, but verify: run a GPU session and the CPU on the same probe batch;
 * keep the GPU session when they agree (cosine ≥ {@linkcode GPU_AGREEMENT}
 * on every row), else release it and return a CPU session that says why.
 * (onnxruntime-web's WebGPU kernels have shipped wrong Conv results.)
 */
export async function trustedOrCpu(
  gpu: EmbeddingSession,
  model: Uint8Array,
  options: SessionOptions,
): Promise<EmbeddingSession> {
  const [bins, frames] = options.input;
  const probe = probePatches(2, bins, frames);
  const cpu = await cpuSession(model, options, "");
  let agreement: number;
  try {
    agreement = worstCosine(await gpu.run(probe, 2), await cpu.run(probe, 2), 2);
  } finally {
    await cpu.release();
  }
  if (agreement >= GPU_AGREEMENT) return gpu;
  await gpu.release();
  const why = `${gpu.description.split(" (")[0]} disagreed with the CPU on a probe batch (cosine ` +
    `${agreement.toFixed(6)} < ${GPU_AGREEMENT}), so the CPU runs instead`;
  return await cpuSession(model, options, ` (${why})`);
}

/** A backend's row: where it runs, what it is, and how its session is opened. */
interface BackendRow {
  /** Runs on WebGPU (else on the CPU). */
  gpu: boolean;
  /** What it is, in words. */
  what: string;
  /** Open a session (a GPU row is given the device). */
  open(model: Uint8Array, options: SessionOptions, gpu: GpuContext | null): Promise<EmbeddingSession>;
}

/** The backend table: adding a backend is one row here and its name in {@linkcode BACKEND_NAMES}. */
const BACKEND_TABLE: Record<Backend, BackendRow> = {
  wgsl: {
    gpu: true,
    what: "this project's WGSL engine on WebGPU",
    open: (model, options, gpu) => wgslSession(model, options, gpu!),
  },
  webgpu: {
    gpu: true,
    what: "onnxruntime-web on WebGPU",
    open: (model, options, gpu) => ortWebGpuSession(model, options, gpu!),
  },
  wasm: {
    gpu: false,
    what: "onnxruntime-web (WASM) on the CPU",
    open: async (model, options) =>
      await session(await loadWasmOrt(), model, "wasm", options, wasmDescription()),
  },
  native: {
    gpu: false,
    what: "onnxruntime-node on the CPU",
    open: async (model, options) => {
      const native = await loadNativeOrt();
      if (native instanceof Error) {
        throw new OpenL3Error(`--backend native: onnxruntime-node does not load here: ${native.message}`);
      }
      if (options.thread) return await nativeSessionInThread(model, options);
      return await session(native, model, "native", options, nativeDescription(options));
    },
  },
};

/** What each backend is, for help texts: `name: what it is`. */
export function describeBackends(): string[] {
  return BACKEND_NAMES.map((b) => `${b}: ${BACKEND_TABLE[b].what}`);
}
