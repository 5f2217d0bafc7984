/**
 * The OpenL3 network (mel256, full size, random weights) per backend: the
 * CPU ones on a batch of 8 windows; on WebGPU this project's WGSL engine next
 * to onnxruntime-web, at batches of 8, 32 and 64 (on a software adapter: 1
 * window, once). Time per iteration ÷ batch is the cost per window.
 */
import { openl3Architecture } from "../lib/model/architecture.ts";
import { buildOpenL3Onnx } from "../lib/model/onnx_graph.ts";
import { randomWeights } from "../lib/model/random_weights.ts";
import { createEmbeddingSession, probePatches } from "../lib/model/inference.ts";
import { describeAdapter, isSoftwareAdapter, requestAdapter } from "../lib/gpu/device.ts";

const arch = openl3Architecture("mel256", 512);
const model = buildOpenL3Onnx(randomWeights(arch, 1));
const BATCH = 8;
const patches = probePatches(BATCH, 256, 199);

for (const backend of ["native", "wasm"] as const) {
  const s = await createEmbeddingSession(model, { backend, input: [256, 199], outputSize: 512 });
  await s.run(patches, 1); // warm up
  Deno.bench(
    `network mel256 on ${s.description}, batch of ${BATCH}`,
    { group: "network", n: 3, warmup: 0 },
    async () => {
      await s.run(patches, BATCH);
    },
  );
}

const adapter = await requestAdapter();
if (adapter) {
  const software = isSoftwareAdapter(adapter);
  // on a software adapter one window once; on a GPU the batch sizes worth comparing
  const batches = software ? [1] : [8, 32, 64];
  for (const backend of ["wgsl", "webgpu"] as const) {
    const s = await createEmbeddingSession(model, {
      backend,
      input: [256, 199],
      outputSize: 512,
      maxBatch: Math.max(...batches),
    });
    await s.run(patches.subarray(0, 256 * 199), 1); // compile and warm up
    for (const batch of batches) {
      const input = batch <= BATCH ? patches : probePatches(batch, 256, 199);
      Deno.bench(
        `network mel256 on ${s.backend === "wgsl" ? "the WGSL engine" : "onnxruntime-web WebGPU"} (${
          describeAdapter(adapter.info)
        }), batch of ${batch}`,
        { group: "network", n: software ? 1 : 5, warmup: software ? 0 : 1 },
        async () => {
          await s.run(input, batch);
        },
      );
    }
  }
}
