/**
 * End-to-end precision of the embeddings: the whole pipeline (float64 signal,
 * float64 frontend, float32 patch, float32 network) against the naive float64
 * network run on the float64 patches, on audio with content at every level
 * (the 96 kHz 24-bit "deep" file). Seeded random weights in the official
 * layout: what is measured is arithmetic, not music.
 */
import { assert, relativeError, slowTest } from "./helpers.ts";
import { naiveEmbeddingPool, naiveFeatureMap } from "./naive_openl3.ts";
import { deepWindows } from "./reference_windows.ts";
import { spectrogramBatch, spectrogramPatch64 } from "../lib/frontend/cpu_spectrogram.ts";
import { createFrontend } from "../lib/frontend/frontend.ts";
import { openGpu } from "../lib/gpu/device.ts";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { buildOpenL3Onnx } from "../lib/model/onnx_graph.ts";
import { createEmbeddingSession } from "../lib/model/inference.ts";
import { randomWeights } from "../lib/model/random_weights.ts";
import type { InputRepr } from "../lib/frontend/spec.ts";

const window = (await deepWindows())[1];
const gpu = await openGpu();

async function check(repr: InputRepr, widths?: [number, number, number, number]) {
  const w512 = randomWeights(openl3Architecture(repr, 512, widths), 17);
  const w6144 = { ...w512, arch: openl3Architecture(repr, 6144, widths) };
  const map = naiveFeatureMap(spectrogramPatch64(window, repr), w512);
  const cpuPatch = spectrogramBatch(window, 1, repr);
  const gpuFrontend = gpu ? await createFrontend({ repr, device: "webgpu", gpu, batchSize: 1 }) : undefined;
  const gpuPatch = await gpuFrontend?.compute(window, 1);
  gpuFrontend?.destroy();
  const found: string[] = [];
  for (const w of [w512, w6144]) {
    const expected = naiveEmbeddingPool(map, w.arch.pool);
    const s = await createEmbeddingSession(buildOpenL3Onnx(w), {
      backend: "native",
      input: w.arch.input,
      outputSize: w.arch.outputSize,
    });
    try {
      const viaCpu = relativeError(await s.run(cpuPatch, 1), expected);
      found.push(`${w.arch.embeddingSize}: CPU frontend ${viaCpu.toExponential(1)}`);
      assert.ok(viaCpu <= 1e-5, `${repr} ${w.arch.embeddingSize}, CPU frontend: ${viaCpu}`);
      if (gpuPatch) {
        const viaGpu = relativeError(await s.run(gpuPatch, 1), expected);
        found.push(`WebGPU frontend ${viaGpu.toExponential(1)}`);
        assert.ok(viaGpu <= 1e-4, `${repr} ${w.arch.embeddingSize}, WebGPU frontend: ${viaGpu}`);
      }
    } finally {
      await s.release();
    }
  }
  return found.join("; ");
}

for (const repr of ["mel256", "mel128", "linear"] as const) {
  Deno.test(`${repr}, 512 and 6144, reduced widths: the pipeline equals the float64 network on float64 patches (≤ 1e-5)`, async () => {
    await check(repr, [8, 8, 16, 24]);
  });
  slowTest(
    `${repr}, 512 and 6144, published widths: the pipeline equals the float64 network on float64 patches (≤ 1e-5)`,
    async () => {
      console.log(`  ${repr}: ${await check(repr)}`);
    },
  );
}

globalThis.addEventListener("unload", () => gpu?.device.destroy());
