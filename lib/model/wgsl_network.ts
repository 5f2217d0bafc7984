/**
 * The OpenL3 network in hand-written WGSL: the whole forward pass on the
 * GPU, fed by the WGSL frontend's buffer without a round trip.
 *
 * - Every BatchNormalization after a convolution is folded into that
 *   convolution's weights and bias at load (in float64, then rounded once);
 *   the first one (on the 1-channel input, before a zero-padded convolution,
 *   where folding would be wrong at the borders) is applied to the input as
 *   it is loaded.
 * - Each 3×3 'same' convolution is an implicit GEMM over channels-last
 *   activations: M = windows × rows × columns output pixels, N = output
 *   channels, K = 9 × input channels, with no im2col buffer. A workgroup of
 *   16 × 16 invocations computes a 64 × 64 tile, K in steps of 16 through
 *   workgroup memory, each invocation a 4 × 4 register block; bias and ReLU
 *   are fused into the store. Keras' HWIO kernel flattened is the GEMM's B
 *   matrix as it is.
 * - 2×2 max pools and the embedding max pool are small kernels of their own;
 *   the embedding comes out already flattened in Keras' (row, column,
 *   channel) order.
 *
 * Shader builders return `{name, cacheKey, code}`; sizes of a layer are
 * constants, the window count a uniform; every invocation checks its bounds;
 * pipelines are cached per device and labelled.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import type { GpuContext } from "../gpu/device.ts";
import { getPipeline, type ShaderSource } from "../gpu/pipeline.ts";
import { type Architecture, BN_EPSILON, networkSteps } from "./architecture.ts";
import { type ConvShape, winogradConvShader, winogradEligible, winogradGroups } from "./wgsl_winograd.ts";

export type { ConvShape } from "./wgsl_winograd.ts";
import { WINOGRAD, winogradFilters } from "./winograd.ts";
import type { BnWeights, ConvWeights, OpenL3Weights } from "./onnx_graph.ts";

/** Tile of the convolution GEMM: rows (pixels) × columns (channels) per workgroup, K per step. */
export const GEMM_TILE = { m: 64, n: 64, k: 16 } as const;

/**
 * The implicit-GEMM 3×3 'same' convolution (bias and ReLU fused), channels last: the vec4 form where
 * both channel counts are multiples of 4 (every layer of the published networks but the first), the
 * scalar form otherwise.
 */
export function convShader(c: ConvShape): ShaderSource {
  return c.inChannels % 4 === 0 && c.outChannels % 4 === 0 && !c.inputAffine
    ? vec4ConvShader(c)
    : scalarConvShader(c);
}

/** The WGSL constants of a convolution: its shape, the GEMM's K and the tile sizes. */
function convConstants(c: ConvShape): string {
  const { m: BM, n: BN, k: BK } = GEMM_TILE;
  return `const H: u32 = ${c.height}u;
const W: u32 = ${c.width}u;
const CIN: u32 = ${c.inChannels}u;
const COUT: u32 = ${c.outChannels}u;
const K: u32 = ${9 * c.inChannels}u;
const BM: u32 = ${BM}u;
const BN: u32 = ${BN}u;
const BK: u32 = ${BK}u;`;
}

/** Both conv forms: the tiles in workgroup memory, and the entry point up to the flat invocation index t. */
const TILE_ENTRY = `var<workgroup> As: array<vec4<f32>, ${(GEMM_TILE.k * GEMM_TILE.m) / 4}>; // [k][m/4]
var<workgroup> Bs: array<vec4<f32>, ${(GEMM_TILE.k * GEMM_TILE.n) / 4}>; // [k][n/4]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = params.windows * H * W;
  let m0 = wid.x * BM;
  let n0 = wid.y * BN;
  if (m0 >= M || n0 >= COUT) { return; }
  let t = lid.y * 16u + lid.x;`;

/** Both conv forms: the pixel (window, row, column) and the 4 of K one invocation gathers into A. */
const GATHER_PIXEL = `  // the pixel this invocation gathers for, fixed for the whole K loop
  let am = t / 4u;
  let ak = (t % 4u) * 4u;
  let m = m0 + am;
  let wdw = m / (H * W);
  let pix = m % (H * W);
  let y = i32(pix / W);
  let xx = i32(pix % W);`;

/** Both conv forms: one BK slice of the tile product, 4 × 4 outputs per invocation, between barriers. */
const TILE_PRODUCT = `    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let a = As[kk * (BM / 4u) + lid.y];
      let b = Bs[kk * (BN / 4u) + lid.x];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();`;

/** The vec4 form: four channels per load and store, tiles in workgroup memory as vec4. */
function vec4ConvShader(c: ConvShape): ShaderSource {
  const code = /* wgsl */ `
// conv3x3 (vec4): ${c.height}×${c.width}, ${c.inChannels} → ${c.outChannels}${c.relu ? ", ReLU" : ""}
${convConstants(c)}

struct Params { windows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;   // windows × H × W × CIN/4
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;  // K × COUT/4 (Keras HWIO, BN folded)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;    // COUT/4
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>; // windows × H × W × COUT/4

${TILE_ENTRY}
${GATHER_PIXEL}
  let bk = t / 16u;
  let bn4 = t % 16u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < K; k0 += BK) {
    // A: four consecutive input channels of one tap of one pixel, as one vec4
    let k = k0 + ak;
    var x = vec4<f32>(0.0);
    if (m < M && k < K) {
      let tap = k / CIN;
      let ci = k % CIN;
      let yy = y + i32(tap / 3u) - 1;
      let xq = xx + i32(tap % 3u) - 1;
      if (yy >= 0 && yy < i32(H) && xq >= 0 && xq < i32(W)) {
        x = input[(((wdw * H + u32(yy)) * W + u32(xq)) * CIN + ci) / 4u];
      }
    }
    As[(ak + 0u) * (BM / 4u) + am / 4u][am % 4u] = x.x;
    As[(ak + 1u) * (BM / 4u) + am / 4u][am % 4u] = x.y;
    As[(ak + 2u) * (BM / 4u) + am / 4u][am % 4u] = x.z;
    As[(ak + 3u) * (BM / 4u) + am / 4u][am % 4u] = x.w;
    // B: four consecutive output channels of one row of K, as one vec4
    let kb = k0 + bk;
    let n = n0 + bn4 * 4u;
    Bs[bk * (BN / 4u) + bn4] = select(vec4<f32>(0.0), weight[(kb * COUT + n) / 4u], kb < K && n < COUT);
${TILE_PRODUCT}
  }
  let n = n0 + lid.x * 4u;
  if (n >= COUT) { return; }
  let b = bias[n / 4u];${
    [0, 1, 2, 3].map((j) => `
  if (m0 + lid.y * 4u + ${j}u < M) {
    output[((m0 + lid.y * 4u + ${j}u) * COUT + n) / 4u] = ${
      c.relu ? `max(acc[${j}] + b, vec4<f32>(0.0))` : `acc[${j}] + b`
    };
  }`).join("")
  }
}
`;
  const key = `${c.height}x${c.width}:${c.inChannels}>${c.outChannels}:${c.relu ? 1 : 0}:v4`;
  const name = `conv3x3 ${c.height}×${c.width} ${c.inChannels}→${c.outChannels}${c.relu ? " relu" : ""} vec4`;
  return { name, cacheKey: `conv:${key}`, code };
}

/** The general form: any channel counts (the first layer has one input channel). */
function scalarConvShader(c: ConvShape): ShaderSource {
  const affine = c.inputAffine ? `x = x * ${f32(c.inputAffine[0])} + ${f32(c.inputAffine[1])};` : "";
  // the 4×4 results stored with constant indices (dynamic indexing of a private array costs llvmpipe
  // tens of seconds of compilation)
  const epilogue = [0, 1, 2, 3].map((j) =>
    [0, 1, 2, 3].map((i) => `
  if (m0 + lid.y * 4u + ${j}u < M && n0 + lid.x * 4u + ${i}u < COUT) {
    let v = acc[${j}].${"xyzw"[i]} + bias[n0 + lid.x * 4u + ${i}u];
    output[(m0 + lid.y * 4u + ${j}u) * COUT + n0 + lid.x * 4u + ${i}u] = ${c.relu ? "max(v, 0.0)" : "v"};
  }`).join("")
  ).join("");
  const code = /* wgsl */ `
// conv3x3: ${c.height}×${c.width}, ${c.inChannels} → ${c.outChannels}${c.relu ? ", ReLU" : ""}${
    c.inputAffine ? ", input affine" : ""
  }
${convConstants(c)}

struct Params { windows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;   // windows × H × W × CIN
@group(0) @binding(2) var<storage, read> weight: array<f32>;  // K × COUT (Keras HWIO, BN folded)
@group(0) @binding(3) var<storage, read> bias: array<f32>;    // COUT
@group(0) @binding(4) var<storage, read_write> output: array<f32>; // windows × H × W × COUT

${TILE_ENTRY}
${GATHER_PIXEL}
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < K; k0 += BK) {
    // A: 64 pixels × 16 of K, 4 consecutive k per invocation (gathered from the 3×3 neighbourhood)
    for (var j = 0u; j < 4u; j++) {
      let k = k0 + ak + j;
      var x = 0.0;
      if (m < M && k < K) {
        let tap = k / CIN;
        let ci = k % CIN;
        let yy = y + i32(tap / 3u) - 1;
        let xq = xx + i32(tap % 3u) - 1;
        if (yy >= 0 && yy < i32(H) && xq >= 0 && xq < i32(W)) {
          x = input[((wdw * H + u32(yy)) * W + u32(xq)) * CIN + ci];
          ${affine}
        }
      }
      As[((ak + j) * BM + am) / 4u][am % 4u] = x;
    }
    // B: 16 of K × 64 channels, 4 consecutive channels per invocation
    let bk = t / 16u;
    let bn = (t % 16u) * 4u;
    let kb = k0 + bk;
    var wv = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
      if (kb < K && n0 + bn + j < COUT) { wv[j] = weight[kb * COUT + n0 + bn + j]; }
    }
    Bs[(bk * BN + bn) / 4u] = wv;
${TILE_PRODUCT}
  }
${epilogue}
}
`;
  const key = `${c.height}x${c.width}:${c.inChannels}>${c.outChannels}:${c.relu ? 1 : 0}:${
    c.inputAffine?.join(",") ?? ""
  }`;
  const name = `conv3x3 ${c.height}×${c.width} ${c.inChannels}→${c.outChannels}${c.relu ? " relu" : ""}${
    c.inputAffine ? " +input BN" : ""
  }`;
  return { name, cacheKey: `conv:${key}`, code };
}

/** A max pool of `ph × pw` (stride = size, valid), channels last; `flatten` keeps Keras' order. */
export function maxPoolShader(
  height: number,
  width: number,
  channels: number,
  ph: number,
  pw: number,
): ShaderSource {
  const ho = Math.floor(height / ph), wo = Math.floor(width / pw);
  const code = /* wgsl */ `
// maxpool ${ph}×${pw}: ${height}×${width}×${channels} → ${ho}×${wo}×${channels}
const H: u32 = ${height}u;
const W: u32 = ${width}u;
const C: u32 = ${channels}u;
const HO: u32 = ${ho}u;
const WO: u32 = ${wo}u;

struct Params { windows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 256u;
  if (i >= params.windows * HO * WO * C) { return; }
  let c = i % C;
  let q = (i / C) % WO;
  let r = (i / (C * WO)) % HO;
  let n = i / (C * WO * HO);
  var best = -3.4028234e38;
  for (var dy = 0u; dy < ${ph}u; dy++) {
    for (var dx = 0u; dx < ${pw}u; dx++) {
      best = max(best, input[((n * H + r * ${ph}u + dy) * W + q * ${pw}u + dx) * C + c]);
    }
  }
  output[i] = best;
}
`;
  const key = `${height}x${width}x${channels}/${ph}x${pw}`;
  return { name: `maxpool ${height}×${width}×${channels} /${ph}×${pw}`, cacheKey: `maxpool:${key}`, code };
}

function f32(v: number): string {
  const x = Math.fround(v);
  return Number.isInteger(x) ? `${x}.0` : `${x}`;
}

/** One stage of the forward pass. */
interface Stage {
  pipeline: GPUComputePipeline;
  /** Floating-point operations and bytes moved per window (for profiles). */
  flops: number;
  bytes: number;
  /** Workgroups for a given window count. */
  groups: (windows: number) => [number, number];
  /** The stage's bind group for an input buffer (cached per buffer). */
  bind: (input: GPUBuffer) => GPUBindGroup;
}

/** Fold a BatchNormalization that follows a convolution into its weights and bias (float64, rounded once). */
export function foldBatchNorm(conv: ConvWeights, bn: BnWeights | null, outC: number): ConvWeights {
  if (!bn) return conv;
  const kernel = new Float32Array(conv.kernel.length), bias = new Float32Array(outC);
  const scale = Float64Array.from(
    { length: outC },
    (_, c) => bn.gamma[c] / Math.sqrt(bn.variance[c] + BN_EPSILON),
  );
  for (let k = 0; k < conv.kernel.length; k++) kernel[k] = conv.kernel[k] * scale[k % outC];
  for (let c = 0; c < outC; c++) bias[c] = (conv.bias[c] - bn.mean[c]) * scale[c] + bn.beta[c];
  return { kind: "conv", kernel, bias };
}

/** Options of {@linkcode WgslNetwork.create}. */
export interface WgslNetworkOptions {
  /**
   * Every convolution whose channels come in fours as fused Winograd F(2×2, 3×3) (`wgsl_winograd.ts`):
   * 2.25× fewer multiplications. Off until measured faster on a real GPU.
   * @default {false}
   */
  winograd?: boolean;
}

/**
 * The network on one device: weights uploaded once, activation buffers
 * allocated once for the largest batch it takes, pipelines cached.
 */
export class WgslNetwork {
  /** The network's layers and sizes. */
  readonly arch: Architecture;
  /** Most windows one {@linkcode run} takes (from the device's buffer limits and the batch asked for). */
  readonly capacity: number;
  readonly #device: GPUDevice;
  readonly #params: GPUBuffer;
  readonly #buffers: GPUBuffer[] = [];
  readonly #ping: GPUBuffer;
  readonly #pong: GPUBuffer;
  readonly #out: GPUBuffer;
  readonly #inputBuffer: GPUBuffer;
  readonly #stages: Stage[];

  private constructor(gpu: GpuContext, w: OpenL3Weights, maxWindows: number, options: WgslNetworkOptions) {
    const device = gpu.device;
    this.#device = device;
    const arch = w.arch;
    this.arch = arch;
    const [H0, W0] = arch.input;
    // the largest activation: the first block's maps, widths[0] channels at full size
    const perWindow = H0 * W0 * Math.max(arch.widths[0], 1) * 4;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    // one dispatch dimension holds at most maxComputeWorkgroupsPerDimension tiles of 64 pixels
    const byDispatch = Math.floor((device.limits.maxComputeWorkgroupsPerDimension * GEMM_TILE.m) / (H0 * W0));
    this.capacity = Math.max(1, Math.min(maxWindows, Math.floor(limit / perWindow), byDispatch));
    const cap = this.capacity;
    const make = (label: string, size: number, usage: number) => {
      const b = device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
      this.#buffers.push(b);
      return b;
    };
    const S = GPUBufferUsage.STORAGE, C = GPUBufferUsage.COPY_DST;
    this.#params = make("openl3.params", 16, GPUBufferUsage.UNIFORM | C);
    this.#ping = make("openl3.activations.a", cap * perWindow, S);
    this.#pong = make("openl3.activations.b", cap * perWindow, S);
    this.#inputBuffer = make("openl3.input", cap * H0 * W0 * 4, S | C);
    this.#out = make("openl3.embedding", cap * arch.outputSize * 4, S | GPUBufferUsage.COPY_SRC);
    const upload = (label: string, data: Float32Array) => {
      const b = make(label, data.byteLength, S | C);
      device.queue.writeBuffer(b, 0, data as Float32Array<ArrayBuffer>);
      return b;
    };
    const bn0 = w.layers[0] as BnWeights;
    const a0 = bn0.gamma[0] / Math.sqrt(bn0.variance[0] + BN_EPSILON);
    const affine: [number, number] = [a0, bn0.beta[0] - bn0.mean[0] * a0];
    const stages: Stage[] = [];
    const bindCache = (
      pipeline: GPUComputePipeline,
      resources: (input: GPUBuffer) => GPUBuffer[],
      label: string,
    ) => {
      const cache = new Map<GPUBuffer, GPUBindGroup>();
      return (input: GPUBuffer) => {
        let g = cache.get(input);
        if (!g) {
          g = device.createBindGroup({
            label,
            layout: pipeline.getBindGroupLayout(0),
            entries: resources(input).map((buffer, binding) => ({ binding, resource: { buffer } })),
          });
          cache.set(input, g);
        }
        return g;
      };
    };
    let [h, wd] = [H0, W0];
    let c = 1;
    // activations alternate between the two buffers; the first stage reads the input it is given
    let src: GPUBuffer | null = null; // null: the run's input
    let dst = this.#ping;
    const other = (b: GPUBuffer) => (b === this.#ping ? this.#pong : this.#ping);
    for (const step of networkSteps(arch)) {
      if (step.op === "bn") continue; // the input's batch normalisation is the first convolution's affine
      if (step.op === "conv") {
        const conv = w.layers[step.layer] as ConvWeights;
        const bn = step.bn === null ? null : w.layers[step.bn] as BnWeights;
        const folded = foldBatchNorm(conv, bn, step.outChannels);
        const shape: ConvShape = {
          height: h,
          width: wd,
          inChannels: c,
          outChannels: step.outChannels,
          relu: step.relu,
          inputAffine: step.first ? affine : null,
        };
        // Winograd F(2×2) where asked for and the channels come in fours (every layer but the first)
        const wino = options.winograd === true && winogradEligible(shape);
        const pipeline = getPipeline(device, wino ? winogradConvShader(shape) : convShader(shape));
        const li = step.layer + 1;
        const weights = wino
          ? upload(
            `openl3.conv${li}.winograd`,
            winogradFilters(WINOGRAD[2], folded.kernel, c, step.outChannels, "hwio"),
          )
          : upload(`openl3.conv${li}.weight`, folded.kernel);
        const bias = upload(`openl3.conv${li}.bias`, folded.bias);
        const from = src, to = dst, hh = h, ww = wd, cout = step.outChannels;
        stages.push({
          pipeline,
          flops: 2 * hh * ww * cout * 9 * c, // the direct convolution's count, so that profiles compare
          bytes: 4 * (hh * ww * (c + cout)) + 4 * (wino ? 16 : 9) * c * cout,
          groups: wino
            ? (n) => winogradGroups(shape, n)
            : (n) => [Math.ceil((n * hh * ww) / GEMM_TILE.m), Math.ceil(cout / GEMM_TILE.n)],
          bind: bindCache(
            pipeline,
            (input) => [this.#params, from ?? input, weights, bias, to],
            pipeline.label,
          ),
        });
        src = dst;
        dst = other(dst);
        c = step.outChannels;
        continue;
      }
      const [ph, pw] = step.size;
      const pipeline = getPipeline(device, maxPoolShader(h, wd, c, ph, pw));
      const ho = Math.floor(h / ph), wo = Math.floor(wd / pw);
      const from = src!, to = step.embedding ? this.#out : dst, size = ho * wo * c;
      stages.push({
        pipeline,
        flops: h * wd * c,
        bytes: 4 * (h * wd * c + size),
        groups: (n) => dispatch2d(Math.ceil((n * size) / 256)),
        bind: bindCache(pipeline, () => [this.#params, from, to], pipeline.label),
      });
      [h, wd] = [ho, wo];
      src = to;
      dst = other(to === this.#out ? from : to);
    }
    this.#stages = stages;
  }

  /**
   * Upload the weights (BatchNormalization folded) and build the pipelines.
   *
   * @param maxWindows Most windows per run (fewer when the device's buffer limits say so).
   */
  static create(
    gpu: GpuContext,
    weights: OpenL3Weights,
    maxWindows: number,
    options: WgslNetworkOptions = {},
  ): WgslNetwork {
    return new WgslNetwork(gpu, weights, maxWindows, options);
  }

  /** Embed `count` patches held in a GPU buffer (N, 1, bins, frames) of this device; reads back the embeddings. */
  async runBuffer(input: GPUBuffer, count: number): Promise<Float32Array> {
    if (!Number.isInteger(count) || count < 1 || count > this.capacity) {
      throw new OpenL3Error(`WgslNetwork: count must be 1..${this.capacity}, got ${count}`);
    }
    const device = this.#device;
    device.queue.writeBuffer(this.#params, 0, new Uint32Array([count, 0, 0, 0]));
    const encoder = device.createCommandEncoder({ label: "openl3.forward" });
    for (const stage of this.#stages) {
      const pass = encoder.beginComputePass({ label: stage.pipeline.label });
      pass.setPipeline(stage.pipeline);
      pass.setBindGroup(0, stage.bind(input));
      pass.dispatchWorkgroups(...stage.groups(count));
      pass.end();
    }
    const bytes = count * this.arch.outputSize * 4;
    const staging = device.createBuffer({
      label: "openl3.readback",
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.copyBufferToBuffer(this.#out, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ);
      return new Float32Array(staging.getMappedRange().slice(0));
    } finally {
      staging.destroy();
    }
  }

  /** Embed `count` patches held on the CPU (N, 1, bins, frames), in chunks of the capacity. */
  async run(patches: Float32Array, count: number): Promise<Float32Array> {
    const [bins, frames] = this.arch.input;
    const size = bins * frames;
    const out = new Float32Array(count * this.arch.outputSize);
    for (let at = 0; at < count; at += this.capacity) {
      const n = Math.min(this.capacity, count - at);
      this.#device.queue.writeBuffer(
        this.#inputBuffer,
        0,
        patches.buffer as ArrayBuffer,
        patches.byteOffset + at * size * 4,
        n * size * 4,
      );
      out.set(await this.runBuffer(this.#inputBuffer, n), at * this.arch.outputSize);
    }
    return out;
  }

  /**
   * Run `count` patches kernel by kernel and time each: with timestamp queries where the device has
   * them, else submitting each kernel and waiting for it.
   */
  async profile(patches: Float32Array, count: number): Promise<KernelProfile[]> {
    const [bins, frames] = this.arch.input;
    const device = this.#device;
    device.queue.writeBuffer(
      this.#inputBuffer,
      0,
      patches.buffer as ArrayBuffer,
      patches.byteOffset,
      count * bins * frames * 4,
    );
    device.queue.writeBuffer(this.#params, 0, new Uint32Array([count, 0, 0, 0]));
    const rows: KernelProfile[] = [];
    const timestamps = device.features.has("timestamp-query");
    const n = this.#stages.length;
    const querySet = timestamps ? device.createQuerySet({ type: "timestamp", count: 2 * n }) : undefined;
    const encoder = timestamps ? device.createCommandEncoder({ label: "openl3.profile" }) : undefined;
    for (let i = 0; i < n; i++) {
      const stage = this.#stages[i];
      const enc = encoder ?? device.createCommandEncoder({ label: "openl3.profile" });
      const pass = enc.beginComputePass({
        label: stage.pipeline.label,
        timestampWrites: querySet
          ? { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 }
          : undefined,
      });
      pass.setPipeline(stage.pipeline);
      pass.setBindGroup(0, stage.bind(this.#inputBuffer));
      pass.dispatchWorkgroups(...stage.groups(count));
      pass.end();
      const row = {
        label: stage.pipeline.label,
        ms: 0,
        flops: stage.flops * count,
        bytes: stage.bytes * count,
      };
      if (!encoder) {
        const t = performance.now();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        row.ms = performance.now() - t;
      }
      rows.push({ ...row, timer: timestamps ? "timestamp-query" : "per-kernel submit" });
    }
    if (encoder && querySet) {
      const resolve = device.createBuffer({
        size: 16 * n,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      const read = device.createBuffer({
        size: 16 * n,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
      });
      encoder.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
      device.queue.submit([encoder.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const ns = new BigInt64Array(read.getMappedRange().slice(0));
      rows.forEach((r, i) => (r.ms = Number(ns[2 * i + 1] - ns[2 * i]) / 1e6));
      read.destroy();
      resolve.destroy();
      querySet.destroy();
    }
    return rows;
  }

  /** Release every buffer (pipelines stay cached with the device). */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers.length = 0;
  }
}

/** One kernel's share of a forward pass. */
export interface KernelProfile {
  /** The kernel (its pipeline's label). */
  label: string;
  /** Milliseconds. */
  ms: number;
  /** Floating-point operations. */
  flops: number;
  /** Bytes read and written (activations and weights, once each). */
  bytes: number;
  /** How it was timed. */
  timer: string;
}

/** Workgroups for `n` in (x, y), x at most 65 535 (the usual per-dimension limit). */
function dispatch2d(n: number): [number, number] {
  return n <= 65535 ? [Math.max(1, n), 1] : [65535, Math.ceil(n / 65535)];
}
