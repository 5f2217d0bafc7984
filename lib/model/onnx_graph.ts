/**
 * OpenL3 weights → an ONNX graph (NCHW): BatchNormalization (epsilon 1e-3,
 * moving statistics), 3×3 'same' convolutions with bias, ReLU, 2×2 max pools,
 * the embedding max pool, and a transpose to channels-last before the flatten
 * so the 6144-d vector is ordered (row, column, channel) as Keras orders it.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { type Architecture, BN_EPSILON, networkSteps, weightShapes } from "./architecture.ts";
import { encodeOnnxModel, type OnnxNode, type OnnxTensor, type OnnxValue } from "./onnx_proto.ts";

/** BatchNormalization weights of one layer. */
export interface BnWeights {
  /** A BatchNormalization layer. */
  kind: "bn";
  /** Scale. */
  gamma: Float32Array;
  /** Offset. */
  beta: Float32Array;
  /** Moving mean. */
  mean: Float32Array;
  /** Moving variance. */
  variance: Float32Array;
}

/** Convolution weights of one layer, kernel in Keras order (3, 3, in, out). */
export interface ConvWeights {
  /** A 3×3 convolution. */
  kind: "conv";
  /** Kernel (3, 3, in, out). */
  kernel: Float32Array;
  /** Bias (out). */
  bias: Float32Array;
}

/** Weights of one layer. */
export type LayerWeights = BnWeights | ConvWeights;

/** A network's weights, checked against its architecture. */
export interface OpenL3Weights {
  /** The architecture they fit. */
  arch: Architecture;
  /** One entry per weighted layer, in order. */
  layers: LayerWeights[];
}

/** Name of the network's input tensor: (batch, 1, bins, frames). */
export const INPUT_NAME = "patch";
/** Name of the network's output tensor: (batch, embedding size). */
export const OUTPUT_NAME = "embedding";
/** ONNX opset the graph uses. */
export const OPSET = 17;

/** Keras HWIO (3, 3, in, out) → ONNX OIHW (out, in, 3, 3). */
export function hwioToOihw(kernel: Float32Array, inC: number, outC: number): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let h = 0; h < 3; h++) {
    for (let w = 0; w < 3; w++) {
      for (let i = 0; i < inC; i++) {
        for (let o = 0; o < outC; o++) {
          out[((o * inC + i) * 3 + h) * 3 + w] = kernel[((h * 3 + w) * inC + i) * outC + o];
        }
      }
    }
  }
  return out;
}

/** Check every layer's arrays against the architecture; the error names the first mismatch. */
export function checkWeights(w: OpenL3Weights): void {
  const { arch, layers } = w;
  if (layers.length !== arch.layers.length) {
    throw new ArgumentError(`expected ${arch.layers.length} layers with weights, got ${layers.length}`);
  }
  arch.layers.forEach((spec, i) => {
    const got = layers[i];
    if (got.kind !== spec.kind) throw new ArgumentError(`layer ${i}: expected ${spec.kind}, got ${got.kind}`);
    const arrays = got.kind === "bn" ? [got.gamma, got.beta, got.mean, got.variance] : [got.kernel, got.bias];
    weightShapes(spec).forEach((shape, k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      if (arrays[k].length !== n) {
        throw new ArgumentError(
          `layer ${i} (${spec.kind}) weight ${k}: expected ${n} values [${shape}], got ${arrays[k].length}`,
        );
      }
    });
  });
}

/**
 * Build the ONNX model bytes.
 *
 * @param w Weights bound to an architecture.
 * @param metadata Extra key/value pairs stored in the model (variant, weights hash).
 */
export function buildOpenL3Onnx(w: OpenL3Weights, metadata: Record<string, string> = {}): Uint8Array {
  checkWeights(w);
  const { arch } = w;
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  let x = INPUT_NAME;
  let index = 0;
  const next = (op: string) => `${op.toLowerCase()}_${index++}`;
  const bn = (l: BnWeights) => {
    const name = next("bn");
    for (
      const [k, data] of [["scale", l.gamma], ["bias", l.beta], ["mean", l.mean], [
        "var",
        l.variance,
      ]] as const
    ) {
      inits.push({ name: `${name}.${k}`, dims: [data.length], data });
    }
    nodes.push({
      op: "BatchNormalization",
      name,
      inputs: [x, `${name}.scale`, `${name}.bias`, `${name}.mean`, `${name}.var`],
      outputs: [name],
      attributes: { epsilon: { f: BN_EPSILON } },
    });
    x = name;
  };
  const conv = (l: ConvWeights, inC: number, outC: number) => {
    const name = next("conv");
    inits.push({ name: `${name}.weight`, dims: [outC, inC, 3, 3], data: hwioToOihw(l.kernel, inC, outC) });
    inits.push({ name: `${name}.bias`, dims: [outC], data: l.bias });
    nodes.push({
      op: "Conv",
      name,
      inputs: [x, `${name}.weight`, `${name}.bias`],
      outputs: [name],
      attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] },
    });
    x = name;
  };
  const unary = (op: string, attributes?: OnnxNode["attributes"]) => {
    const name = next(op);
    nodes.push({ op, name, inputs: [x], outputs: [name], attributes });
    x = name;
  };

  const layers = w.layers;
  for (const step of networkSteps(arch)) {
    if (step.op === "bn") bn(layers[step.layer] as BnWeights);
    else if (step.op === "conv") {
      conv(layers[step.layer] as ConvWeights, step.inChannels, step.outChannels);
      if (step.bn !== null) bn(layers[step.bn] as BnWeights);
      if (step.relu) unary("Relu");
    } else unary("MaxPool", { kernel_shape: step.size, strides: step.size });
  }
  unary("Transpose", { perm: [0, 2, 3, 1] }); // NCHW → NHWC: flatten in Keras' (row, col, channel) order
  const flat = OUTPUT_NAME;
  nodes.push({ op: "Flatten", name: "flatten", inputs: [x], outputs: [flat], attributes: { axis: 1 } });

  return encodeNetworkModel(
    arch,
    nodes,
    inits,
    [{ name: OUTPUT_NAME, shape: ["batch", arch.outputSize] }],
    metadata,
  );
}

/**
 * The model around a network's nodes, as every graph of this project has it: the patch input, the
 * variant in the metadata (what `architectureFromOnnx` and the model store read back), and the caller's
 * metadata after it.
 */
export function encodeNetworkModel(
  arch: Architecture,
  nodes: OnnxNode[],
  initializers: OnnxTensor[],
  outputs: OnnxValue[],
  metadata: Record<string, string>,
): Uint8Array {
  return encodeOnnxModel({
    name: `openl3_${arch.repr}_${arch.embeddingSize}`,
    nodes,
    initializers,
    inputs: [{ name: INPUT_NAME, shape: ["batch", 1, arch.input[0], arch.input[1]] }],
    outputs,
    opset: OPSET,
    producer: "openl3-deno",
    metadata: {
      input_repr: arch.repr,
      embedding_size: String(arch.embeddingSize),
      widths: arch.widths.join(","),
      ...metadata,
    },
  });
}
