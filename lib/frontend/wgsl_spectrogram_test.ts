/**
 * The WGSL frontend against the float64 CPU reference on named cases. Runs on
 * whatever adapter exists (in CI: the llvmpipe software rasteriser, chosen
 * explicitly); skipped, with the reason in its name, only when there is none.
 */
import { assert } from "../../tests/helpers.ts";
import { toneWindows } from "../../tests/reference_windows.ts";
import { requestAdapter } from "../gpu/device.ts";
import { spectrogramPatch } from "./cpu_spectrogram.ts";
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

const adapter = await requestAdapter();
const device = adapter ? await adapter.requestDevice() : undefined;
const ignore = !device;
const suffix = device ? "" : " (SKIPPED: no WebGPU adapter on this machine)";
if (!device) console.warn("wgsl_frontend_test: no WebGPU adapter: the GPU tests are skipped");

function tone(freq: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: 48000 }, (_, n) => amp * Math.sin(2 * Math.PI * freq * n / 48000));
}

/** The named cases of issue 3. */
function namedCases(): [string, Float32Array][] {
  const rng = new Rng(3);
  const impulseStart = new Float32Array(48000);
  impulseStart[0] = 1;
  const impulseEnd = new Float32Array(48000);
  impulseEnd[47999] = -1;
  const firstFrameMax = Float32Array.from(
    { length: 48000 },
    (_, n) => (n < 400 ? 0.9 : 0.01) * Math.sin(n / 3),
  );
  return [
    ["silence", new Float32Array(48000)],
    [
      "full-scale square wave",
      Float32Array.from({ length: 48000 }, (_, n) => (Math.floor(n / 60) % 2 ? -1 : 1)),
    ],
    ["tone at an FFT bin centre (bin 100 of 2048)", tone(100 * 48000 / 2048)],
    ["tone between bins (bin 100.5 of 2048)", tone(100.5 * 48000 / 2048)],
    ["white noise", Float32Array.from({ length: 48000 }, () => rng.normal(0, 0.1))],
    ["impulse at the first sample", impulseStart],
    ["impulse at the last sample", impulseEnd],
    ["maximum in the first frame", firstFrameMax],
    ["reference tones, window 5", toneWindows()[5]],
  ];
}

/**
 * Float32 arithmetic in a 2048-point FFT leaves absolute errors of a few 1e-7 of the frame's peak
 * magnitude, whatever the level of a bin. So the bound is on the linear value relative to the patch
 * maximum, |10^(gpu/10) − 10^(cpu/10)| ≤ 1e-6 (about 16 float32 ulps of the max; 7e-7 seen), which is 0.01 dB
 * for bins within 40 dB of the maximum and grows towards the −80 dB floor, where any float32
 * implementation (Kapre's included) is rounding noise. Near the max, dB must agree to 0.01 dB.
 */
const LINEAR_TOL = 1e-6;

function compare(gpu: Float32Array, cpu: Float32Array, what: string) {
  let w40 = 0, lin = 0, max = -Infinity, min = Infinity;
  for (let i = 0; i < cpu.length; i++) {
    if (!Number.isFinite(gpu[i])) throw new Error(`${what}: non-finite value at ${i}`);
    if (cpu[i] > -40) w40 = Math.max(w40, Math.abs(gpu[i] - cpu[i]));
    lin = Math.max(lin, Math.abs(10 ** (gpu[i] / 10) - 10 ** (cpu[i] / 10)));
    max = Math.max(max, gpu[i]);
    min = Math.min(min, gpu[i]);
  }
  assert.equal(max, 0, `${what}: patch max`);
  assert.ok(min >= -80, `${what}: patch min ${min}`);
  assert.ok(w40 <= 0.01, `${what}: ${w40} dB off within 40 dB of the max`);
  assert.ok(lin <= LINEAR_TOL, `${what}: linear error ${lin} of the patch max`);
}

for (const repr of ["mel256", "mel128", "linear"] as const) {
  Deno.test({
    name: `WGSL ${repr} frontend equals the CPU reference on the named cases${suffix}`,
    ignore,
    async fn() {
      const cases = namedCases();
      const fe = GpuFrontend.create(device!, repr, { maxWindows: 4 });
      try {
        const samples = new Float32Array(cases.length * 48000);
        cases.forEach(([, w], i) => samples.set(w, i * 48000));
        // 9 windows through a capacity of 4: exercises partial batches and the windows uniform
        const out = await withValidation(device!, () => gpuSpectrogramBatch(fe, samples, cases.length));
        const size = FRONTENDS[repr].bins * FRONTENDS[repr].frames;
        cases.forEach(([name, w], i) => {
          compare(out.subarray(i * size, (i + 1) * size), spectrogramPatch(w, repr), `${repr} ${name}`);
        });
      } finally {
        fe.destroy();
      }
    },
  });
}

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
      assert.throws(() => fe.run(new Float32Array(48000), 3), /count must be 1..2, got 3/);
      assert.throws(() => fe.run(new Float32Array(100), 1), ArgumentError);
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
  }
  // mel256 and mel128 share the STFT kernel; everything else differs
  assert.equal(keys.size, 8);
});
