import { assert } from "../../tests/helpers.ts";
import { type GpuContext, gpuDecision, isSoftwareAdapter, openGpu, requestAdapter } from "./device.ts";

function fakeAdapter(info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }): GPUAdapter {
  return {
    info: { vendor: "", architecture: "", device: "", description: "", ...info },
  } as unknown as GPUAdapter;
}

function fakeGpu(software: boolean): GpuContext {
  return {
    device: {} as GPUDevice,
    description: software ? "llvmpipe" : "NVIDIA H200",
    software,
    features: new Set(),
  };
}

Deno.test("software adapters are recognised by name or by the fallback flag", () => {
  assert.ok(isSoftwareAdapter(fakeAdapter({ description: "llvmpipe (LLVM 15.0.6, 256 bits)" })));
  assert.ok(isSoftwareAdapter(fakeAdapter({ description: "Google SwiftShader" })));
  assert.ok(isSoftwareAdapter(fakeAdapter({ vendor: "mesa", description: "lavapipe" })));
  assert.ok(isSoftwareAdapter(fakeAdapter({ description: "Microsoft Basic Render Driver" })));
  assert.ok(isSoftwareAdapter(fakeAdapter({ description: "anything", isFallbackAdapter: true })));
  assert.ok(!isSoftwareAdapter(fakeAdapter({ vendor: "nvidia", description: "NVIDIA H100 80GB HBM3" })));
  assert.ok(!isSoftwareAdapter(fakeAdapter({ vendor: "amd", description: "AMD Radeon RX 7900" })));
});

Deno.test("the one GPU rule: auto takes only hardware, webgpu takes anything (and fails on nothing), cpu never", () => {
  for (const flag of ["--device", "--backend"]) {
    assert.equal(gpuDecision("auto", fakeGpu(false), flag).use, true);
    const soft = gpuDecision("auto", fakeGpu(true), flag);
    assert.equal(soft.use, false);
    assert.match(
      soft.reason,
      new RegExp(`software rasteriser, slower than the CPU \\(${flag} webgpu forces it\\)`),
    );
    assert.equal(gpuDecision("webgpu", fakeGpu(true), flag).use, true);
    assert.equal(gpuDecision("webgpu", fakeGpu(false), flag).use, true);
    assert.equal(gpuDecision("auto", null, flag).use, false);
    assert.throws(() => gpuDecision("webgpu", null, flag), new RegExp(`${flag} webgpu: no WebGPU adapter`));
    // a CPU backend (native, wasm) never asks: its row in the backend table says it runs on the CPU
    assert.equal(gpuDecision("cpu", fakeGpu(false), flag).use, false);
  }
});

Deno.test("openGpu describes this machine's adapter as requestAdapter sees it", async () => {
  const adapter = await requestAdapter();
  const gpu = await openGpu();
  if (!adapter) {
    assert.equal(gpu, null);
    console.log("  (no WebGPU adapter on this machine: openGpu returned null, as it should)");
    return;
  }
  assert.ok(gpu);
  assert.equal(gpu.software, isSoftwareAdapter(adapter));
  assert.ok(gpu.description.length > 0);
  for (const f of gpu.features) assert.ok(adapter.features.has(f as GPUFeatureName));
  gpu.device.destroy();
});
