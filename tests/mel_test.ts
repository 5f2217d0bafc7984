import { assert, assertAllClose } from "./helpers.ts";
import { run } from "../mel.ts";
import { decodeNpy } from "../lib/util/npy.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { resample } from "../lib/audio/resample.ts";
import { ArraySource, frameBatches, planFrames } from "../lib/audio/frame.ts";
import { spectrogramPatch } from "../lib/frontend/cpu_spectrogram.ts";
import { FRONTENDS } from "../lib/frontend/spec.ts";

Deno.test("mel --stage resampled: writes the 48 kHz mono signal (mean of channels, resampled) as float64 .npy", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const l = Float32Array.from({ length: 11025 }, (_, i) => 0.5 * Math.sin(i / 5));
    const r = Float32Array.from({ length: 11025 }, (_, i) => 0.25 * Math.cos(i / 3));
    await Deno.writeFile(`${dir}/a.wav`, encodeWav([l, r], 11025, { encoding: "float32" }));
    const res = await run({ audio: `${dir}/a.wav`, out: `${dir}/a.npy`, stage: "resampled", verbose: false });
    assert.deepEqual(res.shape, [48000]);
    const npy = decodeNpy(await Deno.readFile(`${dir}/a.npy`));
    assert.equal(npy.descr, "<f8");
    assert.deepEqual(npy.shape, [48000]);
    const mono = Float64Array.from(l, (v, i) => (v + r[i]) / 2); // the mean in float64
    assertAllClose(npy.data, resample(mono, 11025, 48000), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mel: the command line reports a missing file as one error line, exit status 1", async () => {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "mel.ts", "/nonexistent.mp3", "--out", "/tmp/x.npy"],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  });
  const out = await p.output();
  assert.equal(out.code, 1);
  assert.match(new TextDecoder().decode(out.stderr), /^error: \/nonexistent.mp3: no such file\n$/);
});

Deno.test("mel --stage spectrogram: every window's patch, as the CPU reference computes it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const x = Float32Array.from({ length: 30000 }, (_, i) => 0.3 * Math.sin(i / 9) + 0.1 * Math.sin(i / 2));
    await Deno.writeFile(`${dir}/a.wav`, encodeWav([x], 16000, { encoding: "float32" }));
    for (const [repr, hopSize, center] of [["mel256", 0.1, true], ["linear", 0.5, false]] as const) {
      const res = await run({
        audio: `${dir}/a.wav`,
        out: `${dir}/s.npy`,
        inputRepr: repr,
        hopSize,
        center,
        device: "cpu",
        batchSize: 3,
        verbose: false,
      });
      const spec = FRONTENDS[repr];
      const windows = planFrames(30000 * 3, { hopSize, center }).windows;
      assert.deepEqual(res.shape, [windows, spec.bins, spec.frames]);
      const npy = decodeNpy(await Deno.readFile(`${dir}/s.npy`));
      assert.deepEqual(npy.shape, res.shape);
      const all: Float32Array[] = [];
      const source = new ArraySource(resample(x, 16000, 48000));
      for (const b of frameBatches(source, planFrames(source.length, { hopSize, center }), 1)) {
        all.push(spectrogramPatch(b.samples, repr));
      }
      assert.equal(all.length, windows);
      const size = spec.bins * spec.frames;
      all.forEach((p, i) => assertAllClose(npy.data.subarray(i * size, (i + 1) * size), p, 0, `window ${i}`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
