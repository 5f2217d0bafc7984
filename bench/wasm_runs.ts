/**
 * `deno task bench-wasm`: how the WASM backend (onnxruntime-web's Node build, one worker thread per core,
 * SIMD) should run each precision: ms a window for runs of 1, 4 and 8 windows on a batch of 8 (mel256 / 512,
 * seeded random weights; the int8 network quantized and calibrated once first), the settings taking turns
 * round after round and the median round kept, beside the setting
 * `WASM_RUNS` chooses. The threads are set once per process by onnxruntime-web (one per core here).
 *
 *     deno task bench-wasm [--rounds 5]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { createEmbeddingSession, probePatches, WASM_RUNS } from "../lib/model/inference.ts";
import type { EmbeddingSession } from "../lib/model/session.ts";
import type { Precision } from "../lib/model/precision.ts";
import { convertedTestInt8, convertedTestWeights } from "../tests/test_model.ts";

const { values } = parseArgs({ options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? 5);
const dir = await Deno.makeTempDir({ prefix: "openl3-bench-wasm-" });
try {
  const weights = `${dir}/w.h5`, models = `${dir}/models`;
  const fp32 = await convertedTestWeights(weights, models, 1);
  const int8 = await convertedTestInt8(weights, models);
  const arch = openl3Architecture("mel256", 512);
  const batch = 8, patches = probePatches(batch, ...arch.input);
  console.log(
    `WASM (onnxruntime-web, ${navigator.hardwareConcurrency} threads), mel256 / 512, a batch of ${batch}; ` +
      `every setting run in turn, ${rounds} rounds after one to warm up, the median round`,
  );
  // every setting's session open at once and run in turn, round after round: a machine whose speed drifts
  // (a shared one) slows them all alike
  const settings: { precision: Precision; chunk: number; s: EmbeddingSession; ms: number[] }[] = [];
  for (const [precision, onnx] of [["fp32", fp32.onnx], ["int8", int8.onnx]] as [Precision, Uint8Array][]) {
    for (const chunk of [1, 4, 8]) {
      const s = await createEmbeddingSession(onnx, {
        backend: "wasm",
        input: arch.input,
        outputSize: 512,
        precision,
        runs: { chunk, arena: false },
      });
      await s.run(patches, batch);
      settings.push({ precision, chunk, s, ms: [] });
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const x of settings) {
      const t = performance.now();
      await x.s.run(patches, batch);
      x.ms.push((performance.now() - t) / batch);
    }
  }
  console.log(
    "| precision | windows a run | ms a window (median) | each round | |\n| --- | --- | --- | --- | --- |",
  );
  for (const { precision, chunk, s, ms } of settings) {
    await s.release();
    const median = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
    const current = Math.min(WASM_RUNS[precision].chunk, batch) === chunk ? "the default" : "";
    console.log(
      `| ${precision} | ${chunk} | ${median.toFixed(1)} | ${
        ms.map((m) => m.toFixed(0)).join(" ")
      } | ${current} |`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
