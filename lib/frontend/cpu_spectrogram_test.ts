import { assert, assertAllClose } from "../../tests/helpers.ts";
import { chirpWindows, referenceArray, toneWindows } from "../../tests/reference_windows.ts";
import { fft } from "./fft.ts";
import { hzToMel, melFilters, melToHz } from "./mel_filters.ts";
import { spectrogramPatch } from "./cpu_spectrogram.ts";
import { FRONTENDS, frontendSpec, hannPeriodic, type InputRepr } from "./spec.ts";
import { ArgumentError } from "../util/errors.ts";

Deno.test("mel filters equal librosa 0.8.1 filters.mel (≤ 1e-6) for 256 and 128 bands", async () => {
  for (const n of [256, 128]) {
    const ref = await referenceArray(`mel_filters_48000_2048_${n}`);
    assert.deepEqual(ref.shape, [n, 1025]);
    assertAllClose(melFilters(48000, 2048, n), ref.data, 1e-6, `mel filters ${n}`);
  }
});

Deno.test("mel scale: Slaney breakpoints and round trip", () => {
  assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
  assert.ok(Math.abs(hzToMel(500) - 7.5) < 1e-12);
  for (const f of [0, 50, 999, 1000, 4321, 24000]) assert.ok(Math.abs(melToHz(hzToMel(f)) - f) < 1e-9);
});

Deno.test("fft equals a direct DFT", () => {
  const n = 64;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) + (i % 5) * 0.1);
  const re = x.slice(), im = new Float64Array(n);
  fft(re, im);
  for (let k = 0; k < n; k++) {
    let r = 0, s = 0;
    for (let t = 0; t < n; t++) {
      r += x[t] * Math.cos((2 * Math.PI * k * t) / n);
      s -= x[t] * Math.sin((2 * Math.PI * k * t) / n);
    }
    assert.ok(Math.abs(re[k] - r) < 1e-10 && Math.abs(im[k] - s) < 1e-10, `bin ${k}`);
  }
  assert.throws(() => fft(new Float64Array(6), new Float64Array(6)), /power of two/);
});

Deno.test("periodic Hann window", () => {
  const w = hannPeriodic(4);
  assertAllClose(w, [0, 0.5, 1, 0.5], 1e-15);
});

/** Compare a patch with a reference where the reference is above `above` dB. */
function compareAbove(patch: Float32Array, ref: ArrayLike<number>, above: number, tol: number, what: string) {
  let worst = 0, count = 0;
  for (let i = 0; i < patch.length; i++) {
    if (ref[i] > above) {
      worst = Math.max(worst, Math.abs(patch[i] - ref[i]));
      count++;
    }
  }
  assert.ok(count > 100, `${what}: ${count} bins above ${above} dB`);
  assert.ok(worst <= tol, `${what}: max |diff| ${worst} dB above ${above} dB exceeds ${tol}`);
}

const CASES: [string, InputRepr, number][] = [
  ["tones_mel256_window0", "mel256", 0],
  ["tones_mel256_window5", "mel256", 5],
  ["tones_mel256_window10", "mel256", 10],
  ["tones_mel128_window5", "mel128", 5],
];

Deno.test("CPU frontend matches librosa's tones spectrograms within 0.01 dB above −60 dB", async () => {
  const windows = toneWindows();
  for (const [name, repr, index] of CASES) {
    const ref = await referenceArray(name);
    const spec = FRONTENDS[repr];
    assert.deepEqual(ref.shape, [spec.bins, spec.frames]);
    compareAbove(spectrogramPatch(windows[index], repr), ref.data, -60, 0.01, name);
  }
});

Deno.test("CPU frontend matches the chirp's mel256 spectrogram (window 3) within 0.01 dB above −60 dB", async () => {
  const ref = await referenceArray("chirp_44k_mel256_window3");
  compareAbove(spectrogramPatch((await chirpWindows())[3], "mel256"), ref.data, -60, 0.01, "chirp window 3");
});

Deno.test("CPU linear frontend matches librosa within 0.01 dB above −50 dB and 0.05 dB above −60 dB", async () => {
  // The linear patch is 10·log10 of single-bin magnitudes: at −55 dB a bin is 3e-6 of the peak, at the
  // float32 rounding level of the reference's own STFT, so there its figures scatter by a few 0.01 dB.
  const ref = await referenceArray("tones_linear_window5");
  assert.deepEqual(ref.shape, [257, 197]);
  const patch = spectrogramPatch(toneWindows()[5], "linear");
  compareAbove(patch, ref.data, -50, 0.01, "linear window 5");
  compareAbove(patch, ref.data, -60, 0.05, "linear window 5");
});

Deno.test("closed form: a pure tone peaks in the mel band that contains its frequency", () => {
  for (const repr of ["mel256", "mel128"] as const) {
    const spec = FRONTENDS[repr];
    const filters = melFilters(48000, 2048, spec.bins);
    for (const f of [100, 440, 1000, 3000, 11025]) {
      const tone = Float32Array.from(
        { length: 48000 },
        (_, n) => 0.5 * Math.sin(2 * Math.PI * f * n / 48000),
      );
      const patch = spectrogramPatch(tone, repr);
      // loudest band in the middle frame
      let best = 0;
      for (let b = 1; b < spec.bins; b++) if (patch[b * 199 + 100] > patch[best * 199 + 100]) best = b;
      // the band whose filter weighs the tone's nearest FFT bin most
      const bin = Math.round(f / (48000 / 2048));
      let expected = 0;
      for (let b = 1; b < spec.bins; b++) {
        if (filters[b * 1025 + bin] > filters[expected * 1025 + bin]) expected = b;
      }
      assert.ok(Math.abs(best - expected) <= 1, `${repr} ${f} Hz: band ${best}, expected ${expected}`);
    }
  }
});

Deno.test("closed form: a tone at bin k peaks at linear bin k", () => {
  const f = 40 * 48000 / 512; // bin 40 of the 512-point STFT
  const tone = Float32Array.from({ length: 48000 }, (_, n) => Math.sin(2 * Math.PI * f * n / 48000));
  const patch = spectrogramPatch(tone, "linear");
  for (let j = 0; j < 197; j += 50) {
    let best = 0;
    for (let b = 1; b < 257; b++) if (patch[b * 197 + j] > patch[best * 197 + j]) best = b;
    assert.equal(best, 40);
  }
});

Deno.test("every patch has max 0 and min ≥ −80, silence included", () => {
  const inputs = [
    new Float32Array(48000),
    Float32Array.from({ length: 48000 }, (_, n) => (n % 100 < 50 ? 1 : -1)),
  ];
  for (const x of inputs) {
    for (const repr of ["mel256", "mel128", "linear"] as const) {
      const p = spectrogramPatch(x, repr);
      let max = -Infinity, min = Infinity;
      for (const v of p) {
        max = Math.max(max, v);
        min = Math.min(min, v);
      }
      assert.equal(max, 0);
      assert.ok(min >= -80, `${repr}: min ${min}`);
    }
  }
});

Deno.test("bad frontend names and window sizes are named in the error", () => {
  assert.throws(() => frontendSpec("mel64"), /one of mel256, mel128, linear; got "mel64"/);
  assert.throws(() => spectrogramPatch(new Float32Array(100), "mel256"), ArgumentError);
});
