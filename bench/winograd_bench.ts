/**
 * Winograd against onnxruntime's direct convolution, layer by layer: each 3×3 convolution of the mel256
 * network (random weights, batch of 8 windows) as one Conv node, and as F(2×2, 3×3) and F(4×4, 3×3) written
 * in ONNX operators (`lib/model/winograd.ts`), on the native CPU backend. Before the benchmarks, each
 * Winograd layer's relative error against the direct one is printed (max |Δ| / max |y|).
 *
 *     deno bench --allow-all bench/winograd_bench.ts
 */
import { encodeOnnxModel } from "../lib/model/onnx_proto.ts";
import { loadNativeOrt } from "../lib/model/inference.ts";
import { winogradConvOnnx } from "../lib/model/winograd.ts";
import { networkSteps, openl3Architecture } from "../lib/model/architecture.ts";
import { Rng } from "../lib/util/rng.ts";

const ort = await loadNativeOrt();
if (ort instanceof Error) throw ort;
const BATCH = 8;
const arch = openl3Architecture("mel256", 512);
const rng = new Rng(2);
const options = {
  executionProviders: ["cpu"],
  graphOptimizationLevel: "all",
  intraOpNumThreads: navigator.hardwareConcurrency,
  enableCpuMemArena: false,
};

let [h, w] = arch.input;
for (const step of networkSteps(arch)) {
  if (step.op === "pool") {
    if (!step.embedding) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
    continue;
  }
  if (step.op !== "conv" || step.first) continue; // the first layer has one input channel: nothing to save
  const [c, k] = [step.inChannels, step.outChannels];
  const kernel = Float32Array.from({ length: k * c * 9 }, () => rng.normal() * Math.sqrt(2 / (9 * c)));
  const bias = Float32Array.from({ length: k }, () => rng.normal() * 0.1);
  const io = {
    inputs: [{ name: "x", shape: ["N", c, h, w] as (string | number)[] }],
    outputs: [{ name: "y", shape: ["N", k, h, w] as (string | number)[] }],
  };
  const direct = encodeOnnxModel({
    name: "direct",
    opset: 17,
    producer: "bench",
    nodes: [{
      op: "Conv",
      inputs: ["x", "w", "b"],
      outputs: ["y"],
      attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    }],
    initializers: [{ name: "w", dims: [k, c, 3, 3], data: kernel }, { name: "b", dims: [k], data: bias }],
    ...io,
  });
  const x = new ort.Tensor(
    "float32",
    Float32Array.from({ length: BATCH * c * h * w }, () => Math.max(0, rng.normal())),
    [BATCH, c, h, w],
  );
  const ref = (await (await ort.InferenceSession.create(direct, options)).run({ x })).y.data as Float32Array;
  const layer = `${c}→${k} at ${h}×${w}`;
  for (const variant of ["direct", "F(2×2,3×3)", "F(4×4,3×3)"] as const) {
    const model = variant === "direct" ? direct : encodeOnnxModel({
      name: "winograd",
      opset: 17,
      producer: "bench",
      ...winogradConvOnnx({
        tile: variant === "F(2×2,3×3)" ? 2 : 4,
        input: "x",
        output: "y",
        prefix: "w",
        inC: c,
        outC: k,
        height: h,
        width: w,
        kernel,
        bias,
      }),
      ...io,
    });
    const session = await ort.InferenceSession.create(model, options);
    const y = (await session.run({ x })).y.data as Float32Array;
    let d = 0, m = 0;
    for (let i = 0; i < y.length; i++) {
      d = Math.max(d, Math.abs(y[i] - ref[i]));
      m = Math.max(m, Math.abs(ref[i]));
    }
    if (variant !== "direct") {
      console.error(`${layer} ${variant}: relative error ${(d / m).toExponential(1)}`);
    }
    Deno.bench(`${layer}, ${variant}, batch of ${BATCH}`, {
      group: layer,
      baseline: variant === "direct",
      n: 3,
      warmup: 1,
    }, async () => {
      await session.run({ x });
    });
  }
}
