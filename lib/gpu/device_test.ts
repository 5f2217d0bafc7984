import { assert } from "../../tests/helpers.ts";
import { isSoftwareAdapter, requestAdapter, selectDevice } from "./device.ts";

function fakeAdapter(info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }): GPUAdapter {
  return {
    info: { vendor: "", architecture: "", device: "", description: "", ...info },
  } as unknown as GPUAdapter;
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

Deno.test("--device cpu never touches the GPU; bad choices are quoted", async () => {
  const sel = await selectDevice("cpu");
  assert.equal(sel.kind, "cpu");
  await assert.rejects(() => selectDevice("tpu" as "cpu"), /one of auto, webgpu, cpu; got "tpu"/);
});

Deno.test("--device auto never picks a software adapter; --device webgpu takes what there is", async () => {
  const adapter = await requestAdapter();
  const auto = await selectDevice("auto");
  if (!adapter) {
    assert.equal(auto.kind, "cpu");
    assert.match(auto.reason, /no WebGPU adapter/);
    await assert.rejects(() => selectDevice("webgpu"), /no WebGPU adapter/);
    return;
  }
  if (isSoftwareAdapter(adapter)) {
    assert.equal(auto.kind, "cpu");
    assert.match(auto.reason, /software rasteriser/);
  } else {
    assert.equal(auto.kind, "webgpu");
  }
  if (auto.kind === "webgpu") auto.gpu.device.destroy();
  const forced = await selectDevice("webgpu");
  assert.equal(forced.kind, "webgpu");
  if (forced.kind === "webgpu") {
    assert.equal(forced.gpu.software, isSoftwareAdapter(adapter));
    forced.gpu.device.destroy();
  }
});
