import assert from "node:assert/strict";
import { openl3Architecture } from "./architecture.ts";
import { randomWeights } from "./random_weights.ts";
import { buildOpenL3Onnx, INPUT_NAME, OUTPUT_NAME } from "./onnx_graph.ts";
import { encodeOnnxModel } from "./onnx_proto.ts";
import {
  buildFoldedOnnx,
  buildInt8Onnx,
  foldBatchNorms,
  type FoldedConv,
  type FoldedNetwork,
  type Int8Calibration,
  type Int8Form,
  Int8GraphWriter,
  quantizePerChannel,
  type Uint8Quant,
  uint8Quant,
} from "./int8_graph.ts";
import { calibrate, calibrationWindows } from "./calibration.ts";
import { loadCpuOrt, worstCosine } from "./inference.ts";
import { spectrogramPatch } from "../frontend/cpu_spectrogram.ts";
import { naiveOpenL3 } from "../../tests/naive_openl3.ts";
import { BN_EPSILON, networkSteps } from "./architecture.ts";
import { Rng } from "../util/rng.ts";

const { ort, sessionOptions } = await loadCpuOrt();

async function runModel(
  bytes: Uint8Array,
  input: Float32Array,
  dims: number[],
  outputs: string[] = [OUTPUT_NAME],
): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(bytes, sessionOptions);
  try {
    const r = await s.run({ [INPUT_NAME]: new ort.Tensor("float32", input, dims) });
    return outputs.map((o) => new Float32Array(r[o].data as Float32Array));
  } finally {
    await s.release();
  }
}

/** Round half to even, as onnxruntime's requantization (and QuantizeLinear) rounds. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

/** A float64 model of one quantized 3×3 'same' convolution on (C, H, W) uint8 values. */
function referenceQConv(
  xq: Int32Array,
  [c, h, w]: [number, number, number],
  conv: FoldedConv,
  input: Uint8Quant,
  out: Uint8Quant,
  f32 = false,
): Int32Array {
  const { values, scales } = quantizePerChannel(conv.weight, conv.outChannels);
  const r = f32 ? Math.fround : (x: number) => x;
  const y = new Int32Array(conv.outChannels * h * w);
  for (let o = 0; o < conv.outChannels; o++) {
    const bias = Math.round(conv.bias[o] / (Math.fround(input.scale) * Math.fround(scales[o])));
    const m = r(r(r(input.scale) * r(scales[o])) / r(out.scale));
    for (let py = 0; py < h; py++) {
      for (let px = 0; px < w; px++) {
        let acc = bias; // an exact integer: every term is
        for (let i = 0; i < c; i++) {
          for (let ky = 0; ky < 3; ky++) {
            const yy = py + ky - 1;
            if (yy < 0 || yy >= h) continue; // the padding is the zero point: real 0
            for (let kx = 0; kx < 3; kx++) {
              const xx = px + kx - 1;
              if (xx < 0 || xx >= w) continue;
              acc += (xq[(i * h + yy) * w + xx] - input.zeroPoint) * values[((o * c + i) * 3 + ky) * 3 + kx];
            }
          }
        }
        y[(o * h + py) * w + px] = Math.max(0, Math.min(255, roundHalfEven(r(acc * m)) + out.zeroPoint));
      }
    }
  }
  return y;
}

function referencePool(x: Int32Array, [c, h, w]: [number, number, number], [ph, pw]: [number, number]) {
  const oh = Math.floor(h / ph), ow = Math.floor(w / pw);
  const y = new Int32Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        let m = 0;
        for (let a = 0; a < ph; a++) {
          for (let b = 0; b < pw; b++) m = Math.max(m, x[(ch * h + r * ph + a) * w + q * pw + b]);
        }
        y[(ch * oh + r) * ow + q] = m;
      }
    }
  }
  return { y, dims: [c, oh, ow] as [number, number, number] };
}

/** One quantized conv and a 2×2 pool, with power-of-two scales: every value is exact in float32. */
function closedFormCase(relu: boolean) {
  const rng = new Rng(relu ? 3 : 4);
  const [c, o, h, w] = [2, 3, 4, 5];
  const wScales = [2 ** -6, 2 ** -5, 2 ** -7];
  const xs = 2 ** -3, ys = 2 ** -2;
  const input: Uint8Quant = relu ? { scale: xs, zeroPoint: 0 } : { scale: xs, zeroPoint: 64 };
  const out: Uint8Quant = relu ? { scale: ys, zeroPoint: 0 } : { scale: ys, zeroPoint: 100 };
  const q = Int8Array.from({ length: o * c * 9 }, () => Math.round(-127 + 254 * rng.uniform()));
  for (let k = 0; k < o; k++) q[k * c * 9 + k] = k % 2 ? -127 : 127; // each channel reaches ±127: its scale is exact
  const weight = Float64Array.from(q, (v, i) => v * wScales[Math.floor(i / (c * 9))]);
  const bias = Float64Array.from(wScales, (s, k) => (k * 37 - 50) * xs * s);
  const conv: FoldedConv = { weight, bias, inChannels: c, outChannels: o, relu };
  const xq = Int32Array.from({ length: c * h * w }, () => Math.floor(256 * rng.uniform()));
  const x = Float32Array.from(xq, (v) => (v - input.zeroPoint) * xs);
  return { conv, input, out, xq, x, dims: [c, h, w] as [number, number, number] };
}

for (const form of ["qlinear", "qdq"] as Int8Form[]) {
  for (const relu of [true, false]) {
    Deno.test(`int8 ${form}: one conv and a max pool equal the integer arithmetic exactly (${relu ? "ReLU, zero point 0" : "no ReLU, zero points 64 → 100"})`, async () => {
      const { conv, input, out, xq, x, dims } = closedFormCase(relu);
      assert.deepEqual([...quantizePerChannel(conv.weight, conv.outChannels).scales], [
        2 ** -6,
        2 ** -5,
        2 ** -7,
      ]);
      const g = new Int8GraphWriter(form);
      const y = g.quantConv(
        { name: INPUT_NAME, q: null },
        conv,
        quantizePerChannel(conv.weight, 3),
        input,
        out,
      );
      g.op(y, "Identity", undefined, "conv");
      g.op(g.maxPool(y, [2, 2]), "Identity", undefined, "pooled");
      const bytes = encodeOnnxModel({
        name: "closed_form",
        nodes: g.nodes,
        initializers: g.inits,
        inputs: [{ name: INPUT_NAME, shape: [1, ...dims] }],
        outputs: [{ name: "conv", shape: [1, 3, 4, 5] }, { name: "pooled", shape: [1, 3, 2, 2] }],
        opset: 17,
        producer: "test",
      });
      const [convOut, pooled] = await runModel(bytes, x, [1, ...dims], ["conv", "pooled"]);
      const ref = referenceQConv(xq, dims, conv, input, out);
      const real = (v: number) => (v - out.zeroPoint) * out.scale;
      assert.deepEqual([...convOut], [...ref].map(real));
      assert.deepEqual([...pooled], [...referencePool(ref, [3, 4, 5], [2, 2]).y].map(real));
      if (relu) {
        assert.ok(ref.some((v) => v === 0) && ref.some((v) => v > 0), "the case must exercise the ReLU");
      } else assert.ok(ref.some((v) => v < out.zeroPoint), "the case must have negative outputs");
    });
  }
}

Deno.test("foldBatchNorms: the folded float32 network equals the unfolded one and the float64 network", async () => {
  const arch = openl3Architecture("mel128", 512, [4, 4, 8, 8]);
  const w = randomWeights(arch, 9);
  const windows = calibrationWindows();
  const patches = new Float32Array(2 * 128 * 199);
  patches.set(spectrogramPatch(windows[1], "mel128"), 0);
  patches.set(spectrogramPatch(windows[40], "mel128"), 128 * 199);
  const dims = [2, 1, 128, 199];
  const [folded] = await runModel(buildFoldedOnnx(w), patches, dims);
  const [plain] = await runModel(buildOpenL3Onnx(w), patches, dims);
  const n = folded.length / 2;
  for (let i = 0; i < 2; i++) {
    const ref = naiveOpenL3(patches.subarray(i * 128 * 199, (i + 1) * 128 * 199), w);
    const peak = Math.max(...ref.map(Math.abs));
    const err = (x: Float32Array) => Math.max(...ref.map((v, k) => Math.abs(v - x[i * n + k]))) / peak;
    assert.ok(err(folded) < 1e-5, `folded: ${err(folded)}`);
    assert.ok(err(plain) < 1e-5, `unfolded: ${err(plain)}`);
  }
  let diff = 0, peak = 0;
  for (let k = 0; k < folded.length; k++) {
    diff = Math.max(diff, Math.abs(folded[k] - plain[k]));
    peak = Math.max(peak, Math.abs(plain[k]));
  }
  assert.ok(diff / peak < 1e-5, `folded vs unfolded ${diff / peak}`);
});

/** The int8 network in float64: the input's BN, then integer convolutions and pools (spec of the graph). */
function referenceInt8(f: FoldedNetwork, calib: Int8Calibration, patch: Float32Array): Float64Array {
  const [h0, w0] = f.arch.input;
  const inQ = uint8Quant(calib.input);
  const bn = f.input;
  const k = Math.fround(bn.gamma[0] / Math.sqrt(bn.variance[0] + BN_EPSILON));
  let x: Int32Array = Int32Array.from(patch, (v) => {
    const y = Math.fround(Math.fround(Math.fround(v - bn.mean[0]) * k) + bn.beta[0]);
    return Math.max(0, Math.min(255, roundHalfEven(Math.fround(y / Math.fround(inQ.scale))) + inQ.zeroPoint));
  });
  let dims: [number, number, number] = [1, h0, w0];
  let q = inQ, i = 0;
  for (const step of networkSteps(f.arch)) {
    if (step.op === "conv") {
      const out = uint8Quant(calib.ranges[i]);
      x = referenceQConv(x, dims, f.convs[i], q, out, true);
      dims = [f.convs[i].outChannels, dims[1], dims[2]];
      q = out;
      i++;
    } else if (step.op === "pool") ({ y: x, dims } = referencePool(x, dims, step.size));
  }
  // NCHW → (row, column, channel), dequantized
  const [c, h, w] = dims;
  const out = new Float64Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < h; r++) {
      for (let s = 0; s < w; s++) {
        out[(r * w + s) * c + ch] = (x[(ch * h + r) * w + s] - q.zeroPoint) * q.scale;
      }
    }
  }
  return out;
}

Deno.test("buildInt8Onnx: the whole network equals a float64 model of its integer arithmetic, and stays near the float network", async () => {
  const arch = openl3Architecture("mel128", 512, [4, 4, 8, 8]);
  const w = randomWeights(arch, 12);
  const windows = calibrationWindows();
  const calib = await calibrate(w, { windows: windows.filter((_, i) => i % 6 === 0) });
  const picks = [2, 13, 47, 60];
  const patches = new Float32Array(picks.length * 128 * 199);
  picks.forEach((p, i) => patches.set(spectrogramPatch(windows[p], "mel128"), i * 128 * 199));
  const dims = [picks.length, 1, 128, 199];
  const f = foldBatchNorms(w);
  const step = uint8Quant(calib.ranges[7]).scale;
  for (const form of ["qlinear", "qdq"] as const) {
    const [got] = await runModel(buildInt8Onnx(w, calib, { form }), patches, dims);
    const n = got.length / picks.length;
    let equal = 0, worst = 0;
    for (let i = 0; i < picks.length; i++) {
      const ref = referenceInt8(f, calib, patches.subarray(i * 128 * 199, (i + 1) * 128 * 199));
      for (let k = 0; k < n; k++) {
        const d = Math.abs(got[i * n + k] - ref[k]) / step;
        if (d < 1e-3) equal++;
        worst = Math.max(worst, d);
      }
    }
    // here every output equals the model (the model rounds in float32 where the graph does: the input's
    // BN, the requantization multipliers); another CPU's kernels may round a rare value the other way
    assert.ok(equal / got.length >= 0.999, `${form}: ${equal} of ${got.length} outputs equal the model`);
    assert.ok(worst <= 2, `${form}: an output ${worst} quantization steps from the model`);
    const [fp32] = await runModel(buildOpenL3Onnx(w), patches, dims);
    const cos = worstCosine(got, fp32, picks.length);
    assert.ok(cos > 0.999, `${form}: worst cosine to the float network ${cos}`);
  }
});

Deno.test("buildInt8Onnx: records its precision and calibration; a calibration that does not fit is refused", () => {
  const arch = openl3Architecture("mel128", 512, [2, 2, 4, 4]);
  const w = randomWeights(arch, 1);
  const calib: Int8Calibration = {
    version: 1,
    method: "minmax",
    windows: 1,
    input: { min: -2, max: 2 },
    ranges: Array.from({ length: 8 }, () => ({ min: 0, max: 4 })),
  };
  const meta = new TextDecoder().decode(buildInt8Onnx(w, calib));
  assert.match(meta, /precision[\s\S]{0,4}int8/);
  assert.throws(
    () => buildInt8Onnx(w, { ...calib, ranges: calib.ranges.slice(1) }),
    /7 ranges, the network 8/,
  );
  assert.throws(() => uint8Quant({ min: 0, max: NaN }), /must be finite/);
  assert.deepEqual(uint8Quant({ min: -2, max: 127 / 64 }), { scale: 1 / 64, zeroPoint: 128 });
  assert.deepEqual(
    uint8Quant({ min: 0.5, max: 255 / 64 }),
    { scale: 1 / 64, zeroPoint: 0 },
    "a range holds 0",
  );
});
