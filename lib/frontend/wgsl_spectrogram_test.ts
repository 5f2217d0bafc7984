/**
 * The WGSL frontend against the float64 CPU reference and the float64 ideal,
 * at every level down to the −80 dB floor. Runs on whatever adapter exists
 * (in CI: the llvmpipe software rasteriser, chosen explicitly); skipped, with
 * the reason in its name, only when there is none.
 */
import { assert, worstByLevel } from "../../tests/helpers.ts";
import { deepWindows, referenceArray, toneWindows } from "../../tests/reference_windows.ts";
import { openGpu } from "../gpu/device.ts";
import { verifyDoubleFloat } from "../gpu/double_float.ts";
import { spectrogramPatch } from "./cpu_spectrogram.ts";
import { createFrontend } from "./frontend.ts";
import { FRONTENDS } from "./spec.ts";
import {
  dbFloorShader,
  GpuFrontend,
  gpuSpectrogramBatch,
  melDbShader,
  stftMagnitudeShader,
} from "./wgsl_spectrogram.ts";
import { cachedPipelineCount, withValidation } from "../gpu/pipeline.ts";
import { Rng } from "../util/rng.ts";
import { ArgumentError } from "../util/errors.ts";

const gpu = await openGpu();
const device = gpu?.device;
const ignore = !device;
const suffix = device ? "" : " (SKIPPED: no WebGPU adapter on this machine)";
if (!device) console.warn("wgsl_spectrogram_test: no WebGPU adapter: the GPU tests are skipped");

function tone(freq: number, amp = 0.5): Float64Array {
  return Float64Array.from({ length: 48000 }, (_, n) => amp * Math.sin(2 * Math.PI * freq * n / 48000));
}

/** Named cases: silence, edges, tones on and between bins, noise, loud starts, and content at every level. */
function namedCases(): [string, Float64Array][] {
  const rng = new Rng(3);
  const impulseStart = new Float64Array(48000);
  impulseStart[0] = 1;
  const impulseEnd = new Float64Array(48000);
  impulseEnd[47999] = -1;
  const firstFrameMax = Float64Array.from(
    { length: 48000 },
    (_, n) => (n < 400 ? 0.9 : 0.01) * Math.sin(n / 3),
  );
  // a loud tone over tones at 1e-3 … 1e-7 of it: the quiet half of the patch has content to get right
  const levels = Float64Array.from(
    { length: 48000 },
    (_, n) =>
      [0.9, 1e-3, 1e-5, 1e-6, 1e-7].reduce(
        (s, a, k) => s + a * Math.sin(2 * Math.PI * (300 + 2700 * k) * n / 48000),
        0,
      ),
  );
  return [
    ["silence", new Float64Array(48000)],
    [
      "full-scale square wave",
      Float64Array.from({ length: 48000 }, (_, n) => (Math.floor(n / 60) % 2 ? -1 : 1)),
    ],
    ["tone at an FFT bin centre (bin 100 of 2048)", tone(100 * 48000 / 2048)],
    ["tone between bins (bin 100.5 of 2048)", tone(100.5 * 48000 / 2048)],
    ["white noise", Float64Array.from({ length: 48000 }, () => rng.normal(0, 0.1))],
    ["impulse at the first sample", impulseStart],
    ["impulse at the last sample", impulseEnd],
    ["maximum in the first frame", firstFrameMax],
    ["tones from 0.9 down to 1e-7", levels],
    ["reference tones, window 5", toneWindows()[5]],
  ];
}

function checkPatch(gpuPatch: Float32Array, ref: ArrayLike<number>, tol: number, what: string) {
  let max = -Infinity, min = Infinity;
  for (const v of gpuPatch) {
    if (!Number.isFinite(v)) throw new Error(`${what}: non-finite value`);
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  assert.equal(max, 0, `${what}: patch max`);
  assert.ok(min >= -80, `${what}: patch min ${min}`);
  const { worst, bands } = worstByLevel(gpuPatch, ref);
  assert.ok(worst <= tol, `${what}: ${bands}`);
}

Deno.test({
  name:
    `double-float arithmetic is exact on this device (two-sum, two-product) and ~1e-14 (operations)${suffix}`,
  ignore,
  async fn() {
    const check = await verifyDoubleFloat(device!);
    assert.ok(check.ok, check.problem ?? "");
    assert.ok(check.worst <= 1e-13, `worst ${check.worst}`);
  },
});

for (const repr of ["mel256", "mel128", "linear"] as const) {
  Deno.test({
    name:
      `WGSL ${repr} frontend equals the float64 CPU reference within 0.01 dB at every level, named cases${suffix}`,
    ignore,
    async fn() {
      const cases = namedCases();
      const fe = GpuFrontend.create(device!, repr, { maxWindows: 4 });
      try {
        const samples = new Float64Array(cases.length * 48000);
        cases.forEach(([, w], i) => samples.set(w, i * 48000));
        // 10 windows through a capacity of 4: exercises partial batches and the windows uniform
        const out = await withValidation(device!, () => gpuSpectrogramBatch(fe, samples, cases.length));
        const size = FRONTENDS[repr].bins * FRONTENDS[repr].frames;
        cases.forEach(([name, w], i) => {
          checkPatch(
            out.subarray(i * size, (i + 1) * size),
            spectrogramPatch(w, repr),
            0.01,
            `${repr} ${name}`,
          );
        });
      } finally {
        fe.destroy();
      }
    },
  });
}

Deno.test({
  name:
    `WGSL frontend equals the float64 ideal of the 96 kHz 24-bit file within 0.01 dB at every level${suffix}`,
  ignore,
  async fn() {
    const windows = await deepWindows();
    const samples = new Float64Array(3 * 48000);
    windows.forEach((w, i) => samples.set(w, i * 48000));
    for (const repr of ["mel256", "mel128", "linear"] as const) {
      const fe = await createFrontend({ repr, device: "webgpu", gpu, batchSize: 3 });
      try {
        assert.equal(fe.kind, "webgpu", fe.description);
        const out = await fe.compute(samples, 3);
        const ref = await referenceArray(`deep_${repr}_hop1_nocenter`);
        const size = FRONTENDS[repr].bins * FRONTENDS[repr].frames;
        for (let w = 0; w < 3; w++) {
          checkPatch(
            out.subarray(w * size, (w + 1) * size),
            Array.from(ref.data).slice(w * size, (w + 1) * size),
            0.01,
            `deep ${repr} window ${w}`,
          );
        }
      } finally {
        fe.destroy();
      }
    }
  },
});

Deno.test({
  name: `WGSL frontend: pipelines are cached by key and reused across frontends${suffix}`,
  ignore,
  fn() {
    const a = GpuFrontend.create(device!, "mel128", { maxWindows: 1 });
    const before = cachedPipelineCount(device!);
    const b = GpuFrontend.create(device!, "mel128", { maxWindows: 2 });
    assert.equal(cachedPipelineCount(device!), before);
    a.destroy();
    b.destroy();
  },
});

Deno.test({
  name: `WGSL frontend: argument checks name the bad value${suffix}`,
  ignore,
  fn() {
    const fe = GpuFrontend.create(device!, "mel128", { maxWindows: 2 });
    try {
      assert.throws(() => fe.run(new Float64Array(48000), 3), /count must be 1..2, got 3/);
      assert.throws(() => fe.run(new Float64Array(100), 1), ArgumentError);
      assert.throws(
        () => GpuFrontend.create(device!, "mel128", { maxWindows: 0 }),
        /positive integer, got 0/,
      );
    } finally {
      fe.destroy();
    }
  },
});

Deno.test("WGSL shader builders: names, distinct cache keys, fixed sizes as constants, bounds checks", () => {
  const keys = new Set<string>();
  for (const repr of ["mel256", "mel128", "linear"] as const) {
    const spec = FRONTENDS[repr];
    for (const s of [stftMagnitudeShader(spec), melDbShader(spec), dbFloorShader(spec)]) {
      assert.ok(s.name.length > 0);
      keys.add(s.cacheKey);
      assert.match(s.code, /params\.windows/, `${s.name} checks the window count`);
      assert.match(s.code, /\) \{ return; \}/, `${s.name} returns early out of bounds`);
    }
    assert.match(stftMagnitudeShader(spec).code, new RegExp(`const N_FFT: u32 = ${spec.nFft}u;`));
    assert.match(stftMagnitudeShader(spec).code, /df_launder/, "double-float sums are guarded");
  }
  // mel256 and mel128 share the STFT kernel; everything else differs
  assert.equal(keys.size, 8);
});

globalThis.addEventListener("unload", () => device?.destroy());
