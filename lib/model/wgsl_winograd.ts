/**
 * Winograd F(2×2, 3×3) in the WGSL engine, with its transforms fused into the product: one kernel reads the
 * input (channels last), forms each 2×2 output tile's 4×4 input patch and its transform Bᵀ d B into
 * workgroup memory, multiplies it with the filters transformed once on upload (U = G g Gᵀ, float64, 16 ×
 * CIN × COUT), and applies Aᵀ · A, the bias and the ReLU as it stores. 16 multiply-adds per 2×2 outputs
 * and input channel where the direct convolution does 36.
 *
 * A workgroup takes 32 tiles × 32 output channels: invocation (x, y) accumulates tile y's 16 transformed
 * positions for the 4 output channels x·4…x·4+3 (16 vec4 accumulators, indexed by constants), 4 input
 * channels per step, with the step's transformed patches and filters staged in workgroup memory (8 + 8 KiB:
 * within WebGPU's default 16 KiB).
 *
 * @module
 */

import type { ShaderSource } from "../gpu/pipeline.ts";
import { ArgumentError } from "../util/errors.ts";

/** One convolution as the GEMM kernel sees it. */
export interface ConvShape {
  /** Rows (frequency) of the input and output maps. */
  height: number;
  /** Columns (time) of the input and output maps. */
  width: number;
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** Apply ReLU in the store (every convolution but the embedding layer). */
  relu: boolean;
  /** Apply `x · a + b` to the input as it is loaded (the first BatchNormalization), else null. */
  inputAffine: [number, number] | null;
}

/** Tiles and output channels of one workgroup, and input channels per step. */
export const WINOGRAD_TILE = { tiles: 32, channels: 32, k: 4 } as const;

/** True when a convolution can take the Winograd kernel: four-channel groups in and out, no input affine. */
export function winogradEligible(c: ConvShape): boolean {
  return c.inChannels % 4 === 0 && c.outChannels % 4 === 0 && !c.inputAffine;
}

/** Workgroups for `windows` windows of a convolution's maps. */
export function winogradGroups(c: ConvShape, windows: number): [number, number] {
  const tiles = windows * Math.ceil(c.height / 2) * Math.ceil(c.width / 2);
  return [Math.ceil(tiles / WINOGRAD_TILE.tiles), Math.ceil(c.outChannels / WINOGRAD_TILE.channels)];
}

/** The fused F(2×2, 3×3) kernel of a convolution (see the module's description). */
export function winogradConvShader(c: ConvShape): ShaderSource {
  if (!winogradEligible(c)) {
    throw new ArgumentError(
      `Winograd kernel: ${c.inChannels}→${c.outChannels} is not in groups of 4 channels`,
    );
  }
  const { tiles: BT, channels: BN, k: BK } = WINOGRAD_TILE;
  const xi = Array.from({ length: 16 }, (_, i) => i);
  // Vs[(ξ · BT + tile) · (BK / 4) + c4]: the transformed patch, 4 input channels per vec4
  const product = [0, 1, 2, 3].map((lane) =>
    xi.map((x) =>
      `    a${x} += Vs[${x}u * BT + lid.y].${"xyzw"[lane]} * Us[(${x}u * BK + ${lane}u) * (BN / 4u) + lid.x];`
    ).join("\n")
  ).join("\n");
  // the load phase unrolled (a private array indexed in a loop costs llvmpipe long compilations)
  const d = (r: number, q: number) => `d${r}${q}`;
  const loadPatch = [
    ...[0, 1, 2, 3].flatMap((r) =>
      [0, 1, 2, 3].map((q) =>
        `      let ${d(r, q)} = select(vec4<f32>(0.0), px(lw, ly + ${r}, lx + ${q}, c), ok);`
      )
    ),
    // Bᵀ d, row by row
    ...[0, 1, 2, 3].flatMap((q) => [
      `      let p0${q} = ${d(0, q)} - ${d(2, q)};`,
      `      let p1${q} = ${d(1, q)} + ${d(2, q)};`,
      `      let p2${q} = ${d(2, q)} - ${d(1, q)};`,
      `      let p3${q} = ${d(1, q)} - ${d(3, q)};`,
    ]),
    // (Bᵀ d) B, stored at position ξ = 4i + j
    `      let at = lt;`,
    ...[0, 1, 2, 3].flatMap((i) => [
      `      Vs[${4 * i + 0}u * BT + at] = p${i}0 - p${i}2;`,
      `      Vs[${4 * i + 1}u * BT + at] = p${i}1 + p${i}2;`,
      `      Vs[${4 * i + 2}u * BT + at] = p${i}2 - p${i}1;`,
      `      Vs[${4 * i + 3}u * BT + at] = p${i}1 - p${i}3;`,
    ]),
  ].join("\n");
  const activation = (v: string) => (c.relu ? `max(${v}, vec4<f32>(0.0))` : v);
  const store = [
    ["r00 + r01 + r02 + b", 0, 0],
    ["r01 - r02 - r03 + b", 0, 1],
    ["r10 + r11 + r12 + b", 1, 0],
    ["r11 - r12 - r13 + b", 1, 1],
  ].map(([v, dy, dx]) =>
    `  if (y0 + ${dy}u < H && x0 + ${dx}u < W) {
    output[((w * H + y0 + ${dy}u) * W + x0 + ${dx}u) * (COUT / 4u) + n4] = ${activation(v as string)};
  }`
  ).join("\n");
  const code = /* wgsl */ `
// conv3x3 Winograd F(2×2,3×3), fused: ${c.height}×${c.width}, ${c.inChannels} → ${c.outChannels}${
    c.relu ? ", ReLU" : ""
  }
const H: u32 = ${c.height}u;
const W: u32 = ${c.width}u;
const TH: u32 = ${Math.ceil(c.height / 2)}u;
const TW: u32 = ${Math.ceil(c.width / 2)}u;
const CIN: u32 = ${c.inChannels}u;
const COUT: u32 = ${c.outChannels}u;
const BT: u32 = ${BT}u;
const BN: u32 = ${BN}u;
const BK: u32 = ${BK}u;

struct Params { windows: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;   // windows × H × W × CIN/4
@group(0) @binding(2) var<storage, read> U: array<vec4<f32>>;       // 16 × CIN × COUT/4 (G g Gᵀ, BN folded)
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;    // COUT/4
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>; // windows × H × W × COUT/4

var<workgroup> Vs: array<vec4<f32>, ${16 * BT}>;            // [ξ][tile]: 4 input channels
var<workgroup> Us: array<vec4<f32>, ${(16 * BK * BN) / 4}>;  // [ξ][input channel][output channels / 4]

/** Input pixel (window w, row y, column x) of 4 channels from c, zero outside the map. */
fn px(w: u32, y: i32, x: i32, c: u32) -> vec4<f32> {
  if (y < 0 || y >= i32(H) || x < 0 || x >= i32(W) || c >= CIN) { return vec4<f32>(0.0); }
  return input[(((w * H + u32(y)) * W + u32(x)) * CIN + c) / 4u];
}

@compute @workgroup_size(8, 32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let T = params.windows * TH * TW;
  let t0 = wid.x * BT;
  let n0 = wid.y * BN;
  if (t0 >= T || n0 >= COUT) { return; }
  let tile = t0 + lid.y;
  let n4 = (n0 / 4u) + lid.x;
  let live = tile < T && n4 < COUT / 4u;
  // the patch this invocation transforms in the load phase (the first BT invocations), one tile each
  let lt = lid.y * 8u + lid.x;
  let ltile = t0 + lt;
  let lw = ltile / (TH * TW);
  let lr = ltile % (TH * TW);
  let ly = i32(lr / TW) * 2 - 1;
  let lx = i32(lr % TW) * 2 - 1;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
  var a8 = vec4<f32>(0.0); var a9 = vec4<f32>(0.0); var a10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0);
  var a12 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var a14 = vec4<f32>(0.0); var a15 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < CIN; k0 += BK) {
    if (lt < BT) {
      // Bᵀ d B of a 4×4 patch, 4 channels at once (zero past the last tile)
      let ok = ltile < T;
      let c = k0;
${loadPatch}
    }
    // the step's filters: 16 × BK × BN values, two vec4 per invocation
    for (var e = lt; e < 16u * BK * (BN / 4u); e += 256u) {
      let x = e / (BK * (BN / 4u));
      let lane = (e / (BN / 4u)) % BK;
      let m4 = n0 / 4u + e % (BN / 4u);
      let ok = k0 + lane < CIN && m4 < COUT / 4u;
      Us[e] = select(vec4<f32>(0.0), U[((x * CIN + k0 + lane) * COUT) / 4u + m4], ok);
    }
    workgroupBarrier();
    if (live) {
${product}
    }
    workgroupBarrier();
  }
  if (!live) { return; }
  // Aᵀ M A, bias, ReLU; the tile's outputs inside the map
  let r00 = a0 + a4 + a8; let r01 = a1 + a5 + a9; let r02 = a2 + a6 + a10; let r03 = a3 + a7 + a11;
  let r10 = a4 - a8 - a12; let r11 = a5 - a9 - a13; let r12 = a6 - a10 - a14; let r13 = a7 - a11 - a15;
  let b = bias[n4];
  let w = tile / (TH * TW);
  let rr = tile % (TH * TW);
  let y0 = (rr / TW) * 2u;
  let x0 = (rr % TW) * 2u;
${store}
}
`;
  const key = `${c.height}x${c.width}:${c.inChannels}>${c.outChannels}:${c.relu ? 1 : 0}:wino2s`;
  const name = `conv3x3 ${c.height}×${c.width} ${c.inChannels}→${c.outChannels}${
    c.relu ? " relu" : ""
  } winograd F(2×2)`;
  return { name, cacheKey: `conv:${key}`, code };
}
