/**
 * Double-float ("float-float") arithmetic in WGSL: a value is an unevaluated
 * sum hi + lo of two f32, about 48 significant bits (relative error ~1e-14),
 * for the kernels that need more than float32 — the spectrogram frontend's
 * quiet bins sit at 1e-6 to 1e-8 of a window's peak, below float32's
 * rounding of the signal.
 *
 * The error-free transformations are written so that compiler liberties
 * cannot break them:
 * - products are split by masking mantissa bits (not Veltkamp's
 *   multiply-and-subtract), so every partial product is exact and a fused
 *   multiply-add, if the compiler makes one, changes nothing;
 * - sums use Knuth's two-sum, whose algebra a compiler that treats floats as
 *   reals would cancel (`(a + b) - a` → `b`: Mesa's shader compiler does, so
 *   plain two-sums are inexact on llvmpipe). Each intermediate is therefore
 *   "laundered" through a `select` on a runtime uniform the compiler cannot
 *   see through, which costs one instruction and blocks the rewrite.
 *
 * {@linkcode verifyDoubleFloat} runs the transformations on the device
 * against exact CPU results before any kernel relies on them.
 *
 * @module
 */

import { getPipeline, type ShaderSource } from "./pipeline.ts";

/**
 * WGSL functions on `vec2<f32>` double-floats (x = hi, y = lo) and `vec4<f32>`
 * complex ones (re, im).
 *
 * @param never A WGSL boolean expression that is false at run time but that
 *   the compiler cannot evaluate, e.g. `params.windows == 0xffffffffu` on a
 *   uniform: it guards the sums against algebraic rewriting.
 */
export function doubleFloatWgsl(never: string): string {
  return /* wgsl */ `
// ---- double-float arithmetic: value = x + y, |y| <= ulp(x) / 2 ----
// an opaque copy: the compiler cannot know it equals x, so it cannot cancel x's algebra
fn df_launder(x: f32) -> f32 {
  return select(x, 0.0, ${never});
}
fn df_two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = df_launder(a + b);
  let bb = df_launder(s - a);
  return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}
fn df_quick_two_sum(a: f32, b: f32) -> vec2<f32> { // |a| >= |b|
  let s = df_launder(a + b);
  return vec2<f32>(s, b - (s - a));
}
// 12 + 12 significant bits by masking: every product of halves is exact in f32
fn df_split(a: f32) -> vec2<f32> {
  let hi = bitcast<f32>(bitcast<u32>(a) & 0xFFFFF000u);
  return vec2<f32>(hi, a - hi);
}
fn df_two_prod(a: f32, b: f32) -> vec2<f32> {
  let p = a * b;
  let sa = df_split(a);
  let sb = df_split(b);
  let e = ((sa.x * sb.x - p) + sa.x * sb.y + sa.y * sb.x) + sa.y * sb.y;
  return vec2<f32>(p, e);
}
fn df_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = df_two_sum(a.x, b.x);
  let t = df_two_sum(a.y, b.y);
  let u = df_quick_two_sum(s.x, s.y + t.x);
  return df_quick_two_sum(u.x, u.y + t.y);
}
fn df_sub(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  return df_add(a, -b);
}
fn df_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let p = df_two_prod(a.x, b.x);
  return df_quick_two_sum(p.x, p.y + (a.x * b.y + a.y * b.x));
}
fn df_mul_f(a: vec2<f32>, b: f32) -> vec2<f32> {
  let p = df_two_prod(a.x, b);
  return df_quick_two_sum(p.x, p.y + a.y * b);
}
fn df_sqrt(a: vec2<f32>) -> vec2<f32> {
  if (a.x <= 0.0) { return vec2<f32>(0.0, 0.0); }
  let s = sqrt(a.x);
  let r = df_sub(a, df_two_prod(s, s)); // one Newton step: s + (a - s²) / 2s
  return df_quick_two_sum(s, r.x / (2.0 * s));
}
// complex double-floats: (re.x, re.y, im.x, im.y)
fn cdf_add(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(df_add(a.xy, b.xy), df_add(a.zw, b.zw));
}
fn cdf_sub(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(df_sub(a.xy, b.xy), df_sub(a.zw, b.zw));
}
fn cdf_mul(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let re = df_sub(df_mul(a.xy, b.xy), df_mul(a.zw, b.zw));
  let im = df_add(df_mul(a.xy, b.zw), df_mul(a.zw, b.xy));
  return vec4<f32>(re, im);
}
fn cdf_abs(a: vec4<f32>) -> vec2<f32> {
  return df_sqrt(df_add(df_mul(a.xy, a.xy), df_mul(a.zw, a.zw)));
}
`;
}

/**
 * Split float64 values into (hi, lo) float32 pairs, interleaved: hi is the
 * float32 nearest the value, lo the float32 nearest what is left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toDoubleFloat } from "./double_float.ts";
 * const x = 1 / 3;
 * const [hi, lo] = toDoubleFloat([x]);
 * assert.ok(Math.abs(hi + lo - x) < 1e-15 && hi !== x);
 * ```
 */
export function toDoubleFloat(
  values: ArrayLike<number>,
  out?: Float32Array<ArrayBuffer>,
): Float32Array<ArrayBuffer> {
  const pairs = out ?? new Float32Array(2 * values.length);
  for (let i = 0; i < values.length; i++) {
    const hi = Math.fround(values[i]);
    pairs[2 * i] = hi;
    pairs[2 * i + 1] = values[i] - hi;
  }
  return pairs;
}

/** The self-test kernel: two-sum, two-product, multiply and square root on pairs of inputs. */
export function doubleFloatCheckShader(): ShaderSource {
  const code = /* wgsl */ `
${doubleFloatWgsl("params.count == 0xffffffffu")}
struct Params { count: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inputs: array<vec4<f32>>;   // (a, b) as double-floats
@group(0) @binding(2) var<storage, read_write> outputs: array<vec4<f32>>; // per input: 4 results

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= params.count) { return; }
  let a = inputs[i].xy;
  let b = inputs[i].zw;
  outputs[4u * i] = vec4<f32>(df_two_sum(a.x, b.x), df_two_prod(a.x, b.x));
  outputs[4u * i + 1u] = vec4<f32>(df_mul(a, b), df_add(a, b));
  outputs[4u * i + 2u] = vec4<f32>(df_sqrt(vec2<f32>(abs(a.x), a.y * sign(a.x))), df_sub(a, b));
  outputs[4u * i + 3u] = vec4<f32>(0.0);
}
`;
  return { name: "double_float_check", cacheKey: "dfcheck", code };
}

/** What {@linkcode verifyDoubleFloat} found. */
export interface DoubleFloatCheck {
  /** True when every result is exact (error-free transformations) or within 1e-13 (operations). */
  ok: boolean;
  /** Largest relative error of the double-float operations. */
  worst: number;
  /** The first failure, in words. */
  problem?: string;
}

const checked = new WeakMap<GPUDevice, Promise<DoubleFloatCheck>>();

/**
 * Run the double-float arithmetic on the device against exact CPU results
 * (two-sum and two-product must be error-free; multiply, add, subtract and
 * square root within 1e-13 relative). Done once per device.
 */
export function verifyDoubleFloat(device: GPUDevice): Promise<DoubleFloatCheck> {
  let p = checked.get(device);
  if (!p) checked.set(device, p = runCheck(device));
  return p;
}

function testValues(): number[][] {
  // awkward bit patterns, signs, magnitudes from 1e-9 to 1e3, values near 1
  const out: number[][] = [];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 256; i++) {
    const mag = (k: number) => 10 ** (-9 + 12 * k);
    const a = (rand() < 0.5 ? -1 : 1) * mag(rand()) * (1 + rand());
    const b = (rand() < 0.5 ? -1 : 1) * mag(rand()) * (1 + rand());
    out.push([a, b]);
  }
  out.push([1 + 2 ** -23, 1 - 2 ** -24], [0.1, 0.2], [1 / 3, 3], [16777215, 1 / 16777215], [
    2 ** -20,
    -(2 ** -20),
  ]);
  return out;
}

async function runCheck(device: GPUDevice): Promise<DoubleFloatCheck> {
  const values = testValues();
  const n = values.length;
  const inputs = new Float32Array(4 * n);
  values.forEach(([a, b], i) => {
    inputs.set(toDoubleFloat([a]), 4 * i);
    inputs.set(toDoubleFloat([b]), 4 * i + 2);
  });
  const pipeline = getPipeline(device, doubleFloatCheckShader());
  const make = (size: number, usage: number) =>
    device.createBuffer({ label: "double_float_check", size, usage });
  const params = make(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const input = make(inputs.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const output = make(16 * 4 * n, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const staging = make(16 * 4 * n, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  try {
    device.queue.writeBuffer(params, 0, new Uint32Array([n, 0, 0, 0]));
    device.queue.writeBuffer(input, 0, inputs);
    const encoder = device.createCommandEncoder({ label: "double_float_check" });
    const pass = encoder.beginComputePass({ label: "double_float_check" });
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        label: "double_float_check",
        layout: pipeline.getBindGroupLayout(0),
        entries: [params, input, output].map((buffer, binding) => ({ binding, resource: { buffer } })),
      }),
    );
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(output, 0, staging, 0, 16 * 4 * n);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const r = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    let worst = 0;
    const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-30);
    for (let i = 0; i < n; i++) {
      const ah = inputs[4 * i], al = inputs[4 * i + 1], bh = inputs[4 * i + 2], bl = inputs[4 * i + 3];
      const o = r.subarray(16 * i, 16 * i + 16);
      // error-free: hi + lo equals the exact float64 result (24 + 24 bits fit in 53)
      if (o[0] + o[1] !== ah + bh) {
        return { ok: false, worst, problem: `two-sum of ${ah} and ${bh} is not exact` };
      }
      if (o[2] + o[3] !== ah * bh) {
        return { ok: false, worst, problem: `two-product of ${ah} and ${bh} is not exact` };
      }
      const a = ah + al, b = bh + bl;
      const scale = Math.max(Math.abs(a), Math.abs(b));
      const errors: [string, number][] = [
        ["multiply", rel(o[4] + o[5], a * b)],
        ["add", Math.abs(o[6] + o[7] - (a + b)) / scale],
        ["square root", rel(o[8] + o[9], Math.sqrt(Math.abs(a)))],
        ["subtract", Math.abs(o[10] + o[11] - (a - b)) / scale],
      ];
      for (const [op, e] of errors) {
        if (!(e <= 1e-13)) {
          return {
            ok: false,
            worst: e,
            problem: `double-float ${op} of ${a} and ${b} is off by ${e.toExponential(2)} relative`,
          };
        }
        worst = Math.max(worst, e);
      }
    }
    return { ok: true, worst };
  } finally {
    for (const b of [params, input, output, staging]) b.destroy();
  }
}
