/**
 * The network's weights read back from a converted model (`.onnx` written by
 * `onnx_graph.ts`), in the Keras layout, for engines that run the network
 * themselves (the WGSL network): the initializers come in layer order —
 * BatchNormalization (scale, bias, mean, variance), Conv (OIHW weight, bias).
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { type Architecture, type EmbeddingSize, openl3Architecture } from "./architecture.ts";
import type { LayerWeights, OpenL3Weights } from "./onnx_graph.ts";
import { readOnnxInitializers, readOnnxMetadata } from "./onnx_proto.ts";
import type { InputRepr } from "../frontend/spec.ts";

/** ONNX OIHW (out, in, 3, 3) → Keras HWIO (3, 3, in, out). */
export function oihwToHwio(w: Float32Array, inC: number, outC: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < outC; o++) {
    for (let i = 0; i < inC; i++) {
      for (let h = 0; h < 3; h++) {
        for (let x = 0; x < 3; x++) {
          out[((h * 3 + x) * inC + i) * outC + o] = w[((o * inC + i) * 3 + h) * 3 + x];
        }
      }
    }
  }
  return out;
}

/**
 * Read the weights of an architecture from ONNX bytes this project wrote.
 *
 * @throws {ArgumentError} when the model's tensors do not fit the architecture.
 */
export function weightsFromOnnx(bytes: Uint8Array, arch: Architecture, file = "model.onnx"): OpenL3Weights {
  const inits = readOnnxInitializers(bytes, file);
  let at = 0;
  const take = (n: number, what: string) => {
    const t = inits[at++];
    if (!t || t.data.length !== n) {
      throw new ArgumentError(
        `${file}: tensor ${at - 1} (${what}) holds ${t?.data.length ?? 0} values, expected ${n}`,
      );
    }
    return t.data;
  };
  const layers: LayerWeights[] = arch.layers.map((spec, i) => {
    if (spec.kind === "bn") {
      const c = spec.channels;
      return {
        kind: "bn",
        gamma: take(c, `layer ${i} scale`),
        beta: take(c, `layer ${i} bias`),
        mean: take(c, `layer ${i} mean`),
        variance: take(c, `layer ${i} variance`),
      };
    }
    const w = take(9 * spec.inChannels * spec.outChannels, `layer ${i} weight`);
    return {
      kind: "conv",
      kernel: oihwToHwio(w, spec.inChannels, spec.outChannels),
      bias: take(spec.outChannels, `layer ${i} bias`),
    };
  });
  if (at !== inits.length) throw new ArgumentError(`${file}: ${inits.length - at} tensors left over`);
  return { arch, layers };
}

/**
 * The architecture of a model this project wrote: the variant from its metadata, the channel widths
 * from its convolutions' weights (reduced-width test models included).
 */
export function architectureFromOnnx(bytes: Uint8Array, file = "model.onnx"): Architecture {
  const meta = readOnnxMetadata(bytes, file);
  const convs = readOnnxInitializers(bytes, file).filter((t) => t.dims.length === 4);
  if (convs.length !== 8) throw new ArgumentError(`${file}: ${convs.length} convolutions, the network has 8`);
  const widths = [0, 2, 4, 6].map((i) => convs[i].dims[0]) as [number, number, number, number];
  return openl3Architecture(
    meta.input_repr as InputRepr,
    Number(meta.embedding_size) as EmbeddingSize,
    widths,
  );
}
