/**
 * A direct, slow, float64 implementation of the OpenL3 network from spec §3,
 * written independently of the ONNX builder (it shares only the topology,
 * `networkSteps`; every operation is its own code): channels-last (H, W, C) arrays,
 * Keras-order kernels (3, 3, in, out), 'same' zero padding, BN with epsilon
 * 1e-3, valid max pools, and a (row, column, channel) flatten.
 *
 * @module
 */

import { BN_EPSILON, networkSteps } from "../lib/model/architecture.ts";
import type { BnWeights, ConvWeights, OpenL3Weights } from "../lib/model/onnx_graph.ts";

/** A feature map, channels last. */
export interface Map3 {
  h: number;
  w: number;
  c: number;
  d: Float64Array;
}

function bn(x: Map3, l: BnWeights): Map3 {
  const d = new Float64Array(x.d.length);
  for (let i = 0; i < d.length; i++) {
    const ch = i % x.c;
    d[i] = (l.gamma[ch] * (x.d[i] - l.mean[ch])) / Math.sqrt(l.variance[ch] + BN_EPSILON) + l.beta[ch];
  }
  return { ...x, d };
}

function conv(x: Map3, l: ConvWeights, out: number): Map3 {
  const { h, w, c } = x;
  const d = new Float64Array(h * w * out);
  for (let r = 0; r < h; r++) {
    for (let q = 0; q < w; q++) {
      for (let o = 0; o < out; o++) {
        let s = l.bias[o];
        for (let dr = 0; dr < 3; dr++) {
          const rr = r + dr - 1;
          if (rr < 0 || rr >= h) continue;
          for (let dq = 0; dq < 3; dq++) {
            const qq = q + dq - 1;
            if (qq < 0 || qq >= w) continue;
            for (let i = 0; i < c; i++) {
              s += x.d[(rr * w + qq) * c + i] * l.kernel[((dr * 3 + dq) * c + i) * out + o];
            }
          }
        }
        d[(r * w + q) * out + o] = s;
      }
    }
  }
  return { h, w, c: out, d };
}

function relu(x: Map3): Map3 {
  return { ...x, d: x.d.map((v) => Math.max(0, v)) };
}

function maxPool(x: Map3, ph: number, pw: number): Map3 {
  const h = Math.floor(x.h / ph), w = Math.floor(x.w / pw);
  const d = new Float64Array(h * w * x.c).fill(-Infinity);
  for (let r = 0; r < h * ph; r++) {
    for (let q = 0; q < w * pw; q++) {
      for (let ch = 0; ch < x.c; ch++) {
        const o = (Math.floor(r / ph) * w + Math.floor(q / pw)) * x.c + ch;
        d[o] = Math.max(d[o], x.d[(r * x.w + q) * x.c + ch]);
      }
    }
  }
  return { h, w, c: x.c, d };
}

/** Embed one patch (bins × frames, row-major) with the naive network. */
export function naiveOpenL3(patch: ArrayLike<number>, weights: OpenL3Weights): Float64Array {
  return naiveEmbeddingPool(naiveFeatureMap(patch, weights), weights.arch.pool);
}

/** The network up to its last convolution (the map the embedding pool reads), channels last. */
export function naiveFeatureMap(patch: ArrayLike<number>, weights: OpenL3Weights): Map3 {
  const { arch, layers } = weights;
  let x: Map3 = { h: arch.input[0], w: arch.input[1], c: 1, d: Float64Array.from(patch) };
  for (const step of networkSteps(arch)) {
    if (step.op === "bn") x = bn(x, layers[step.layer] as BnWeights);
    else if (step.op === "conv") {
      x = conv(x, layers[step.layer] as ConvWeights, step.outChannels);
      if (step.bn !== null) x = bn(x, layers[step.bn] as BnWeights);
      if (step.relu) x = relu(x);
    } else if (!step.embedding) x = maxPool(x, step.size[0], step.size[1]); // the embedding pool comes after
  }
  return x;
}

/** The embedding pool and the flatten: (row, column, channel) order, as Keras flattens. */
export function naiveEmbeddingPool(map: Map3, pool: [number, number]): Float64Array {
  return maxPool(map, pool[0], pool[1]).d;
}
