/**
 * Frontend cost: one batch of 10 windows (one second of audio at hop 0.1 s),
 * so time per iteration is the cost per second of audio. The CPU frontend is
 * float64, the WGSL one double-float; the WebGPU cases name their adapter
 * (here: usually the llvmpipe software rasteriser).
 */
import { spectrogramBatch } from "../lib/frontend/cpu_spectrogram.ts";
import { describeAdapter, requestAdapter } from "../lib/gpu/device.ts";
import { GpuFrontend, gpuSpectrogramBatch } from "../lib/frontend/wgsl_spectrogram.ts";
import { Rng } from "../lib/util/rng.ts";

const WINDOWS = 10;
const rng = new Rng(1);
const samples = Float64Array.from({ length: WINDOWS * 48000 }, () => rng.normal(0, 0.1));

for (const repr of ["mel256", "mel128", "linear"] as const) {
  Deno.bench(`CPU ${repr}, 10 windows (1 s of audio)`, { group: repr }, () => {
    spectrogramBatch(samples, WINDOWS, repr);
  });
}

const adapter = await requestAdapter();
if (adapter) {
  const device = await adapter.requestDevice();
  const name = describeAdapter(adapter.info);
  for (const repr of ["mel256", "mel128", "linear"] as const) {
    const fe = GpuFrontend.create(device, repr, { maxWindows: WINDOWS });
    await gpuSpectrogramBatch(fe, samples, WINDOWS); // compile and warm up
    Deno.bench(`WebGPU ${repr} on ${name}, 10 windows + readback`, { group: repr }, async () => {
      await gpuSpectrogramBatch(fe, samples, WINDOWS);
    });
  }
} else {
  console.warn("frontend_bench: no WebGPU adapter: only the CPU cases run");
}
