/**
 * The int8 network against the float32 one, with seeded random (untrained) weights, in one run:
 *
 * 1. speed: the network alone, ms per window at batch 1 and 8 on the native backend (onnxruntime-node)
 *    for fp32 and each int8 variant (the two ONNX encodings, the first convolution kept float32, the
 *    calibration methods), and on WASM (onnxruntime-web) for fp32 and the default int8;
 * 2. agreement on a generated collection of songs encoded as MP3 by LAME (lamejs): the patches of each
 *    window are computed once and run through every network; per-song cosine of the max-pooled vectors
 *    (median, worst), per-window relative error ‖int8 − fp32‖ / ‖fp32‖ (median, worst), and recall@10 of
 *    each int8 network's cosine ranking against fp32's.
 *
 * The whole job (decode → … → store) for both precisions is `deno task bench-embed --precision fp32,int8`.
 *
 *     deno task bench-int8 [--songs 100] [--seconds 10] [--hop 0.5] [--speed-only | --agreement-only]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { convertedTestWeights } from "../tests/test_model.ts";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { createEmbeddingSession, type EmbeddingSession, probePatches } from "../lib/model/inference.ts";
import { buildInt8Onnx, type Int8Calibration, type Int8GraphOptions } from "../lib/model/int8_graph.ts";
import { calibrate, DEFAULT_CALIBRATION } from "../lib/model/calibration.ts";
import { weightsFromOnnx } from "../lib/model/onnx_weights.ts";
import { encodeMp3 } from "../lib/audio/mp3_encode.ts";
import { FileFeed } from "../lib/pipeline/file_feed.ts";
import { median, windowAgreement } from "../lib/pipeline/parity_report.ts";
import { Rng } from "../lib/util/rng.ts";
import { cosineSimilarity } from "../lib/util/vector_math.ts";

const { values } = parseArgs({
  options: {
    songs: { type: "string" },
    seconds: { type: "string" },
    hop: { type: "string" },
    "speed-only": { type: "boolean" },
    "agreement-only": { type: "boolean" },
  },
});
const SONGS = Number(values.songs ?? "100"), SECONDS = Number(values.seconds ?? "10");
const HOP = Number(values.hop ?? "0.5");
const cores = navigator.hardwareConcurrency ?? 1;
const dir = Deno.env.get("BENCH_DIR") ?? await Deno.makeTempDir({ prefix: "openl3-int8-" });
const arch = openl3Architecture("mel256", 512);
const [BINS, FRAMES] = arch.input;

const model = await convertedTestWeights(`${dir}/random.h5`, `${dir}/models`, 1);
const weights = weightsFromOnnx(model.onnx, arch);
console.log(
  `openl3-deno bench-int8: ${cores} cores, mel256 / 512, seeded random (untrained) weights, onnxruntime 1.30`,
);

let t0 = performance.now();
const calibrations: Record<string, Int8Calibration> = {
  [`percentile ${DEFAULT_CALIBRATION.percentile}`]: await calibrate(weights),
};
const calibrationSeconds = (performance.now() - t0) / 1000;
calibrations["percentile 99.99"] = await calibrate(weights, { method: "percentile", percentile: 99.99 });
calibrations["min/max"] = await calibrate(weights, { method: "minmax" });
const defaultCalibration = `percentile ${DEFAULT_CALIBRATION.percentile}`;
console.log(
  `calibration: ${calibrations[defaultCalibration].windows} windows, ${calibrationSeconds.toFixed(1)} s`,
);

/** The networks compared: fp32, the default int8, and its variants. */
const variants: { name: string; onnx: Uint8Array }[] = [{ name: "fp32", onnx: model.onnx }];
const int8 = (name: string, calibration: string, options: Int8GraphOptions = {}) =>
  variants.push({ name, onnx: buildInt8Onnx(weights, calibrations[calibration], options) });
int8("int8 (default: QLinearConv, all 8 convs, percentile 99.999)", defaultCalibration);
int8("int8, QDQ encoding", defaultCalibration, { form: "qdq", floatConvs: [] });
int8("int8, first conv float32", defaultCalibration, { floatConvs: [0] });
int8("int8, percentile 99.99", "percentile 99.99", { floatConvs: [] });
int8("int8, min/max", "min/max", { floatConvs: [] });

async function msPerWindow(s: EmbeddingSession, batch: number, rounds: number): Promise<number> {
  const patches = probePatches(batch, BINS, FRAMES);
  await s.run(patches, batch); // warm
  const t = performance.now();
  for (let r = 0; r < rounds; r++) await s.run(patches, batch);
  return (performance.now() - t) / (rounds * batch);
}

async function session(onnx: Uint8Array, backend: "native" | "wasm"): Promise<EmbeddingSession> {
  const precision = onnx === model.onnx ? "fp32" : "int8";
  return await createEmbeddingSession(onnx, { backend, input: arch.input, outputSize: 512, precision });
}

if (!values["agreement-only"]) {
  console.log(`\nnetwork alone (${cores} threads), ms per window:`);
  console.log("| network | backend | batch 1 | batch 8 | vs fp32 (batch 8) |");
  console.log("| --- | --- | --- | --- | --- |");
  let fp32 = 0;
  for (const v of variants) {
    const s = await session(v.onnx, "native");
    const one = await msPerWindow(s, 1, 8), eight = await msPerWindow(s, 8, 3);
    await s.release();
    if (v.name === "fp32") fp32 = eight;
    console.log(
      `| ${v.name} | native | ${one.toFixed(1)} | ${eight.toFixed(1)} | ${(fp32 / eight).toFixed(2)}× |`,
    );
  }
  let wasmFp32 = 0;
  for (const v of variants.slice(0, 2)) {
    const s = await session(v.onnx, "wasm");
    const one = await msPerWindow(s, 1, 2), four = await msPerWindow(s, 4, 1);
    await s.release();
    if (v.name === "fp32") wasmFp32 = four;
    console.log(
      `| ${v.name} | wasm | ${one.toFixed(1)} | ${four.toFixed(1)} (batch 4) | ${
        (wasmFp32 / four).toFixed(2)
      }× |`,
    );
  }
}

/** One generated song: chords, bass, drums, a melody, at a level; some ambient, some sparse. */
function song(i: number, sr: number): Float32Array {
  const rng = new Rng(1000 + i);
  const n = Math.round(SECONDS * sr);
  const x = new Float64Array(n);
  const bpm = 70 + rng.uniform() * 90, beat = 60 / bpm;
  const root = 40 + Math.floor(rng.uniform() * 24); // MIDI note
  const hz = (m: number) => 440 * 2 ** ((m - 69) / 12);
  const style = i % 5; // 0 band, 1 piano-like, 2 ambient pad, 3 drums only, 4 noise texture
  const harmonics = 1 + Math.floor(rng.uniform() * 8);
  const progression = [0, 5, 7, 3, 8, 10].map((d) => d + (rng.uniform() < 0.5 ? 0 : 12));
  const minor = rng.uniform() < 0.5;
  const tone = (f: number, start: number, dur: number, amp: number, decay: number) => {
    const s0 = Math.floor(start * sr), s1 = Math.min(n, Math.floor((start + dur) * sr));
    for (let s = s0; s < s1; s++) {
      const t = (s - s0) / sr;
      const env = Math.min(1, t * 200) * Math.exp(-decay * t);
      let v = 0;
      for (let h = 1; h <= harmonics; h++) v += Math.sin(2 * Math.PI * f * h * t) / (h * h);
      x[s] += amp * env * v;
    }
  };
  const noise = (start: number, dur: number, amp: number, decay: number, bright: boolean) => {
    const s0 = Math.floor(start * sr), s1 = Math.min(n, Math.floor((start + dur) * sr));
    let prev = 0;
    for (let s = s0; s < s1; s++) {
      const w = rng.normal(0, 1);
      const v = bright ? w - prev : 0.2 * w + 0.8 * prev;
      prev = w;
      x[s] += amp * Math.exp(-decay * (s - s0) / sr) * v;
    }
  };
  for (let t = 0, bar = 0; t < SECONDS; t += 4 * beat, bar++) {
    const r = root + progression[bar % progression.length];
    const chord = [0, minor ? 3 : 4, 7].map((d) => hz(r + 12 + d));
    if (style === 0 || style === 1 || style === 2) {
      for (const f of chord) tone(f, t, 4 * beat, style === 2 ? 0.15 : 0.1, style === 2 ? 0.2 : 1.5);
    }
    if (style === 0) { for (let b = 0; b < 4; b++) tone(hz(r), t + b * beat, beat, 0.3, 4); }
    if (style === 0 || style === 3) {
      for (let b = 0; b < 4; b++) {
        tone(55, t + b * beat, 0.3, 0.5, 12); // kick
        if (b % 2) noise(t + b * beat, 0.2, 0.3, 20, false); // snare
        for (let h = 0; h < 2; h++) noise(t + (b + h / 2) * beat, 0.05, 0.1, 60, true); // hats
      }
    }
    if (style === 1) {
      for (let k = 0; k < 8; k++) {
        if (rng.uniform() < 0.7) {
          tone(hz(r + 24 + [0, 2, 4, 7, 9][Math.floor(rng.uniform() * 5)]), t + k * beat / 2, beat, 0.15, 3);
        }
      }
    }
  }
  if (style === 4) noise(0, SECONDS, 0.2, 0, rng.uniform() < 0.5);
  if (i % 7 === 0) x.fill(0, Math.floor(n * 0.4), Math.floor(n * 0.6)); // a silent gap
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const level = 10 ** (-(1 + rng.uniform() * 29) / 20) / (peak || 1);
  return Float32Array.from(x, (v) => v * level);
}

if (!values["speed-only"]) {
  const songsDir = `${dir}/songs`;
  await Deno.mkdir(songsDir, { recursive: true });
  t0 = performance.now();
  const files: string[] = [];
  for (let i = 0; i < SONGS; i++) {
    const file = `${songsDir}/song${String(i).padStart(3, "0")}.mp3`;
    try {
      await Deno.stat(file);
    } catch {
      await Deno.writeFile(file, encodeMp3([song(i, 44100)], 44100, { kbps: 128 }));
    }
    files.push(file);
  }
  console.log(
    `\nagreement: ${SONGS} songs × ${SECONDS} s, MP3 128 kbit/s (lamejs), hop ${HOP} s, max pooling ` +
      `(written in ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  const sessions = await Promise.all(variants.map((v) => session(v.onnx, "native")));
  const pooled = variants.map(() => [] as Float32Array[]);
  const windowCos = variants.map(() => [] as number[]), windowRel = variants.map(() => [] as number[]);
  let windows = 0;
  for (const file of files) {
    const feed = await FileFeed.open(file, {
      hopSize: HOP,
      center: true,
      batchSize: 8,
      maxDuration: 3600,
      repr: "mel256",
    });
    const frames = variants.map(() => [] as Float32Array[]);
    try {
      for (let b; (b = await feed.next()) !== null;) {
        for (let v = 0; v < variants.length; v++) frames[v].push(await sessions[v].run(b.patches!, b.count));
      }
    } finally {
      feed.close();
    }
    const all = frames.map((f) => {
      const out = new Float32Array(f.reduce((a, x) => a + x.length, 0));
      let at = 0;
      for (const x of f) out.set(x, (at += x.length) - x.length);
      return out;
    });
    windows += all[0].length / 512;
    for (let v = 0; v < variants.length; v++) {
      const p = new Float32Array(512).fill(-Infinity);
      for (let r = 0; r < all[v].length; r += 512) {
        for (let c = 0; c < 512; c++) p[c] = Math.max(p[c], all[v][r + c]);
      }
      pooled[v].push(p);
      if (v === 0) continue;
      for (let r = 0; r < all[v].length; r += 512) {
        const a = windowAgreement(all[v].subarray(r, r + 512), all[0].subarray(r, r + 512), 512);
        windowCos[v].push(a.cosine.worst);
        windowRel[v].push(a.relativeError.worst);
      }
    }
  }
  for (const s of sessions) await s.release();
  const topK = (vectors: Float32Array[], q: number, k: number) =>
    vectors.map((x, i) => ({ i, s: i === q ? -Infinity : cosineSimilarity(vectors[q], x) }))
      .sort((a, b) => b.s - a.s).slice(0, k).map((h) => h.i);
  const fp32Top = files.map((_, q) => topK(pooled[0], q, 10));
  console.log(`${windows} windows per network`);
  console.log(
    "| int8 network | song cosine median | song cosine worst | window cosine median | window cosine worst | " +
      "window rel. error median | window rel. error worst | recall@10 |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (let v = 1; v < variants.length; v++) {
    const cos = pooled[v].map((x, i) => cosineSimilarity(x, pooled[0][i]));
    let hits = 0;
    files.forEach((_, q) => {
      const mine = new Set(topK(pooled[v], q, 10));
      hits += fp32Top[q].filter((i) => mine.has(i)).length;
    });
    console.log(
      `| ${variants[v].name} | ${median(cos).toFixed(6)} | ${Math.min(...cos).toFixed(6)} | ` +
        `${median(windowCos[v]).toFixed(6)} | ${Math.min(...windowCos[v]).toFixed(6)} | ` +
        `${median(windowRel[v]).toExponential(2)} | ${Math.max(...windowRel[v]).toExponential(2)} | ` +
        `${(hits / (10 * files.length)).toFixed(3)} |`,
    );
  }
  const spread = pooled[0].flatMap((x, i) => pooled[0].slice(i + 1).map((y) => cosineSimilarity(x, y)));
  console.log(
    `fp32 song-to-song cosines (how far apart the untrained network puts the songs): median ` +
      `${median(spread).toFixed(4)}, min ${Math.min(...spread).toFixed(4)}, max ${
        Math.max(...spread).toFixed(4)
      }`,
  );
}
if (!Deno.env.get("BENCH_DIR")) await Deno.remove(dir, { recursive: true });
