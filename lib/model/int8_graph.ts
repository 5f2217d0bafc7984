/**
 * The int8 network (opt-in, `--precision int8`): the same step list as the float32 graph
 * ({@linkcode networkSteps}), lowered to onnxruntime's quantized operators.
 *
 * - Every batch normalisation that follows a convolution is folded into it in float64
 *   ({@linkcode foldBatchNorms}); the input's batch normalisation stays a float32 operator (folding it into
 *   the first convolution would be wrong at the zero-padded border).
 * - Weights: symmetric int8, one scale per output channel (max |w| / 127), zero point 0
 *   ({@linkcode quantizePerChannel}); biases int32 at the scale input × weight.
 * - Activations: uint8 with static scales from a calibration ({@linkcode Int8Calibration}). A convolution
 *   followed by ReLU gets zero point 0, so the output's saturation at 0 is the ReLU; the last convolution
 *   (no ReLU) gets an asymmetric range.
 * - The 2×2 and embedding max pools run on the quantized tensors (max commutes with a monotonic map).
 * - Convolutions listed in `floatConvs` stay float32; by default none does. The first reads the normalised
 *   dB patch, quantized asymmetrically (its zero point is the real 0 of the zero padding). Kept in float32
 *   it agreed no better with the float network and made the whole network 3.6× slower (onnxruntime runs a
 *   one-channel float Conv in its blocked layout and reorders its 64-channel output for the quantized
 *   layers: 73.0 against 20.1 ms a window at batch 8, `bench/int8.ts`).
 * - Two encodings of the same arithmetic: `qlinear` (QLinearConv, uint8 MaxPool) and `qdq`
 *   (QuantizeLinear/DequantizeLinear around float operators, which onnxruntime fuses).
 *
 * The graph also serves calibration: {@linkcode buildFoldedOnnx} writes the folded network in float32 with
 * every convolution's output as an extra graph output (`tap_0` … `tap_7`, and its input `tap_input`).
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { type Architecture, BN_EPSILON, networkSteps } from "./architecture.ts";
import {
  type BnWeights,
  checkWeights,
  type ConvWeights,
  encodeNetworkModel,
  INPUT_NAME,
  type OpenL3Weights,
  OUTPUT_NAME,
} from "./onnx_graph.ts";
import type { OnnxNode, OnnxTensor, OnnxValue } from "./onnx_proto.ts";

/** The two ONNX encodings of the quantized arithmetic. */
export const INT8_FORMS = ["qlinear", "qdq"] as const;
/** One of {@linkcode INT8_FORMS}. */
export type Int8Form = typeof INT8_FORMS[number];

/** A convolution with the batch normalisation after it folded in (float64, ONNX OIHW). */
export interface FoldedConv {
  /** Kernel (out, in, 3, 3). */
  weight: Float64Array;
  /** Bias (out). */
  bias: Float64Array;
  /** Input channels. */
  inChannels: number;
  /** Output channels. */
  outChannels: number;
  /** A ReLU follows it. */
  relu: boolean;
}

/** The network with its batch normalisations folded: the input's normalisation, then the 8 convolutions. */
export interface FoldedNetwork {
  /** The architecture. */
  arch: Architecture;
  /** The input's batch normalisation (kept as an operator). */
  input: BnWeights;
  /** The convolutions, in order. */
  convs: FoldedConv[];
}

/**
 * Fold each convolution's batch normalisation into it, in float64:
 * w' = w·k, b' = (b − mean)·k + beta, with k = gamma / √(variance + ε).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openl3Architecture } from "./architecture.ts";
 * import { randomWeights } from "./random_weights.ts";
 * import { foldBatchNorms } from "./int8_graph.ts";
 * const f = foldBatchNorms(randomWeights(openl3Architecture("mel128", 512, [2, 2, 4, 4]), 1));
 * assert.equal(f.convs.length, 8);
 * assert.equal(f.convs[7].relu, false);
 * ```
 */
export function foldBatchNorms(w: OpenL3Weights): FoldedNetwork {
  checkWeights(w);
  let input: BnWeights | undefined;
  const convs: FoldedConv[] = [];
  for (const step of networkSteps(w.arch)) {
    if (step.op === "bn") input = w.layers[step.layer] as BnWeights;
    if (step.op !== "conv") continue;
    const conv = w.layers[step.layer] as ConvWeights;
    const { inChannels: inC, outChannels: outC } = step;
    const bn = step.bn === null ? null : w.layers[step.bn] as BnWeights;
    const weight = new Float64Array(outC * inC * 9), bias = new Float64Array(outC);
    for (let o = 0; o < outC; o++) {
      const k = bn ? bn.gamma[o] / Math.sqrt(bn.variance[o] + BN_EPSILON) : 1;
      bias[o] = bn ? (conv.bias[o] - bn.mean[o]) * k + bn.beta[o] : conv.bias[o];
      for (let i = 0; i < inC; i++) {
        for (let t = 0; t < 9; t++) {
          // Keras HWIO (h, w, in, out) → OIHW (out, in, h, w)
          weight[(o * inC + i) * 9 + t] = conv.kernel[(t * inC + i) * outC + o] * k;
        }
      }
    }
    convs.push({ weight, bias, inChannels: inC, outChannels: outC, relu: step.relu });
  }
  return { arch: w.arch, input: input!, convs };
}

/** Symmetric per-output-channel int8 weights. */
export interface QuantizedWeights {
  /** Values in [-127, 127], the layout of the input. */
  values: Int8Array;
  /** One scale per output channel: w ≈ values × scale. */
  scales: Float64Array;
}

/**
 * Quantize a kernel whose leading dimension is the output channel: scale = max |w| / 127 per channel
 * (1 for an all-zero channel), values rounded half away from zero and clamped to ±127.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizePerChannel } from "./int8_graph.ts";
 * const q = quantizePerChannel(Float64Array.from([1.27, -0.635, 0, 0.01, 0, -0.02]), 2);
 * assert.deepEqual([...q.values], [127, -64, 0, 64, 0, -127]);
 * assert.deepEqual([...q.scales], [0.01, 0.02 / 127]);
 * ```
 */
export function quantizePerChannel(weight: Float64Array, outChannels: number): QuantizedWeights {
  if (!Number.isInteger(outChannels) || outChannels < 1 || weight.length % outChannels !== 0) {
    throw new ArgumentError(`${weight.length} weights do not split into ${outChannels} output channels`);
  }
  const per = weight.length / outChannels;
  const values = new Int8Array(weight.length), scales = new Float64Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let max = 0;
    for (let j = 0; j < per; j++) max = Math.max(max, Math.abs(weight[o * per + j]));
    const s = max > 0 ? max / 127 : 1;
    scales[o] = s;
    for (let j = 0; j < per; j++) {
      const v = weight[o * per + j] / s;
      values[o * per + j] = Math.max(-127, Math.min(127, Math.sign(v) * Math.round(Math.abs(v))));
    }
  }
  return { values, scales };
}

/** How the activation ranges were chosen. */
export type CalibrationMethod = "minmax" | "percentile";

/** Static activation ranges of one network: one per convolution output (after its ReLU, before pooling). */
export interface Int8Calibration {
  /** Version of the calibration set and method ({@linkcode CALIBRATION_VERSION} when made here). */
  version: number;
  /** Min/max, or a percentile of the values of each output. */
  method: CalibrationMethod;
  /** The percentile, for `percentile`. */
  percentile?: number;
  /** Windows the ranges were measured on. */
  windows: number;
  /** The range of the normalised input patch (what the first convolution reads). */
  input: { min: number; max: number };
  /** Per convolution: the range its output is quantized to (min 0 where a ReLU follows). */
  ranges: { min: number; max: number }[];
}

/** Version of the calibration set and its method; a change makes every cached int8 model be rebuilt. */
export const CALIBRATION_VERSION = 1;

/** Options of {@linkcode buildInt8Onnx}. */
export interface Int8GraphOptions {
  /**
   * The encoding of the quantized operators.
   * @default {"qlinear"}
   */
  form?: Int8Form;
  /**
   * Convolutions (0 … 7) kept in float32.
   * @default {[]}
   */
  floatConvs?: number[];
  /** Extra key/value pairs stored in the model. */
  metadata?: Record<string, string>;
}

/** A uint8 tensor's quantization: real = (q − zeroPoint) × scale. */
export interface Uint8Quant {
  /** Scale. */
  scale: number;
  /** Zero point, 0 … 255. */
  zeroPoint: number;
}

/** The uint8 quantization of a range (it always holds 0, so that zero padding is exact). */
export function uint8Quant(range: { min: number; max: number }): Uint8Quant {
  const min = Math.min(0, range.min), max = Math.max(0, range.max);
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new ArgumentError(`activation range must be finite, got [${range.min}, ${range.max}]`);
  }
  const scale = max > min ? (max - min) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-min / scale))) };
}

/** A value in the graph being written: float32, or uint8 with its quantization. */
export interface GraphValue {
  /** Its name in the graph. */
  name: string;
  /** Its quantization; null for a float32 value. */
  q: Uint8Quant | null;
}

/**
 * The operators of a quantized graph, one method each, in either encoding: what {@linkcode buildInt8Onnx}
 * walks the network with, and what the closed-form tests build single layers with.
 */
export class Int8GraphWriter {
  /** Nodes, in order. */
  readonly nodes: OnnxNode[] = [];
  /** Initializers. */
  readonly inits: OnnxTensor[] = [];
  /** The encoding. */
  readonly form: Int8Form;
  #index = 0;

  /**
   * A writer of an empty graph.
   * @param form The encoding.
   */
  constructor(form: Int8Form) {
    this.form = form;
  }

  #next(op: string): string {
    return `${op.toLowerCase()}_${this.#index++}`;
  }

  #init(name: string, dims: number[], data: OnnxTensor["data"]): string {
    this.inits.push({ name, dims, data });
    return name;
  }

  #node(op: string, inputs: string[], attributes?: OnnxNode["attributes"], name = this.#next(op)): string {
    this.nodes.push({ op, name, inputs, outputs: [name], attributes });
    return name;
  }

  #quantParams(base: string, q: Uint8Quant): [string, string] {
    return [
      this.#init(`${base}.scale`, [], Float32Array.of(q.scale)),
      this.#init(`${base}.zero_point`, [], Uint8Array.of(q.zeroPoint)),
    ];
  }

  /** Float → uint8. */
  quantize(x: GraphValue, q: Uint8Quant): GraphValue {
    const base = this.#next("QuantizeLinear");
    return {
      name: this.#node("QuantizeLinear", [x.name, ...this.#quantParams(base, q)], undefined, base),
      q,
    };
  }

  /** uint8 → float (a float value is returned as it is). */
  dequantize(x: GraphValue): GraphValue {
    if (!x.q) return x;
    const base = this.#next("DequantizeLinear");
    return {
      name: this.#node("DequantizeLinear", [x.name, ...this.#quantParams(base, x.q)], undefined, base),
      q: null,
    };
  }

  /** A float32 batch normalisation. */
  batchNorm(x: GraphValue, l: BnWeights): GraphValue {
    const base = this.#next("BatchNormalization");
    const inputs = [this.dequantize(x).name];
    for (const [k, data] of [["scale", l.gamma], ["bias", l.beta], ["mean", l.mean], ["var", l.variance]]) {
      inputs.push(this.#init(`${base}.${k}`, [data.length], data as Float32Array));
    }
    return {
      name: this.#node("BatchNormalization", inputs, { epsilon: { f: BN_EPSILON } }, base),
      q: null,
    };
  }

  /** A float32 3×3 'same' convolution (and its ReLU). */
  floatConv(x: GraphValue, c: FoldedConv): GraphValue {
    const base = this.#next("Conv");
    const w = this.#init(`${base}.weight`, [c.outChannels, c.inChannels, 3, 3], Float32Array.from(c.weight));
    const b = this.#init(`${base}.bias`, [c.outChannels], Float32Array.from(c.bias));
    let y = this.#node("Conv", [this.dequantize(x).name, w, b], CONV_ATTRIBUTES, base);
    if (c.relu) y = this.#node("Relu", [y]);
    return { name: y, q: null };
  }

  /**
   * A quantized 3×3 'same' convolution: `x` (quantized here if it is float) times the int8 weights, the
   * int32 bias added, requantized to `out` (whose saturation at its zero point is the ReLU when one follows).
   */
  quantConv(
    x: GraphValue,
    c: FoldedConv,
    w: QuantizedWeights,
    input: Uint8Quant,
    out: Uint8Quant,
  ): GraphValue {
    if (c.relu && out.zeroPoint !== 0) {
      throw new ArgumentError(`a convolution followed by ReLU needs zero point 0, got ${out.zeroPoint}`);
    }
    const xq = x.q && x.q.scale === input.scale && x.q.zeroPoint === input.zeroPoint
      ? x
      : this.quantize(this.dequantize(x), input);
    const base = this.#next("Conv");
    const dims = [c.outChannels, c.inChannels, 3, 3];
    const wq = this.#init(`${base}.weight_q`, dims, w.values);
    const ws = this.#init(`${base}.weight_scale`, [c.outChannels], Float32Array.from(w.scales));
    const wz = this.#init(`${base}.weight_zero_point`, [c.outChannels], new Int8Array(c.outChannels));
    const bias = this.#init(`${base}.bias_q`, [c.outChannels], quantizedBias(c.bias, input.scale, w.scales));
    if (this.form === "qlinear") {
      const [xs, xz] = this.#quantParams(`${base}.x`, input);
      const [ys, yz] = this.#quantParams(`${base}.y`, out);
      const y = this.#node("QLinearConv", [xq.name, xs, xz, wq, ws, wz, ys, yz, bias], CONV_ATTRIBUTES, base);
      return { name: y, q: out };
    }
    const xf = this.dequantize(xq).name;
    const wf = this.#node("DequantizeLinear", [wq, ws, wz], { axis: 0 });
    const bs = this.#init(
      `${base}.bias_scale`,
      [c.outChannels],
      Float32Array.from(w.scales, (s) => Math.fround(input.scale) * Math.fround(s)),
    );
    const bf = this.#node("DequantizeLinear", [bias, bs], { axis: 0 });
    let y = this.#node("Conv", [xf, wf, bf], CONV_ATTRIBUTES, base);
    if (c.relu) y = this.#node("Relu", [y]);
    return this.quantize({ name: y, q: null }, out);
  }

  /** Max pool (kernel = stride), on the quantized values when `x` is quantized. */
  maxPool(x: GraphValue, size: [number, number]): GraphValue {
    const attributes = { kernel_shape: size, strides: size };
    if (!x.q || this.form === "qlinear") return { name: this.#node("MaxPool", [x.name], attributes), q: x.q };
    const y = this.#node("MaxPool", [this.dequantize(x).name], attributes);
    return this.quantize({ name: y, q: null }, x.q);
  }

  /** Any other operator on a float value. */
  op(x: GraphValue, op: string, attributes?: OnnxNode["attributes"], name?: string): GraphValue {
    return { name: this.#node(op, [this.dequantize(x).name], attributes, name), q: null };
  }
}

const CONV_ATTRIBUTES = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] };

/** A float bias at scale input × weight (per channel), rounded to int32. */
function quantizedBias(bias: Float64Array, inputScale: number, weightScales: Float64Array): Int32Array {
  return Int32Array.from(bias, (b, o) => {
    const v = Math.round(b / (Math.fround(inputScale) * Math.fround(weightScales[o])));
    if (Math.abs(v) >= 2 ** 31) throw new ArgumentError(`bias ${b} of channel ${o} overflows int32`);
    return v;
  });
}

/** The quantization of each convolution's input and output under a calibration. */
export function activationQuants(calibration: Int8Calibration, convs: number): Uint8Quant[] {
  if (calibration.ranges.length !== convs) {
    throw new ArgumentError(
      `calibration has ${calibration.ranges.length} ranges, the network ${convs} convs`,
    );
  }
  return calibration.ranges.map(uint8Quant);
}

function graphBytes(
  arch: Architecture,
  g: Int8GraphWriter,
  outputs: OnnxValue[],
  metadata: Record<string, string>,
): Uint8Array {
  return encodeNetworkModel(arch, g.nodes, g.inits, outputs, metadata);
}

/** Walk the steps: `quant(i)` says how convolution i runs (null: float32). */
function lower(
  f: FoldedNetwork,
  g: Int8GraphWriter,
  conv: (x: GraphValue, i: number) => GraphValue,
): GraphValue {
  let x: GraphValue = { name: INPUT_NAME, q: null };
  let i = 0;
  for (const step of networkSteps(f.arch)) {
    if (step.op === "bn") x = g.batchNorm(x, f.input);
    else if (step.op === "conv") x = conv(x, i++);
    else x = g.maxPool(x, step.size);
  }
  x = g.op(x, "Transpose", { perm: [0, 2, 3, 1] }); // NCHW → NHWC: Keras' (row, col, channel) order
  return g.op(x, "Flatten", { axis: 1 }, OUTPUT_NAME);
}

/**
 * The int8 network's ONNX bytes, from the float weights and a calibration.
 *
 * @throws {ArgumentError} when the calibration does not fit the network.
 */
export function buildInt8Onnx(
  w: OpenL3Weights,
  calibration: Int8Calibration,
  options: Int8GraphOptions = {},
): Uint8Array {
  const f = foldBatchNorms(w);
  const form = options.form ?? "qlinear";
  const floats = new Set(options.floatConvs ?? []);
  const quants = activationQuants(calibration, f.convs.length);
  const g = new Int8GraphWriter(form);
  lower(f, g, (x, i) => {
    const c = f.convs[i];
    if (floats.has(i)) return g.floatConv(x, c);
    const input = i === 0 ? uint8Quant(calibration.input) : quants[i - 1];
    return g.quantConv(x, c, quantizePerChannel(c.weight, c.outChannels), input, quants[i]);
  });
  return graphBytes(w.arch, g, [{ name: OUTPUT_NAME, shape: ["batch", w.arch.outputSize] }], {
    precision: "int8",
    int8_form: form,
    int8_float_convs: [...floats].sort().join(",") || "none",
    calibration_version: String(calibration.version),
    calibration_method: calibration.method + (calibration.percentile ? ` ${calibration.percentile}` : ""),
    ...options.metadata,
  });
}

/** Name of the calibration output of convolution `i` in {@linkcode buildFoldedOnnx}'s graph (-1: its input). */
export function tapName(i: number): string {
  return i < 0 ? "tap_input" : `tap_${i}`;
}

/**
 * The folded network in float32 (the float64-folded weights rounded once), with every convolution's output
 * (after its ReLU) as an extra output {@linkcode tapName}(i): what calibration measures, and what tests
 * compare with the unfolded network.
 */
export function buildFoldedOnnx(w: OpenL3Weights, taps = false): Uint8Array {
  const f = foldBatchNorms(w);
  const g = new Int8GraphWriter("qlinear");
  const outputs: OnnxValue[] = [{ name: OUTPUT_NAME, shape: ["batch", w.arch.outputSize] }];
  lower(f, g, (x, i) => {
    if (taps && i === 0) {
      outputs.push({ name: tapName(-1), shape: ["batch", 1, "h", "w"] });
      x = g.op(x, "Identity", undefined, tapName(-1));
    }
    const y = g.floatConv(x, f.convs[i]);
    if (!taps) return y;
    outputs.push({ name: tapName(i), shape: ["batch", f.convs[i].outChannels, `h${i}`, `w${i}`] });
    return g.op(y, "Identity", undefined, tapName(i));
  });
  return graphBytes(w.arch, g, outputs, { precision: "fp32-folded" });
}
