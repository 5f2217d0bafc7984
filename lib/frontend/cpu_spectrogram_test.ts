import { assert, assertAllClose, worstByLevel } from "../../tests/helpers.ts";
import { chirpWindows, deepWindows, referenceArray, toneWindows } from "../../tests/reference_windows.ts";
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

const CASES: [string, InputRepr, number][] = [
  ["tones_mel256_window0", "mel256", 0],
  ["tones_mel256_window5", "mel256", 5],
  ["tones_mel256_window10", "mel256", 10],
  ["tones_mel128_window5", "mel128", 5],
  ["tones_linear_window5", "linear", 5],
];

Deno.test("CPU frontend equals librosa's tones spectrograms within 1e-4 dB at every level", async () => {
  const windows = toneWindows();
  for (const [name, repr, index] of CASES) {
    const ref = await referenceArray(name);
    const spec = FRONTENDS[repr];
    assert.deepEqual(ref.shape, [spec.bins, spec.frames]);
    const { worst, bands } = worstByLevel(spectrogramPatch(windows[index], repr), ref.data);
    assert.ok(worst <= 1e-4, `${name}: ${bands}`);
  }
});

Deno.test("CPU frontend equals the chirp's mel256 spectrogram (window 3) within 1e-4 dB at every level", async () => {
  const ref = await referenceArray("chirp_44k_mel256_window3");
  const { worst, bands } = worstByLevel(spectrogramPatch((await chirpWindows())[3], "mel256"), ref.data);
  assert.ok(worst <= 1e-4, `chirp window 3: ${bands}`);
});

Deno.test("CPU frontend equals the float64 ideal of the 96 kHz 24-bit file within 1e-3 dB at every level, all frontends", async () => {
  const windows = await deepWindows();
  assert.equal(windows.length, 3);
  for (const repr of ["mel256", "mel128", "linear"] as const) {
    const ref = await referenceArray(`deep_${repr}_hop1_nocenter`);
    const { bins, frames } = FRONTENDS[repr];
    assert.deepEqual(ref.shape, [3, bins, frames]);
    for (let w = 0; w < 3; w++) {
      const expected = Array.from(ref.data).slice(w * bins * frames, (w + 1) * bins * frames);
      const { worst, bands } = worstByLevel(spectrogramPatch(windows[w], repr), expected);
      assert.ok(worst <= 1e-3, `deep ${repr} window ${w}: ${bands}`);
    }
  }
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
