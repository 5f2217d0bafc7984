/**
 * `deno task profile-gpu`: the WGSL network layer by layer on this
 * machine's WebGPU adapter — time per kernel (timestamp queries where the
 * device has them, else each kernel submitted and awaited on its own), and
 * the TFLOP/s and GB/s each achieves.
 *
 *     deno task profile-gpu [--repr mel256|mel128|linear] [--batch N] [--winograd]
 *
 * `--winograd`: the convolutions as the fused Winograd F(2×2, 3×3) kernel (`lib/model/wgsl_winograd.ts`);
 * run both ways on a real GPU to choose.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { openGpu } from "../lib/gpu/device.ts";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { randomWeights } from "../lib/model/random_weights.ts";
import { probePatches } from "../lib/model/inference.ts";
import { WgslNetwork } from "../lib/model/wgsl_network.ts";
import type { InputRepr } from "../lib/frontend/spec.ts";

const { values } = parseArgs({
  options: { repr: { type: "string" }, batch: { type: "string" }, winograd: { type: "boolean" } },
});
const repr = (values.repr ?? "mel256") as InputRepr;
const gpu = await openGpu();
if (!gpu) {
  console.log("profile-gpu: no WebGPU adapter on this machine");
  Deno.exit(0);
}
const batch = Number(values.batch ?? (gpu.software ? "1" : "32"));
const arch = openl3Architecture(repr, 512);
const net = WgslNetwork.create(gpu, randomWeights(arch, 1), batch, { winograd: values.winograd === true });
const patches = probePatches(batch, ...arch.input);
await net.run(patches, batch); // compile and warm up
const rows = await net.profile(patches, batch);
const total = rows.reduce((s, r) => s + r.ms, 0);
console.log(
  `WGSL network${
    values.winograd ? " (Winograd F(2×2))" : ""
  }, ${repr}, batch ${batch} on ${gpu.description} (${rows[0]?.timer ?? "?"} timing): ` +
    `${total.toFixed(2)} ms, ${(total / batch).toFixed(3)} ms per window`,
);
console.log("kernel                                 |       ms |  GFLOP | TFLOP/s |     MB |   GB/s");
for (const r of rows) {
  console.log(
    `${r.label.padEnd(38)} | ${r.ms.toFixed(3).padStart(8)} | ${(r.flops / 1e9).toFixed(2).padStart(6)} | ` +
      `${(r.flops / r.ms / 1e9).toFixed(3).padStart(7)} | ${(r.bytes / 1e6).toFixed(1).padStart(6)} | ` +
      `${(r.bytes / r.ms / 1e6).toFixed(1).padStart(6)}`,
  );
}
const flops = rows.reduce((s, r) => s + r.flops, 0);
console.log(
  `whole network: ${(flops / 1e9).toFixed(1)} GFLOP in ${total.toFixed(2)} ms = ${
    (flops / total / 1e9).toFixed(3)
  } TFLOP/s`,
);
net.destroy();
gpu.device.destroy();
