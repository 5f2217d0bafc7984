import { assert, fixture } from "../../tests/helpers.ts";
import { decodeNpy } from "../util/npy.ts";
import { ArraySource, frameBatches, planFrames, sourceAt48k, WINDOW_SAMPLES, WindowFramer } from "./frame.ts";
import { Rng } from "../util/rng.ts";

const C = { hopSize: 0.1, center: true }, NC = { hopSize: 0.1, center: false };
import { resample } from "./resample.ts";
import { OpenL3Error } from "../util/errors.ts";

/** Windows computed the naive way, straight from spec §1.3, for comparison. */
function naiveWindows(x: Float32Array, hopSize: number, center: boolean): Float64Array[] {
  const hop = Math.trunc(hopSize * 48000);
  let padded = center ? [...new Array(24000).fill(0), ...x] : [...x];
  if (padded.length < 48000) padded = [...padded, ...new Array(48000 - padded.length).fill(0)];
  while ((padded.length - 48000) % hop !== 0) padded.push(0);
  const out: Float64Array[] = [];
  for (let s = 0; s + 48000 <= padded.length; s += hop) {
    out.push(Float64Array.from(padded.slice(s, s + 48000)));
  }
  return out;
}

function collect(x: Float32Array | Float64Array, hopSize: number, center: boolean, batchSize: number) {
  const windows: Float64Array[] = [];
  const stamps: number[] = [];
  for (const b of frameBatches(new ArraySource(x), planFrames(x.length, { hopSize, center }), batchSize)) {
    for (let k = 0; k < b.count; k++) {
      windows.push(b.samples.slice(k * WINDOW_SAMPLES, (k + 1) * WINDOW_SAMPLES));
    }
    stamps.push(...b.timestamps);
  }
  return { windows, stamps };
}

function ramp(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i + 1) / n);
}

Deno.test("frame: pushed in random chunks, the windows equal the direct construction (centred or not, gaps too)", () => {
  const rng = new Rng(11);
  for (const [n, hop, center] of [[100000, 0.35, true], [200000, 1.7, false], [30000, 0.1, true]] as const) {
    const x = ramp(n);
    const expected = naiveWindows(x, hop, center);
    const framer = new WindowFramer({ hopSize: hop, center }, 3);
    const got: Float64Array[] = [];
    const take = (bs: { count: number; samples: Float64Array }[]) => {
      for (const b of bs) {
        for (let k = 0; k < b.count; k++) got.push(b.samples.slice(k * 48000, (k + 1) * 48000));
      }
    };
    for (let i = 0; i < n;) {
      const c = 1 + Math.floor(rng.uniform() * 20000);
      take(framer.push(x.subarray(i, i + c)));
      i += c;
    }
    const { batches, plan } = framer.end();
    take(batches);
    assert.equal(got.length, expected.length);
    assert.equal(plan.windows, expected.length);
    got.forEach((w, i) => assert.deepEqual(w, expected[i], `window ${i} (${n}, ${hop}, ${center})`));
  }
});

Deno.test("frame: 2 s at 22 050 Hz gives 16 windows with the reference timestamps", async () => {
  const ref = decodeNpy(await Deno.readFile(fixture("tones_timestamps.npy")));
  const y = resample(new Float32Array(44100).fill(0.1), 22050, 48000);
  const { windows, stamps } = collect(y, 0.1, true, 7);
  assert.equal(windows.length, 16);
  assert.deepEqual(new Float64Array(stamps), ref.data);
});

const cases: [string, number, number, boolean][] = [
  ["shorter than 1 s, centred", 10000, 0.1, true],
  ["shorter than 1 s, not centred", 10000, 0.1, false],
  ["exactly 1 s, centred", 48000, 0.1, true],
  ["exactly 1 s, not centred", 48000, 0.1, false],
  ["hop not dividing the length", 100000, 0.35, true],
  ["hop not dividing, not centred", 100001, 0.35, false],
  ["hop longer than a window (gaps)", 200000, 1.7, false],
  ["hop of 0.5 s, not centred", 96000, 0.5, false],
];
for (const [name, n, hop, center] of cases) {
  Deno.test(`frame: ${name} equals the direct construction for every batch size`, () => {
    const x = ramp(n);
    const expected = naiveWindows(x, hop, center);
    for (const batch of [1, 3, 32]) {
      const { windows, stamps } = collect(x, hop, center, batch);
      assert.equal(windows.length, expected.length, `window count, batch ${batch}`);
      windows.forEach((w, i) => assert.deepEqual(w, expected[i], `window ${i}, batch ${batch}`));
      assert.deepEqual(stamps, expected.map((_, i) => i * hop));
    }
    assert.equal(planFrames(n, { hopSize: hop, center }).windows, expected.length);
  });
}

Deno.test("frame: exact counts from the spec", () => {
  assert.equal(planFrames(48000, NC).windows, 1);
  assert.equal(planFrames(48000, C).windows, 6); // 72 000 after centring: 1 + 24 000 / 4 800
  assert.equal(planFrames(1, C).windows, 1);
  assert.equal(planFrames(1, NC).paddedLength, 48000);
  assert.equal(planFrames(48001, NC).paddedLength, 52800);
});

Deno.test("frame: audio shorter than 1 s warns, 1 s and longer does not", () => {
  assert.match(planFrames(47999, NC).warnings[0], /shorter than the 1 s window/);
  assert.equal(planFrames(48000, C).warnings.length, 0);
});

Deno.test("frame: empty audio and bad options are errors", () => {
  assert.throws(() => planFrames(0, C), OpenL3Error);
  assert.throws(
    () => planFrames(100, { hopSize: 0, center: true }),
    /hop size must be a positive number of seconds, got 0/,
  );
  assert.throws(() => planFrames(100, { hopSize: 1e-6, center: true }), /shorter than one sample/);
  assert.throws(() => [...frameBatches(new ArraySource(ramp(10)), planFrames(10, C), 0)], /batch size/);
});

Deno.test("frame: streaming from the resampler equals framing the resampled array", () => {
  const x = Float32Array.from({ length: 30000 }, (_, i) => Math.sin(i / 7));
  const whole = resample(x, 22050, 48000);
  const a = collect(whole, 0.1, true, 4).windows;
  const b: Float64Array[] = [];
  const source = sourceAt48k(x, 22050);
  for (const batch of frameBatches(source, planFrames(source.length, { hopSize: 0.1, center: true }), 4)) {
    for (let k = 0; k < batch.count; k++) b.push(batch.samples.slice(k * 48000, (k + 1) * 48000));
  }
  assert.equal(a.length, b.length);
  a.forEach((w, i) => assert.deepEqual(b[i], w));
});

Deno.test("frame: no batch buffer grows with the length of the source", () => {
  // 10 minutes at 48 kHz, through a source that synthesises samples on demand
  const sizes = new Set<number>();
  const source = {
    length: 600 * 48000,
    at: 0,
    read(out: Float64Array) {
      const n = Math.min(out.length, this.length - this.at);
      this.at += n;
      return n;
    },
  };
  let windows = 0;
  const plan = planFrames(source.length, { hopSize: 0.1, center: true });
  for (const b of frameBatches(source, plan, 16)) {
    sizes.add(b.samples.buffer.byteLength);
    windows += b.count;
  }
  assert.equal(windows, plan.windows);
  assert.ok(Math.max(...sizes) <= 16 * 48000 * 8, "no batch holds more than 16 windows");
});
