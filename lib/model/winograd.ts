/**
 * Winograd's minimal filtering for the network's 3×3 'same' convolutions
 * (Lavin & Gray 2016): F(2×2, 3×3) needs 16 multiplications per 2×2 outputs
 * and input channel where the direct form needs 36 (2.25× fewer), F(4×4, 3×3)
 * 36 per 4×4 (4× fewer), at the price of transforms and of rounding error
 * that grows with the tile.
 *
 * `Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A` for each tile `d` of the input (m + 2
 * square, overlapping by 2) and filter `g`; summed over input channels in the
 * transformed domain, one matrix product per position of the (m + 2)² tile.
 *
 * {@linkcode winogradConvOnnx} writes that as ONNX operators onnxruntime runs
 * (a depthwise Conv for Bᵀ d B, a batched MatMul, a depthwise ConvTranspose
 * for Aᵀ · A) — measured per layer by `bench/winograd_bench.ts`.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import type { OnnxNode, OnnxTensor } from "./onnx_proto.ts";

/** A Winograd transform F(m×m, 3×3). */
export interface WinogradTransform {
  /** Output tile side m. */
  m: number;
  /** Input tile side m + 2. */
  t: number;
  /** Bᵀ (t × t): the input transform. */
  bt: number[][];
  /** G (t × 3): the filter transform. */
  g: number[][];
  /** Aᵀ (m × t): the output transform. */
  at: number[][];
}

/** F(2×2, 3×3) and F(4×4, 3×3), with Lavin & Gray's interpolation points (0, ±1 and 0, ±1, ±2). */
export const WINOGRAD: Record<2 | 4, WinogradTransform> = {
  2: {
    m: 2,
    t: 4,
    bt: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    g: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    at: [[1, 1, 1, 0], [0, 1, -1, -1]],
  },
  4: {
    m: 4,
    t: 6,
    bt: [
      [4, 0, -5, 0, 1, 0],
      [0, -4, -4, 1, 1, 0],
      [0, 4, -4, -1, 1, 0],
      [0, -2, -1, 2, 1, 0],
      [0, 2, -1, -2, 1, 0],
      [0, 4, 0, -5, 0, 1],
    ],
    g: [
      [1 / 4, 0, 0],
      [-1 / 6, -1 / 6, -1 / 6],
      [-1 / 6, 1 / 6, -1 / 6],
      [1 / 24, 1 / 12, 1 / 6],
      [1 / 24, -1 / 12, 1 / 6],
      [0, 0, 1],
    ],
    at: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
  },
};

/**
 * One tile the Winograd way, in float64: the m × m outputs of a 3×3 correlation (no flip, as Conv) of a
 * (m + 2)² tile.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WINOGRAD, winogradTile } from "./winograd.ts";
 * // the 2×2 'valid' correlation of a 4×4 tile, by hand and the Winograd way
 * const d = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]];
 * const g = [[1, 0, -1], [2, 1, 0], [0, 0, 3]];
 * const direct = [0, 1].map((y) =>
 *   [0, 1].map((x) => [0, 1, 2].reduce((s, r) => s + [0, 1, 2].reduce((t, c) => t + d[y + r][x + c] * g[r][c], 0), 0))
 * );
 * const w = winogradTile(WINOGRAD[2], d, g);
 * for (const y of [0, 1]) for (const x of [0, 1]) assert.ok(Math.abs(w[y][x] - direct[y][x]) < 1e-12);
 * ```
 */
export function winogradTile(f: WinogradTransform, d: number[][], g: number[][]): number[][] {
  const mul = (a: number[][], b: number[][]) =>
    a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
  const tr = (a: number[][]) => a[0].map((_, j) => a.map((row) => row[j]));
  const u = mul(mul(f.g, g), tr(f.g));
  const v = mul(mul(f.bt, d), tr(f.bt));
  const prod = u.map((row, i) => row.map((x, j) => x * v[i][j]));
  return mul(mul(f.at, prod), tr(f.at));
}

/**
 * The transformed filters U = G g Gᵀ of a convolution, computed in float64 and stored as float32 in the
 * layout its product reads: from an ONNX kernel (`oihw`: outC, inC, 3, 3) as (t², outC, inC), for the batched
 * MatMul of {@linkcode winogradConvOnnx}; from a Keras kernel (`hwio`: 3, 3, inC, outC) as (t², inC, outC),
 * for the WGSL engine's kernel.
 */
export function winogradFilters(
  f: WinogradTransform,
  kernel: Float32Array,
  inC: number,
  outC: number,
  layout: "oihw" | "hwio" = "oihw",
): Float32Array {
  if (kernel.length !== outC * inC * 9) {
    throw new ArgumentError(
      `a 3×3 kernel of ${inC}→${outC} has ${outC * inC * 9} values, got ${kernel.length}`,
    );
  }
  const hwio = layout === "hwio";
  const t = f.t, u = new Float32Array(t * t * outC * inC);
  const g = new Float64Array(9), gg = new Float64Array(t * 3);
  for (let k = 0; k < outC; k++) {
    for (let c = 0; c < inC; c++) {
      for (let tap = 0; tap < 9; tap++) {
        g[tap] = kernel[hwio ? (tap * inC + c) * outC + k : (k * inC + c) * 9 + tap];
      }
      for (let i = 0; i < t; i++) {
        for (let s = 0; s < 3; s++) {
          gg[i * 3 + s] = f.g[i][0] * g[s] + f.g[i][1] * g[3 + s] + f.g[i][2] * g[6 + s];
        }
      }
      for (let i = 0; i < t; i++) {
        for (let j = 0; j < t; j++) {
          const v = gg[i * 3] * f.g[j][0] + gg[i * 3 + 1] * f.g[j][1] + gg[i * 3 + 2] * f.g[j][2];
          const x = i * t + j;
          u[hwio ? (x * inC + c) * outC + k : (x * outC + k) * inC + c] = v;
        }
      }
    }
  }
  return u;
}

/** Options of {@linkcode winogradConvOnnx}. */
export interface WinogradConvOptions {
  /** The transform: F(2×2) or F(4×4). */
  tile: 2 | 4;
  /** The input value's name (N, inC, height, width). */
  input: string;
  /** The output value's name (N, outC, height, width). */
  output: string;
  /** Prefix of every node and initializer name. */
  prefix: string;
  /** Input channels. */
  inC: number;
  /** Output channels. */
  outC: number;
  /** The maps' height. */
  height: number;
  /** The maps' width. */
  width: number;
  /** The kernel, OIHW (outC, inC, 3, 3). */
  kernel: Float32Array;
  /** The bias (outC). */
  bias: Float32Array;
}

/**
 * A 3×3 'same' convolution (stride 1, pads 1) as Winograd in ONNX operators: the input transform as a
 * depthwise Conv (kernels Bᵀ·B, stride m), a Reshape/Transpose to (t², inC, N·tiles), one batched MatMul
 * with the transformed filters (t², outC, inC), back to (N, outC·t², tiles), and the output transform with
 * the bias as a depthwise ConvTranspose (kernels Aᵀ·A, stride m) cropped to the map.
 */
export function winogradConvOnnx(o: WinogradConvOptions): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const f = WINOGRAD[o.tile];
  const { m, t } = f, X = t * t;
  const th = Math.ceil(o.height / m), tw = Math.ceil(o.width / m);
  const p = (s: string) => `${o.prefix}.${s}`;
  const inKernels = new Float32Array(o.inC * X * t * t);
  for (let c = 0; c < o.inC; c++) {
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < t; j++) {
        for (let a = 0; a < t; a++) {
          for (let b = 0; b < t; b++) {
            inKernels[((c * X + i * t + j) * t + a) * t + b] = f.bt[i][a] * f.bt[j][b];
          }
        }
      }
    }
  }
  const outKernels = new Float32Array(o.outC * X * m * m);
  for (let k = 0; k < o.outC; k++) {
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < t; j++) {
        for (let a = 0; a < m; a++) {
          for (let b = 0; b < m; b++) {
            outKernels[((k * X + i * t + j) * m + a) * m + b] = f.at[a][i] * f.at[b][j];
          }
        }
      }
    }
  }
  const shape = (name: string, v: number[]): OnnxTensor => ({
    name: p(name),
    dims: [v.length],
    data: BigInt64Array.from(v.map(BigInt)),
  });
  const initializers: OnnxTensor[] = [
    { name: p("input_transform"), dims: [o.inC * X, 1, t, t], data: inKernels },
    { name: p("filters"), dims: [X, o.outC, o.inC], data: winogradFilters(f, o.kernel, o.inC, o.outC) },
    { name: p("output_transform"), dims: [o.outC * X, 1, m, m], data: outKernels },
    { name: p("bias"), dims: [o.outC], data: o.bias },
    shape("s1", [0, o.inC, X, -1]),
    shape("s2", [X, o.inC, -1]),
    shape("s3", [X, o.outC, -1, th * tw]),
    shape("s4", [-1, o.outC * X, th, tw]),
  ];
  const nodes: OnnxNode[] = [
    {
      op: "Conv",
      name: p("v"),
      inputs: [o.input, p("input_transform")],
      outputs: [p("v")],
      attributes: {
        kernel_shape: [t, t],
        strides: [m, m],
        group: o.inC,
        pads: [1, 1, m * th + 1 - o.height, m * tw + 1 - o.width],
      },
    },
    { op: "Reshape", name: p("v1"), inputs: [p("v"), p("s1")], outputs: [p("v1")] },
    {
      op: "Transpose",
      name: p("v2"),
      inputs: [p("v1")],
      outputs: [p("v2")],
      attributes: { perm: [2, 1, 0, 3] },
    },
    { op: "Reshape", name: p("v3"), inputs: [p("v2"), p("s2")], outputs: [p("v3")] },
    { op: "MatMul", name: p("m"), inputs: [p("filters"), p("v3")], outputs: [p("m")] },
    { op: "Reshape", name: p("m1"), inputs: [p("m"), p("s3")], outputs: [p("m1")] },
    {
      op: "Transpose",
      name: p("m2"),
      inputs: [p("m1")],
      outputs: [p("m2")],
      attributes: { perm: [2, 1, 0, 3] },
    },
    { op: "Reshape", name: p("m3"), inputs: [p("m2"), p("s4")], outputs: [p("m3")] },
    {
      op: "ConvTranspose",
      name: p("y"),
      inputs: [p("m3"), p("output_transform"), p("bias")],
      outputs: [o.output],
      attributes: {
        kernel_shape: [m, m],
        strides: [m, m],
        group: o.outC,
        pads: [0, 0, m * th - o.height, m * tw - o.width],
      },
    },
  ];
  return { nodes, initializers };
}
