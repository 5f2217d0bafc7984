/**
 * `deno task bench-roof`: how far the network is from this machine's peak. A plain large GEMM through the
 * same onnxruntime-node the network runs on — float32 `MatMul`, and `MatMulInteger` (uint8 × int8, the
 * arithmetic of the int8 network) — gives the peak this runtime reaches here; the network's milliseconds per
 * window (mel256 / 512, random weights, the setting `NATIVE_RUNS` chooses, batch 8) give its rate, from its
 * multiply–adds counted layer by layer; the fraction is the network's rate over the GEMM's. The GEMM is timed
 * at each `--size` and the fastest is kept. A fraction above 1 means the runtime's plain GEMM is not the roof
 * (on the 2-core Xeon, its float32 convolution kernels outrun its float32 `MatMul`).
 *
 *     deno task bench-roof [--size 1024,2048] [--rounds 20]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { encodeOnnxModel } from "../lib/model/onnx_proto.ts";
import { networkSteps, openl3Architecture } from "../lib/model/architecture.ts";
import { createEmbeddingSession, loadNativeOrt, probePatches } from "../lib/model/inference.ts";
import { convertedTestInt8, convertedTestWeights } from "../tests/test_model.ts";
import { FRONTENDS } from "../lib/frontend/spec.ts";
import { Rng } from "../lib/util/rng.ts";

const { values } = parseArgs({ options: { size: { type: "string" }, rounds: { type: "string" } } });
const sizes = (values.size ?? "1024,2048").split(",").map(Number), rounds = Number(values.rounds ?? 20);
const cores = navigator.hardwareConcurrency ?? 1;
const ort = await loadNativeOrt();
if (ort instanceof Error) throw ort;
const rng = new Rng(1);

/** The median seconds of `rounds` calls (after one to warm up). */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const s = performance.now();
    await fn();
    t.push((performance.now() - s) / 1000);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
}

const session = (model: Uint8Array) =>
  ort.InferenceSession.create(model, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: cores,
  });
/** Seconds of one float32 and one int8 GEMM of n×n×n (median of `rounds`). */
async function gemm(n: number): Promise<{ n: number; fp32s: number; int8s: number }> {
  const a = new ort.Tensor("float32", Float32Array.from({ length: n * n }, () => rng.normal()), [n, n]);

  // float32: A (input) × B (initializer)
  const fp32 = await session(encodeOnnxModel({
    name: "gemm_fp32",
    nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["c"] }],
    initializers: [{
      name: "b",
      dims: [n, n],
      data: Float32Array.from({ length: n * n }, () => rng.normal()),
    }],
    inputs: [{ name: "a", shape: [n, n] }],
    outputs: [{ name: "c", shape: [n, n] }],
    opset: 13,
    producer: "openl3-deno bench-roof",
    metadata: {},
  }));
  const fp32s = await timed(() => fp32.run({ a }));

  // int8: A quantized to uint8, × B int8, int32 accumulators, cast back
  const int8 = await session(encodeOnnxModel({
    name: "gemm_int8",
    nodes: [
      { op: "QuantizeLinear", inputs: ["a", "scale", "zero"], outputs: ["aq"] },
      { op: "MatMulInteger", inputs: ["aq", "b", "zero", "bzero"], outputs: ["ci"] },
      { op: "Cast", inputs: ["ci"], outputs: ["c"], attributes: { to: 1 } },
    ],
    initializers: [
      { name: "scale", dims: [], data: Float32Array.of(0.05) },
      { name: "zero", dims: [], data: Uint8Array.of(128) },
      { name: "bzero", dims: [], data: Int8Array.of(0) },
      {
        name: "b",
        dims: [n, n],
        data: Int8Array.from({ length: n * n }, () => Math.round(rng.normal() * 30)),
      },
    ],
    inputs: [{ name: "a", shape: [n, n] }],
    outputs: [{ name: "c", shape: [n, n] }],
    opset: 13,
    producer: "openl3-deno bench-roof",
    metadata: {},
  }));
  const int8s = await timed(() => int8.run({ a }));
  return { n, fp32s, int8s };
}
// the best of each arithmetic over the sizes (a size too small for the runtime's kernels understates its peak)
const gemms = [];
for (const n of sizes) gemms.push(await gemm(n));
const bestFp32 = gemms.reduce((a, b) => (2 * b.n ** 3 / b.fp32s > 2 * a.n ** 3 / a.fp32s ? b : a));
const bestInt8 = gemms.reduce((a, b) => (2 * b.n ** 3 / b.int8s > 2 * a.n ** 3 / a.int8s ? b : a));

// the network: multiply–adds of every convolution of mel256 / 512 (3×3, 'same')
const arch = openl3Architecture("mel256", 512);
let [h, w] = [FRONTENDS.mel256.bins, FRONTENDS.mel256.frames];
let netOps = 0;
for (const s of networkSteps(arch)) {
  if (s.op === "conv") netOps += 2 * 9 * s.inChannels * s.outChannels * h * w;
  if (s.op === "pool" && !s.embedding) [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
}
const dir = await Deno.makeTempDir({ prefix: "openl3-roof-" });
const model = await convertedTestWeights(`${dir}/w.h5`, `${dir}/models`, 1);
const int8Model = await convertedTestInt8(`${dir}/w.h5`, `${dir}/models`);
const batch = 8, patches = probePatches(batch, ...arch.input);
const network = async (onnx: Uint8Array, precision: "fp32" | "int8") => {
  const s = await createEmbeddingSession(onnx, {
    backend: "native",
    input: arch.input,
    outputSize: 512,
    precision,
  });
  const seconds = await timed(() => s.run(patches, batch));
  await s.release();
  return seconds / batch;
};
const net32 = await network(model.onnx, "fp32"), net8 = await network(int8Model.onnx, "int8");
await Deno.remove(dir, { recursive: true });

const g = (ops: number, s: number) => ops / s / 1e9;
const cube = (n: number) => `${n}×${n}×${n}`;
console.log(
  `onnxruntime-node on ${cores} threads; GEMMs ${sizes.map(cube).join(", ")}, median of ${rounds}, the ` +
    `fastest kept (float32 ${cube(bestFp32.n)}, int8 ${cube(bestInt8.n)}); the network: mel256 / 512, ` +
    `${(netOps / 1e9).toFixed(2)} GFLOP a window, batch ${batch}`,
);
const fp32s = bestFp32.fp32s, int8s = bestInt8.int8s;
const fp32Ops = 2 * bestFp32.n ** 3, int8Ops = 2 * bestInt8.n ** 3;
console.log("| arithmetic | GEMM | network ms/window | network rate | fraction of the GEMM's |");
console.log("| --- | --- | --- | --- | --- |");
console.log(
  `| float32 | ${g(fp32Ops, fp32s).toFixed(0)} GFLOP/s | ${(net32 * 1000).toFixed(1)} | ${
    g(netOps, net32).toFixed(0)
  } GFLOP/s | ${(g(netOps, net32) / g(fp32Ops, fp32s)).toFixed(2)} |`,
);
console.log(
  `| int8 | ${g(int8Ops, int8s).toFixed(0)} GOP/s | ${(net8 * 1000).toFixed(1)} | ${
    g(netOps, net8).toFixed(0)
  } GOP/s | ${(g(netOps, net8) / g(int8Ops, int8s)).toFixed(2)} |`,
);
