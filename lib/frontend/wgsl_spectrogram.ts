/**
 * The spectrogram frontends as hand-written WGSL compute kernels, batched:
 * many windows per dispatch, written straight into the network's input
 * layout (N, 1, bins, frames) in a GPU buffer that stays on the GPU.
 *
 * The arithmetic is double-float (`gpu/double_float.ts`, ~1e-14 relative)
 * from the float64 signal to the mel sums: the quiet half of a patch sits at
 * 1e-6 to 1e-8 of the window's peak magnitude, where float32's rounding of
 * the signal and of the FFT alone is 1–10 dB off. Only the logarithm is
 * float32, on a sum already exact to far below what a dB value shows.
 *
 * Three kernels, each from a shader builder returning `{name, cacheKey, code}`:
 * 1. `stft_magnitude`: one workgroup per (frame, window). A real FFT of n_fft
 *    points as a complex radix-2 FFT of n_fft/2 points in workgroup memory
 *    (even samples in the real part, odd in the imaginary), then the split
 *    step; periodic Hann window and reflect padding on the fly; twiddles and
 *    window come from float64 tables split into double-float pairs (WGSL's
 *    sin/cos are only good to 2^-11).
 * 2. `mel_db`: the sparse mel product (each band touches only its nonzero
 *    bins; librosa's float32 weights are exact as they are) and
 *    `10·log10(max(S, 1e-10))`, one invocation per (band, frame).
 * 3. `db_floor`: a parallel max reduction per window in workgroup memory,
 *    then the 80 dB floor and subtraction of the maximum, in place.
 *
 * Fixed sizes (n_fft, hop, bins, frames) are shader constants; the number of
 * windows is a uniform. Pipelines are cached per device by cache key.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { getPipeline, type ShaderSource } from "../gpu/pipeline.ts";
import { doubleFloatWgsl, toDoubleFloat } from "../gpu/double_float.ts";
import { WINDOW_SAMPLES } from "../audio/frame.ts";
import { realFftTwiddles } from "./fft.ts";
import {
  AMIN,
  frontendFilters,
  type FrontendSpec,
  frontendSpec,
  hannCache,
  type InputRepr,
  TOP_DB,
} from "./spec.ts";

const FFT_WORKGROUP = 256;
const ELEMENTWISE_WORKGROUP = 64;
const REDUCE_WORKGROUP = 256;

/** 10 / log2(10): 10·log10(x) = log2(x) · this. */
const DB_PER_LOG2 = 10 * Math.log10(2);

/** Kernel 1: |STFT| of every frame of every window, frame-major per window, in double-float. */
export function stftMagnitudeShader(spec: FrontendSpec): ShaderSource {
  const n = spec.nFft, m = n / 2, log2m = Math.log2(m);
  const wg = Math.min(FFT_WORKGROUP, m / 2);
  const pad = spec.center ? n / 2 : 0;
  const code = /* wgsl */ `
// stft_magnitude (double-float): n_fft=${n}, hop=${spec.hop}, frames=${spec.frames}, pad=${pad}
${doubleFloatWgsl("params.windows == 0xffffffffu")}
const N_FFT: u32 = ${n}u;
const M: u32 = ${m}u;            // complex FFT size
const LOG2M: u32 = ${log2m}u;
const HOP: u32 = ${spec.hop}u;
const FRAMES: u32 = ${spec.frames}u;
const NBINS: u32 = ${m + 1}u;
const PAD: i32 = ${pad};
const WIN: i32 = ${WINDOW_SAMPLES};
const WG: u32 = ${wg}u;

struct Params { windows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> samples: array<vec2<f32>>; // windows × 48000, double-float
@group(0) @binding(2) var<storage, read> hann: array<vec2<f32>>;    // N_FFT, double-float
@group(0) @binding(3) var<storage, read> twiddle: array<vec4<f32>>; // M + 1: exp(-2πik/N_FFT), complex double-float
@group(0) @binding(4) var<storage, read_write> mag: array<vec2<f32>>; // windows × FRAMES × NBINS, double-float

var<workgroup> buf: array<vec4<f32>, M>;

fn sample_at(base: u32, p: i32) -> vec2<f32> {
  // np.pad(mode="reflect") around the window, without repeating the edge sample
  var q = p;
  if (q < 0) { q = -q; }
  if (q >= WIN) { q = 2 * (WIN - 1) - q; }
  return samples[base + u32(q)];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let frame = wid.x;
  let window = wid.y;
  if (frame >= FRAMES || window >= params.windows) { return; }
  let base = window * u32(WIN);
  let start = i32(frame * HOP) - PAD;
  // load z[k] = x[2k] + i·x[2k+1] (windowed) in bit-reversed order
  for (var k = lid; k < M; k += WG) {
    let a = df_mul(sample_at(base, start + i32(2u * k)), hann[2u * k]);
    let b = df_mul(sample_at(base, start + i32(2u * k + 1u)), hann[2u * k + 1u]);
    buf[reverseBits(k) >> (32u - LOG2M)] = vec4<f32>(a, b);
  }
  workgroupBarrier();
  // radix-2 decimation-in-time stages
  for (var s = 1u; s <= LOG2M; s++) {
    let half = 1u << (s - 1u);
    for (var t = lid; t < M / 2u; t += WG) {
      let k = t & (half - 1u);
      let a = ((t >> (s - 1u)) << s) + k;
      let b = a + half;
      let zb = cdf_mul(buf[b], twiddle[2u * k * (M >> s)]); // exp(-2πi k / 2^s)
      let za = buf[a];
      buf[a] = cdf_add(za, zb);
      buf[b] = cdf_sub(za, zb);
    }
    workgroupBarrier();
  }
  // split: X[f] = E[f] + W^f O[f], E = (Z[f] + conj Z[M-f]) / 2, O = (Z[f] - conj Z[M-f]) / 2i
  let out = (window * FRAMES + frame) * NBINS;
  for (var f = lid; f <= M; f += WG) {
    let zf = buf[f % M];
    let zr = buf[(M - f) % M];
    let zc = vec4<f32>(zr.xy, -zr.zw);
    let e = 0.5 * cdf_add(zf, zc); // halving is exact
    let d = cdf_sub(zf, zc);
    let o = vec4<f32>(0.5 * d.zw, -0.5 * d.xy);
    mag[out + f] = cdf_abs(cdf_add(e, cdf_mul(o, twiddle[f])));
  }
}
`;
  return {
    name: `stft_magnitude_df_${n}_${spec.hop}_${spec.frames}_${pad}`,
    cacheKey: `stftdf:${n}:${spec.hop}:${spec.frames}:${pad}:${wg}`,
    code,
  };
}

/** Kernel 2: sparse filter product (double-float) and decibels, written as (N, 1, bins, frames). */
export function melDbShader(spec: FrontendSpec): ShaderSource {
  const nbins = spec.nFft / 2 + 1;
  const code = /* wgsl */ `
// mel_db (double-float sums): bands=${spec.bins}, frames=${spec.frames}, fft bins=${nbins}
${doubleFloatWgsl("params.windows == 0xffffffffu")}
const BANDS: u32 = ${spec.bins}u;
const FRAMES: u32 = ${spec.frames}u;
const NBINS: u32 = ${nbins}u;
const AMIN: f32 = ${AMIN};
const DB_PER_LOG2: f32 = ${DB_PER_LOG2};

struct Params { windows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> mag: array<vec2<f32>>;  // windows × FRAMES × NBINS, double-float
@group(0) @binding(2) var<storage, read> rows: array<u32>;       // per band: first bin, bin count, weight offset
@group(0) @binding(3) var<storage, read> weights: array<f32>;    // float32, as librosa stores them
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // windows × BANDS × FRAMES

@compute @workgroup_size(${ELEMENTWISE_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let window = gid.y;
  if (i >= BANDS * FRAMES || window >= params.windows) { return; }
  let band = i / FRAMES;
  let frame = i % FRAMES;
  let first = rows[3u * band];
  let count = rows[3u * band + 1u];
  let offset = rows[3u * band + 2u];
  let src = (window * FRAMES + frame) * NBINS + first;
  var acc = vec2<f32>(0.0, 0.0);
  for (var k = 0u; k < count; k++) {
    acc = df_add(acc, df_mul_f(mag[src + k], weights[offset + k]));
  }
  // the sum is good to ~1e-14: its float32 rounding is 2.6e-7 dB, far inside what the patch needs
  out[(window * BANDS + band) * FRAMES + frame] = log2(max(acc.x + acc.y, AMIN)) * DB_PER_LOG2;
}
`;
  return { name: `mel_db_df_${spec.repr}`, cacheKey: `meldbdf:${spec.repr}`, code };
}

/** Kernel 3: per-window max (parallel reduction), 80 dB floor, subtract the max. In place. */
export function dbFloorShader(spec: FrontendSpec): ShaderSource {
  const size = spec.bins * spec.frames;
  const code = /* wgsl */ `
// db_floor: ${size} values per window
const SIZE: u32 = ${size}u;
const WG: u32 = ${REDUCE_WORKGROUP}u;
const TOP_DB: f32 = ${TOP_DB}.0;

struct Params { windows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> data: array<f32>; // windows × SIZE

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let window = wid.x;
  if (window >= params.windows) { return; }
  let base = window * SIZE;
  var m = -3.0e38;
  for (var i = lid; i < SIZE; i += WG) { m = max(m, data[base + i]); }
  partial[lid] = m;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] = max(partial[lid], partial[lid + stride]); }
    workgroupBarrier();
  }
  let top = partial[0];
  let floor = top - TOP_DB;
  for (var i = lid; i < SIZE; i += WG) {
    data[base + i] = max(data[base + i], floor) - top;
  }
}
`;
  return { name: `db_floor_${size}`, cacheKey: `dbfloor:${size}`, code };
}

/** Options of {@linkcode GpuFrontend.create}. */
export interface GpuFrontendOptions {
  /** Most windows one {@linkcode GpuFrontend.run} takes; default 32 (lowered to fit the device's limits). */
  maxWindows?: number;
}

/**
 * The batched WebGPU frontend for one input representation on one device.
 *
 * @example
 * ```ts ignore
 * import { GpuFrontend } from "./wgsl_spectrogram.ts";
 * const adapter = await navigator.gpu.requestAdapter();
 * const device = await adapter!.requestDevice();
 * const fe = GpuFrontend.create(device, "mel256", { maxWindows: 4 });
 * const out = fe.run(new Float32Array(4 * 48000), 4); // GPUBuffer (4, 1, 256, 199), still on the GPU
 * const patches = await fe.read(4);
 * fe.destroy();
 * ```
 */
export class GpuFrontend {
  /** Its shape and parameters. */
  readonly spec: FrontendSpec;
  /** Windows per call. */
  readonly capacity: number;
  /** The network input (N, 1, bins, frames), float32, usable as a storage buffer and copy source. */
  readonly output: GPUBuffer;
  readonly #device: GPUDevice;
  readonly #buffers: GPUBuffer[] = [];
  readonly #samples: GPUBuffer;
  /** The batch's samples as double-float pairs, allocated once. */
  readonly #upload: Float32Array<ArrayBuffer>;
  readonly #params: GPUBuffer;
  readonly #stages: { pipeline: GPUComputePipeline; bind: GPUBindGroup; groups: () => [number, number] }[];
  #count = 0;

  private constructor(device: GPUDevice, repr: InputRepr, maxWindows: number) {
    this.#device = device;
    this.spec = frontendSpec(repr);
    const spec = this.spec;
    const nbins = spec.nFft / 2 + 1;
    const magPerWindow = spec.frames * nbins * 8;
    const outPerWindow = spec.bins * spec.frames * 4;
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const fit = Math.floor(limit / Math.max(magPerWindow, WINDOW_SAMPLES * 8));
    this.capacity = Math.max(1, Math.min(maxWindows, fit, device.limits.maxComputeWorkgroupsPerDimension));
    const cap = this.capacity;
    const make = (label: string, size: number, usage: number) => {
      const b = device.createBuffer({ label, size: Math.max(16, size), usage });
      this.#buffers.push(b);
      return b;
    };
    const S = GPUBufferUsage.STORAGE, C = GPUBufferUsage.COPY_DST;
    this.#params = make(`${repr}.params`, 16, GPUBufferUsage.UNIFORM | C);
    this.#samples = make(`${repr}.samples`, cap * WINDOW_SAMPLES * 8, S | C);
    this.#upload = new Float32Array(cap * WINDOW_SAMPLES * 2);
    const hann = make(`${repr}.hann`, spec.nFft * 8, S | C);
    const twiddle = make(`${repr}.twiddle`, (spec.nFft / 2 + 1) * 16, S | C);
    const mag = make(`${repr}.magnitude`, cap * magPerWindow, S);
    const filters = frontendFilters(repr);
    const rows = new Uint32Array(3 * filters.rows);
    for (let b = 0; b < filters.rows; b++) {
      rows.set([filters.start[b], filters.length[b], filters.offset[b]], 3 * b);
    }
    const rowsBuf = make(`${repr}.rows`, rows.byteLength, S | C);
    const weights = make(`${repr}.weights`, filters.weights.byteLength, S | C);
    this.output = make(`${repr}.patches`, cap * outPerWindow, S | GPUBufferUsage.COPY_SRC | C);

    const q = device.queue;
    q.writeBuffer(hann, 0, toDoubleFloat(hannCache(spec.nFft)));
    const { cos, sin } = realFftTwiddles(spec.nFft);
    const tw = new Float64Array(2 * cos.length);
    cos.forEach((c: number, k: number) => tw.set([c, -sin[k]], 2 * k)); // exp(-2πik/n) as (re, im)
    q.writeBuffer(twiddle, 0, toDoubleFloat(tw));
    q.writeBuffer(rowsBuf, 0, rows);
    q.writeBuffer(weights, 0, filters.weights as Float32Array<ArrayBuffer>);

    const bind = (p: GPUComputePipeline, label: string, resources: GPUBuffer[]) =>
      device.createBindGroup({
        label,
        layout: p.getBindGroupLayout(0),
        entries: resources.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
    const stft = getPipeline(device, stftMagnitudeShader(spec));
    const melDb = getPipeline(device, melDbShader(spec));
    const floor = getPipeline(device, dbFloorShader(spec));
    this.#stages = [
      {
        pipeline: stft,
        bind: bind(stft, `${repr}.stft`, [this.#params, this.#samples, hann, twiddle, mag]),
        groups: () => [spec.frames, this.#count],
      },
      {
        pipeline: melDb,
        bind: bind(melDb, `${repr}.mel_db`, [this.#params, mag, rowsBuf, weights, this.output]),
        groups: () => [Math.ceil((spec.bins * spec.frames) / ELEMENTWISE_WORKGROUP), this.#count],
      },
      {
        pipeline: floor,
        bind: bind(floor, `${repr}.db_floor`, [this.#params, this.output]),
        groups: () => [this.#count, 1],
      },
    ];
  }

  /** Build the frontend (compiles or reuses the three pipelines). */
  static create(device: GPUDevice, repr: InputRepr, options: GpuFrontendOptions = {}): GpuFrontend {
    const maxWindows = options.maxWindows ?? 32;
    if (!Number.isInteger(maxWindows) || maxWindows < 1) {
      throw new ArgumentError(`maxWindows must be a positive integer, got ${maxWindows}`);
    }
    return new GpuFrontend(device, repr, maxWindows);
  }

  /** Floats per window in {@linkcode output}. */
  get patchSize(): number {
    return this.spec.bins * this.spec.frames;
  }

  /**
   * Compute the patches of `count` windows (window-major samples) into
   * {@linkcode output}, which stays on the GPU. Returns that buffer.
   */
  run(samples: Float32Array | Float64Array, count: number): GPUBuffer {
    if (!Number.isInteger(count) || count < 1 || count > this.capacity) {
      throw new ArgumentError(`GpuFrontend.run: count must be 1..${this.capacity}, got ${count}`);
    }
    if (samples.length < count * WINDOW_SAMPLES) {
      throw new ArgumentError(
        `GpuFrontend.run: ${count} windows need ${count * WINDOW_SAMPLES} samples, got ${samples.length}`,
      );
    }
    this.#count = count;
    const q = this.#device.queue;
    q.writeBuffer(this.#params, 0, new Uint32Array([count, 0, 0, 0]));
    const pairs = toDoubleFloat(samples.subarray(0, count * WINDOW_SAMPLES), this.#upload);
    q.writeBuffer(this.#samples, 0, pairs.buffer as ArrayBuffer, 0, count * WINDOW_SAMPLES * 8);
    const encoder = this.#device.createCommandEncoder({ label: `${this.spec.repr}.frontend` });
    for (const stage of this.#stages) {
      const pass = encoder.beginComputePass({ label: stage.pipeline.label });
      pass.setPipeline(stage.pipeline);
      pass.setBindGroup(0, stage.bind);
      pass.dispatchWorkgroups(...stage.groups());
      pass.end();
    }
    q.submit([encoder.finish()]);
    return this.output;
  }

  /** Copy the first `count` patches of {@linkcode output} back to the CPU. */
  async read(count: number = this.#count): Promise<Float32Array> {
    const bytes = count * this.patchSize * 4;
    const staging = this.#device.createBuffer({
      label: `${this.spec.repr}.readback`,
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const encoder = this.#device.createCommandEncoder({ label: "readback" });
      encoder.copyBufferToBuffer(this.output, 0, staging, 0, bytes);
      this.#device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return new Float32Array(staging.getMappedRange().slice(0));
    } finally {
      staging.destroy();
    }
  }

  /** Release every buffer (pipelines stay cached with the device). */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers.length = 0;
  }
}

/** Run a whole batch through the GPU frontend, in chunks of its capacity, and read it back. */
export async function gpuSpectrogramBatch(
  frontend: GpuFrontend,
  samples: Float32Array | Float64Array,
  count: number,
): Promise<Float32Array> {
  const out = new Float32Array(count * frontend.patchSize);
  for (let i = 0; i < count; i += frontend.capacity) {
    const n = Math.min(frontend.capacity, count - i);
    frontend.run(samples.subarray(i * WINDOW_SAMPLES, (i + n) * WINDOW_SAMPLES), n);
    out.set(await frontend.read(n), i * frontend.patchSize);
  }
  return out;
}
