/**
 * The Winograd convolutions against a float64 direct convolution written out here (odd map sizes, so the
 * padding and the crop are exercised), and the layer run as onnxruntime runs it.
 */
import { assert, relativeError } from "../../tests/helpers.ts";
import { encodeOnnxModel } from "./onnx_proto.ts";
import { loadNativeOrt } from "./inference.ts";
import { Rng } from "../util/rng.ts";
import { WINOGRAD, winogradConvOnnx, winogradTile } from "./winograd.ts";

/** 'same' 3×3 correlation with bias, float64. */
function directConv(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  n: number,
  c: number,
  k: number,
  h: number,
  wd: number,
) {
  const y = new Float64Array(n * k * h * wd);
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < k; o++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < wd; j++) {
          let acc = b[o];
          for (let ci = 0; ci < c; ci++) {
            for (let r = 0; r < 3; r++) {
              for (let q = 0; q < 3; q++) {
                const yi = i + r - 1, xj = j + q - 1;
                if (yi < 0 || xj < 0 || yi >= h || xj >= wd) continue;
                acc += x[((s * c + ci) * h + yi) * wd + xj] * w[((o * c + ci) * 3 + r) * 3 + q];
              }
            }
          }
          y[((s * k + o) * h + i) * wd + j] = acc;
        }
      }
    }
  }
  return y;
}

Deno.test("winogradTile: F(2×2) and F(4×4) equal the direct 3×3 correlation of a tile (float64)", () => {
  const rng = new Rng(4);
  for (const tile of [2, 4] as const) {
    const f = WINOGRAD[tile];
    const d = Array.from({ length: f.t }, () => Array.from({ length: f.t }, () => rng.normal()));
    const g = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => rng.normal()));
    const y = winogradTile(f, d, g);
    for (let i = 0; i < f.m; i++) {
      for (let j = 0; j < f.m; j++) {
        let direct = 0;
        for (let r = 0; r < 3; r++) for (let q = 0; q < 3; q++) direct += d[i + r][j + q] * g[r][q];
        assert.ok(Math.abs(y[i][j] - direct) < 1e-12, `F(${tile}) at ${i},${j}: ${y[i][j]} vs ${direct}`);
      }
    }
  }
});

Deno.test("winogradConvOnnx in onnxruntime: the float64 convolution within 1e-6 (F2) and 2e-5 (F4) relative", async () => {
  const ort = await loadNativeOrt();
  if (ort instanceof Error) throw ort;
  const rng = new Rng(9);
  const [n, c, k, h, w] = [2, 6, 5, 7, 9];
  const rand = (len: number) => Float32Array.from({ length: len }, () => rng.normal());
  const x = rand(n * c * h * w), kernel = rand(k * c * 9), bias = rand(k);
  const reference = directConv(x, kernel, bias, n, c, k, h, w);
  for (const [tile, bound] of [[2, 1e-6], [4, 2e-5]] as const) { // measured: 1.6e-7 and 3.3e-6
    const { nodes, initializers } = winogradConvOnnx({
      tile,
      input: "x",
      output: "y",
      prefix: "w",
      inC: c,
      outC: k,
      height: h,
      width: w,
      kernel,
      bias,
    });
    const model = encodeOnnxModel({
      name: "winograd",
      opset: 17,
      producer: "test",
      nodes,
      initializers,
      inputs: [{ name: "x", shape: ["N", c, h, w] }],
      outputs: [{ name: "y", shape: ["N", k, h, w] }],
    });
    const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"] });
    const out = await session.run({ x: new ort.Tensor("float32", x, [n, c, h, w]) });
    const y = out.y.data as Float32Array;
    assert.deepEqual(out.y.dims, [n, k, h, w]);
    const rel = relativeError(y, reference);
    assert.ok(rel <= bound, `F(${tile}×${tile}): ${rel.toExponential(2)} > ${bound}`);
    await session.release();
  }
});
