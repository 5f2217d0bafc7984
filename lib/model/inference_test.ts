/**
 * Every backend against the naive float64 network of spec §3, on reduced
 * widths built by the same code path as the published network.
 */
import { assert, assertAllClose, slowTest } from "../../tests/helpers.ts";
import { naiveOpenL3 } from "../../tests/naive_openl3.ts";
import { openl3Architecture } from "./architecture.ts";
import { buildOpenL3Onnx } from "./onnx_graph.ts";
import { randomWeights } from "./random_weights.ts";
import { createEmbeddingSession, type EmbeddingSession, probePatches, trustedOrCpu } from "./inference.ts";
import { isSoftwareAdapter, openDevice, requestAdapter } from "../gpu/device.ts";
import { GpuFrontend } from "../frontend/wgsl_spectrogram.ts";
import { spectrogramBatch } from "../frontend/cpu_spectrogram.ts";
import { Rng } from "../util/rng.ts";

const arch512 = openl3Architecture("mel128", 512, [4, 8, 8, 12]);
const arch6144 = openl3Architecture("mel128", 6144, [4, 8, 8, 12]);
const weights512 = randomWeights(arch512, 21);
const weights6144 = { ...weights512, arch: arch6144 };
const model512 = buildOpenL3Onnx(weights512);
const model6144 = buildOpenL3Onnx(weights6144);
const patches = probePatches(2, 128, 199, 5);
const naive = (w: typeof weights512) =>
  [0, 1].map((i) => naiveOpenL3(patches.subarray(i * 128 * 199, (i + 1) * 128 * 199), w));

const adapter = await requestAdapter();
const noGpu = adapter ? "" : " (SKIPPED: no WebGPU adapter on this machine)";

Deno.test("native and WASM backends equal the naive network (≤ 1e-4), 512 and 6144", async () => {
  for (const backend of ["native", "wasm"] as const) {
    for (
      const [model, w, arch] of [[model512, weights512, arch512], [model6144, weights6144, arch6144]] as const
    ) {
      const s = await createEmbeddingSession(model, {
        backend,
        input: [128, 199],
        outputSize: arch.outputSize,
      });
      try {
        assert.equal(s.backend, backend);
        const out = await s.run(patches, 2);
        assert.equal(out.length, 2 * arch.outputSize);
        const ref = naive(w);
        assertAllClose(out.subarray(0, arch.outputSize), ref[0], 1e-4, `${backend} ${arch.embeddingSize} #0`);
        assertAllClose(out.subarray(arch.outputSize), ref[1], 1e-4, `${backend} ${arch.embeddingSize} #1`);
      } finally {
        await s.release();
      }
    }
  }
});

Deno.test("the 512-d embedding is the channel-wise max of the twelve 512-blocks of the 6144-d one", async () => {
  const s512 = await createEmbeddingSession(model512, {
    backend: "native",
    input: [128, 199],
    outputSize: 12,
  });
  const s6144 = await createEmbeddingSession(model6144, {
    backend: "native",
    input: [128, 199],
    outputSize: 144,
  });
  const a = await s512.run(patches, 1), b = await s6144.run(patches, 1);
  const expected = Array.from(
    { length: 12 },
    (_, ch) => Math.max(...Array.from({ length: 12 }, (_, k) => b[k * 12 + ch])),
  );
  assertAllClose(a, expected, 1e-6);
  await s512.release();
  await s6144.release();
});

Deno.test("auto never runs the network on a software adapter", async () => {
  const s = await createEmbeddingSession(model512, { backend: "auto", input: [128, 199], outputSize: 12 });
  try {
    if (!adapter || isSoftwareAdapter(adapter)) assert.notEqual(s.backend, "webgpu");
    assert.ok(s.description.length > 0);
  } finally {
    await s.release();
  }
});

Deno.test({
  name:
    `WGSL engine (forced, even on a software adapter) equals the naive network (≤ 1e-4), 512 and 6144${noGpu}`,
  ignore: !adapter,
  async fn() {
    for (
      const [model, w, arch] of [[model512, weights512, arch512], [model6144, weights6144, arch6144]] as const
    ) {
      const s = await createEmbeddingSession(model, {
        backend: "wgsl",
        input: [128, 199],
        outputSize: arch.outputSize,
        maxBatch: 2,
      });
      try {
        assert.equal(s.backend, "wgsl", s.description);
        const out = await s.run(patches, 2);
        const ref = naive(w);
        assertAllClose(out.subarray(0, arch.outputSize), ref[0], 1e-4, `wgsl ${arch.embeddingSize} #0`);
        assertAllClose(out.subarray(arch.outputSize), ref[1], 1e-4, `wgsl ${arch.embeddingSize} #1`);
      } finally {
        await s.release();
      }
    }
  },
});

Deno.test("native and WASM: runs of 1, 4 or 8 windows give the same outputs bit for bit (the run setting is speed only)", async () => {
  const eight = probePatches(8, 128, 199, 7);
  for (const backend of ["native", "wasm"] as const) {
    let first: Float32Array | undefined;
    for (const chunk of [1, 4, 8]) {
      for (const arena of backend === "native" ? [true, false] : [false]) {
        const s = await createEmbeddingSession(model512, {
          backend,
          input: [128, 199],
          outputSize: arch512.outputSize,
          runs: { chunk, arena },
        });
        try {
          const out = (await s.run(eight, 8)).slice();
          first ??= out;
          assert.deepEqual(out, first, `${backend}, runs of ${chunk}, arena ${arena}`);
        } finally {
          await s.release();
        }
      }
    }
  }
});

Deno.test({
  name:
    `WGSL engine: many windows of every frontend (reduced widths) within 1e-4 relative of the naive network${noGpu}`,
  ignore: !adapter,
  async fn() {
    for (const repr of ["mel256", "mel128", "linear"] as const) {
      for (const size of [512, 6144] as const) {
        const arch = openl3Architecture(repr, size, [4, 8, 8, 12]);
        const w = randomWeights(arch, 31);
        const count = 5;
        const p = probePatches(count, ...arch.input, 9);
        const s = await createEmbeddingSession(buildOpenL3Onnx(w), {
          backend: "wgsl",
          input: arch.input,
          outputSize: arch.outputSize,
          maxBatch: 2, // 5 windows through a capacity of 2: chunks and a partial last one
          skipGpuCheck: true,
        });
        try {
          const out = await s.run(p, count);
          const n = arch.input[0] * arch.input[1];
          for (let i = 0; i < count; i++) {
            const ref = naiveOpenL3(p.subarray(i * n, (i + 1) * n), w);
            const max = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
            assertAllClose(
              out.subarray(i * arch.outputSize, (i + 1) * arch.outputSize),
              ref,
              1e-4 * max,
              `${repr} ${size} #${i}`,
            );
          }
        } finally {
          await s.release();
        }
      }
    }
  },
});

Deno.test({
  name: `WGSL engine: channel counts not divisible by 4 take the scalar kernel, still within 1e-4${noGpu}`,
  ignore: !adapter,
  async fn() {
    const arch = openl3Architecture("mel128", 512, [3, 5, 6, 7]);
    const w = randomWeights(arch, 32);
    const p = probePatches(3, ...arch.input, 10);
    const s = await createEmbeddingSession(buildOpenL3Onnx(w), {
      backend: "wgsl",
      input: arch.input,
      outputSize: arch.outputSize,
      skipGpuCheck: true,
    });
    try {
      const out = await s.run(p, 3);
      const n = arch.input[0] * arch.input[1];
      for (let i = 0; i < 3; i++) {
        const ref = naiveOpenL3(p.subarray(i * n, (i + 1) * n), w);
        const max = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assertAllClose(
          out.subarray(i * arch.outputSize, (i + 1) * arch.outputSize),
          ref,
          1e-4 * max,
          `#${i}`,
        );
      }
    } finally {
      await s.release();
    }
  },
});

Deno.test({
  name: `WGSL engine takes its input straight from the WGSL frontend's buffer (same device)${noGpu}`,
  ignore: !adapter,
  async fn() {
    const gpu = await openDevice(adapter!);
    const fe = GpuFrontend.create(gpu.device, "mel128", { maxWindows: 2 });
    const rng = new Rng(8);
    const samples = Float64Array.from({ length: 2 * 48000 }, () => rng.normal(0, 0.1));
    const s = await createEmbeddingSession(model512, {
      backend: "wgsl",
      gpu,
      input: [128, 199],
      outputSize: 12,
    });
    try {
      assert.equal(s.backend, "wgsl", s.description);
      const onGpu = await s.runGpuBuffer!(fe.run(samples, 2), 2);
      const expected = naiveOpenL3(spectrogramBatch(samples, 1, "mel128"), weights512);
      assertAllClose(
        onGpu.subarray(0, 12),
        expected,
        1e-3,
        "WGSL frontend → WGSL network vs CPU frontend → naive",
      );
    } finally {
      await s.release();
      fe.destroy();
      gpu.device.destroy();
    }
  },
});

slowTest(
  `WGSL engine, published widths, mel256 512 and 6144: within 1e-4 relative of the naive network${noGpu}`,
  async () => {
    if (!adapter) return;
    for (const size of [512, 6144] as const) {
      const arch = openl3Architecture("mel256", size);
      const w = randomWeights(arch, 7);
      const p = probePatches(1, ...arch.input, 3);
      const s = await createEmbeddingSession(buildOpenL3Onnx(w), {
        backend: "wgsl",
        input: arch.input,
        outputSize: arch.outputSize,
        maxBatch: 1,
        skipGpuCheck: true,
      });
      try {
        const out = await s.run(p, 1);
        const ref = naiveOpenL3(p, w);
        const max = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assertAllClose(out, ref, 1e-4 * max, `mel256 ${size}`);
      } finally {
        await s.release();
      }
    }
  },
);

Deno.test({
  name: `WebGPU backend (forced, even on a software adapter) equals the naive network${noGpu}`,
  ignore: !adapter,
  async fn() {
    const s = await createEmbeddingSession(model512, {
      backend: "webgpu",
      input: [128, 199],
      outputSize: 12,
    });
    try {
      assert.equal(s.backend, "webgpu", s.description);
      const out = await s.run(patches, 2);
      const ref = naive(weights512);
      assertAllClose(out.subarray(0, 12), ref[0], 1e-4, "webgpu #0");
      assertAllClose(out.subarray(12), ref[1], 1e-4, "webgpu #1");
    } finally {
      await s.release();
    }
  },
});

Deno.test({
  name: `WebGPU takes its input straight from the WGSL frontend's GPU buffer (same device)${noGpu}`,
  ignore: !adapter,
  async fn() {
    const gpu = await openDevice(adapter!);
    const fe = GpuFrontend.create(gpu.device, "mel128", { maxWindows: 2 });
    const rng = new Rng(8);
    const samples = Float32Array.from({ length: 2 * 48000 }, () => rng.normal(0, 0.1));
    const s = await createEmbeddingSession(model512, {
      backend: "webgpu",
      gpu,
      input: [128, 199],
      outputSize: 12,
    });
    try {
      assert.equal(s.backend, "webgpu");
      const onGpu = await s.runGpuBuffer!(fe.run(samples, 2), 2);
      const cpu = await createEmbeddingSession(model512, {
        backend: "native",
        input: [128, 199],
        outputSize: 12,
      });
      const viaCpu = await cpu.run(spectrogramBatch(samples, 2, "mel128"), 2);
      await cpu.release();
      assertAllClose(onGpu, viaCpu, 1e-3, "GPU frontend → GPU network vs CPU frontend → native network");
    } finally {
      await s.release();
      fe.destroy();
      gpu.device.destroy();
    }
  },
});

Deno.test("a GPU session that disagrees with the CPU is not trusted: the CPU runs, and says why", async () => {
  const released: string[] = [];
  const fake = (
    name: string,
    run: (p: Float32Array, n: number) => Promise<Float32Array>,
  ): EmbeddingSession => ({
    backend: "webgpu",
    description: `${name} (fake)`,
    input: [128, 199],
    outputSize: 12,
    run,
    release: () => (released.push(name), Promise.resolve()),
  });
  const options = { input: [128, 199] as [number, number], outputSize: 12 };
  // a GPU that computes garbage
  const rng = new Rng(4);
  const wrong = fake(
    "WrongGPU",
    (_p, n) => Promise.resolve(Float32Array.from({ length: n * 12 }, () => rng.normal())),
  );
  const fallback = await trustedOrCpu(wrong, model512, options);
  try {
    assert.notEqual(fallback.backend, "webgpu");
    assert.match(
      fallback.description,
      /WrongGPU disagreed with the CPU on a probe batch \(cosine -?\d\.\d+ < 0\.9999\)/,
    );
    assert.deepEqual(released, ["WrongGPU"], "the untrusted session is released");
  } finally {
    await fallback.release();
  }
  // a GPU that computes what the CPU computes is kept
  const cpu = await createEmbeddingSession(model512, { backend: "native", ...options });
  const right = fake("RightGPU", (p, n) => cpu.run(p, n));
  const kept = await trustedOrCpu(right, model512, options);
  assert.equal(kept, right);
  await cpu.release();
});

Deno.test({
  name: `WebGPU, when the check trusts it, computes what the naive network computes${noGpu}`,
  ignore: !adapter,
  async fn() {
    // onnxruntime-web 1.30's WebGPU Conv is wrong for 6 input channels feeding a multiple of 4
    // outputs (seen on llvmpipe): whatever the check decides, what runs must be right.
    const arch = openl3Architecture("mel128", 512, [4, 6, 8, 12]);
    const w = randomWeights(arch, 3);
    const s = await createEmbeddingSession(buildOpenL3Onnx(w), {
      backend: "webgpu",
      input: [128, 199],
      outputSize: 12,
    });
    try {
      const out = await s.run(patches, 2);
      for (const i of [0, 1]) {
        const ref = naiveOpenL3(patches.subarray(i * 128 * 199, (i + 1) * 128 * 199), w);
        assertAllClose(out.subarray(i * 12, (i + 1) * 12), ref, 1e-4, `${s.backend} #${i}: ${s.description}`);
      }
    } finally {
      await s.release();
    }
  },
});

Deno.test("the backend table: every --backend choice but auto has one row, the CPU rows never open a GPU", async () => {
  const { BACKENDS, BACKEND_NAMES, describeBackends, isGpuBackend } = await import("./inference.ts");
  assert.deepEqual([...BACKENDS], ["auto", ...BACKEND_NAMES]);
  assert.equal(describeBackends().length, BACKEND_NAMES.length);
  assert.deepEqual(BACKEND_NAMES.filter(isGpuBackend), ["wgsl", "webgpu"]);
  assert.ok(!isGpuBackend("auto") && !isGpuBackend("cuda"));
});

Deno.test("the native network in a thread of its own: the very numbers of the native session, and the calling thread keeps running", async () => {
  const opts = {
    backend: "native" as const,
    input: [128, 199] as [number, number],
    outputSize: arch512.outputSize,
  };
  const here = await createEmbeddingSession(model512, opts);
  const away = await createEmbeddingSession(model512, { ...opts, thread: true });
  try {
    assert.match(away.description, /in a thread of its own/);
    const a = await here.run(patches, 2), b = await away.run(patches, 2);
    assert.deepEqual(b, a, "bit for bit");
    assert.equal(patches.length, 2 * 128 * 199, "the caller's patches are kept");
    // timers fire while the thread runs a batch (onnxruntime-node's run holds the thread that calls it: 0 ticks
    // in 75 ms for this batch in this thread, 42 in 90 ms from the worker, measured here)
    const wider = openl3Architecture("mel128", 512, [16, 32, 32, 64]);
    const big = await createEmbeddingSession(buildOpenL3Onnx(randomWeights(wider, 3)), {
      ...opts,
      outputSize: wider.outputSize,
      thread: true,
    });
    try {
      const many = new Float32Array(16 * 128 * 199).map((_, i) => -30 * Math.sin(i));
      await big.run(many, 16);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const out = await big.run(many, 16);
      clearInterval(timer);
      assert.equal(out.length, 16 * wider.outputSize);
      assert.ok(ticks >= 5, `${ticks} timer ticks while the network ran`);
    } finally {
      await big.release();
    }
  } finally {
    await here.release();
    await away.release();
  }
});
