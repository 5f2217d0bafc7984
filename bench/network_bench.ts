/**
 * The OpenL3 network (mel256, full size, random weights) per backend. Each
 * case runs one batch of 8 windows (WebGPU on a software adapter: 1 window,
 * once); ms per window × 10 is the cost per second of audio at hop 0.1 s.
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
  const batch = software ? 1 : BATCH;
  const s = await createEmbeddingSession(model, { backend: "webgpu", input: [256, 199], outputSize: 512 });
  await s.run(patches, 1);
  Deno.bench(
    `network mel256 on WebGPU (${describeAdapter(adapter.info)}), batch of ${batch}`,
    { group: "network", n: software ? 1 : 3, warmup: 0 },
    async () => {
      await s.run(patches, batch);
    },
  );
}
