import { assert, peakFrequency } from "./helpers.ts";
import { run } from "../create_test_audio.ts";
import { decodeAudioFile } from "../lib/audio/decode.ts";
import { TEST_SOUNDS } from "../lib/audio/synthetic_set.ts";

/** Mean power of a Hann-windowed direct DFT over `freqs` (Hz). */
function bandPower(x: Float32Array | Float64Array, sr: number, lo: number, hi: number, step: number): number {
  const n = x.length;
  let sum = 0, count = 0;
  for (let f = lo; f <= hi; f += step) {
    const w = (2 * Math.PI * f) / sr;
    let re = 0, im = 0;
    for (let i = 0; i < n; i++) {
      const h = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
      re += h * x[i] * Math.cos(w * i);
      im -= h * x[i] * Math.sin(w * i);
    }
    sum += re * re + im * im;
    count++;
  }
  return sum / count;
}

const SR = 22050;

Deno.test("create_test_audio: eight MP3s of the stated length with peaks at the stated frequencies", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const paths = await run({ out: dir, duration: 3, verbose: false });
    assert.equal(paths.length, 8);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, TEST_SOUNDS.map((s) => `${s.name}.mp3`).sort());
    for (const spec of TEST_SOUNDS) {
      const d = await decodeAudioFile(`${dir}/${spec.name}.mp3`);
      assert.equal(d.sampleRate, SR);
      assert.equal(d.channelCount, 1);
      assert.equal(d.channels[0].length, 3 * SR, `${spec.name}: gapless length`);
      // half a second from the sustain part (30 % .. 80 % of the duration)
      const x = d.channels[0].subarray(Math.round(1.2 * SR), Math.round(1.7 * SR));
      for (const f of spec.frequencies) {
        const peak = peakFrequency(x, SR, Math.round(f) - 15, Math.round(f) + 15);
        assert.ok(Math.abs(peak - f) <= 2, `${spec.name}: peak near ${f} Hz is at ${peak} Hz`);
        const on = bandPower(x, SR, f, f, 1);
        const off = bandPower(x, SR, f * 1.09, f * 1.09, 1);
        assert.ok(on > 100 * off, `${spec.name}: ${f} Hz stands out (${on} vs ${off})`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("create_test_audio: seeded, so two runs give identical files; another seed changes the noise only", async () => {
  const a = await Deno.makeTempDir(), b = await Deno.makeTempDir(), c = await Deno.makeTempDir();
  try {
    await run({ out: a, duration: 1, verbose: false });
    await run({ out: b, duration: 1, verbose: false });
    await run({ out: c, duration: 1, seed: 7, verbose: false });
    for (const spec of TEST_SOUNDS) {
      const fa = await Deno.readFile(`${a}/${spec.name}.mp3`);
      const fb = await Deno.readFile(`${b}/${spec.name}.mp3`);
      const fc = await Deno.readFile(`${c}/${spec.name}.mp3`);
      assert.deepEqual(fa, fb, `${spec.name} is reproducible`);
      assert.equal(spec.noise === undefined, fa.every((v, i) => v === fc[i]), `${spec.name} vs seed 7`);
    }
  } finally {
    for (const d of [a, b, c]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("create_test_audio: WAV output; white noise has σ 0.1; the noises have their spectral slopes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const paths = await run({ out: dir, duration: 2, format: "wav", truePink: true, verbose: false });
    assert.equal(paths.length, 9);
    const read = async (name: string) => (await decodeAudioFile(`${dir}/${name}.wav`)).channels[0];
    const white = await read("white_noise");
    assert.equal(white.length, 2 * SR);
    const std = Math.sqrt(Array.from(white).reduce((s, v) => s + v * v, 0) / white.length);
    assert.ok(Math.abs(std - 0.1) < 0.005, `white σ ${std}`);
    // power per octave band, high octave over low octave: white ≈ 10, pink ≈ 1, brown (the original's "pink") ≈ 0.1
    const ratio = (x: Float32Array | Float64Array) => {
      const seg = x.subarray(0, SR);
      return bandPower(seg, SR, 1000, 2000, 5) * 1000 / (bandPower(seg, SR, 100, 200, 0.5) * 100);
    };
    const rw = ratio(white), rp = ratio(await read("pink_noise_1f")), rb = ratio(await read("pink_noise"));
    assert.ok(rw > 5 && rw < 20, `white ${rw}`);
    assert.ok(rp > 0.5 && rp < 2, `pink ${rp}`);
    assert.ok(rb < 0.2, `brown ${rb}`);
    const brown = await read("pink_noise");
    const peak = Array.from(brown).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(Math.abs(peak - 1) < 1e-4, `the original's pink noise is normalised to peak 1 (got ${peak})`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
