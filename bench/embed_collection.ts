/**
 * End-to-end benchmark of the collection embedder, with seeded random
 * (untrained) weights on generated audio (44.1 kHz stereo WAV):
 *
 * 1. speed: the network alone (ms per window, on patches already computed)
 *    and the whole job (decode → resample → frame → frontend → network →
 *    store) on a folder, for several worker and thread counts; their ratio,
 *    and windows per second;
 * 2. memory: peak RSS (VmHWM) of separate processes embedding a 1-minute, a
 *    60-minute and a 3-hour file (hop 5 s there, so even the 1-minute file
 *    fills whole batches: the decoding, not the network, is what must not
 *    grow with the track).
 *
 * After the speed table, where a window's time goes: each stage timed alone on the first file (decode and
 * downmix, resampling, framing, the spectrogram), the network from the table's default rows, and the rest of
 * the whole job (hashing, the store, copies, waiting) as what is left.
 *
 * `--precision fp32,int8` measures the speed for each precision in turn (the int8 network quantized and
 * calibrated once, before the timing starts).
 *
 *     deno task bench-embed [--speed-only | --memory-only] [--files N] [--seconds S] [--hop S]
 *                           [--precision fp32,int8]
 *
 * @module
 */

import { convertedTestInt8, convertedTestWeights } from "../tests/test_model.ts";
import { parseArgs } from "node:util";
import { embedCollection } from "../lib/pipeline/collection.ts";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { type CpuRuns, createEmbeddingSession, probePatches } from "../lib/model/inference.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { ArraySource, frameBatches, planFrames } from "../lib/audio/frame.ts";
import { decodeAudioBytes, toMono } from "../lib/audio/decode.ts";
import { resample } from "../lib/audio/resample.ts";
import { spectrogramBatch } from "../lib/frontend/cpu_spectrogram.ts";
import { type Precision, PRECISIONS } from "../lib/model/precision.ts";

const { values } = parseArgs({
  options: {
    "speed-only": { type: "boolean" },
    "memory-only": { type: "boolean" },
    files: { type: "string" },
    seconds: { type: "string" },
    hop: { type: "string" },
    child: { type: "string" },
    workers: { type: "string" },
    threads: { type: "string" },
    precision: { type: "string" },
  },
});
const precisions = (values.precision ?? "fp32").split(",") as Precision[];
for (const p of precisions) {
  if (!PRECISIONS.includes(p)) throw new Error(`--precision: each of ${PRECISIONS.join(", ")}; got "${p}"`);
}
const cores = navigator.hardwareConcurrency ?? 1;
/** How the native backend ran batches before issue 33: the whole batch in one run, arena off (int8: 4 at a time). */
const PREVIOUS_RUNS: Record<Precision, CpuRuns> = {
  fp32: { chunk: 8, arena: false },
  int8: { chunk: 4, arena: false },
};
const dir = Deno.env.get("BENCH_DIR") ?? await Deno.makeTempDir({ prefix: "openl3-bench-" });
const weights = `${dir}/random.h5`;
const models = `${dir}/models`;

function peakKiB(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1] ?? NaN);
}

/** A 44.1 kHz stereo 16-bit WAV of `seconds`, written in pieces (a 3-hour file is never in memory). */
async function writeLongWav(path: string, seconds: number) {
  const sr = 44100, frames = Math.round(seconds * sr);
  const header = encodeWav([new Float32Array(0), new Float32Array(0)], sr).subarray(0, 44);
  const view = new DataView(header.buffer, header.byteOffset, 44);
  view.setUint32(4, 36 + frames * 4, true);
  view.setUint32(40, frames * 4, true);
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  await file.write(header);
  const block = 44100;
  const buf = new Int16Array(block * 2);
  for (let at = 0; at < frames; at += block) {
    const n = Math.min(block, frames - at);
    for (let i = 0; i < n; i++) {
      const t = (at + i) / sr;
      buf[2 * i] = Math.round(9000 * Math.sin(2 * Math.PI * (220 + 20 * Math.sin(t / 7)) * t));
      buf[2 * i + 1] = Math.round(7000 * Math.sin(2 * Math.PI * 330 * t));
    }
    const bytes = new Uint8Array(buf.buffer, 0, n * 4);
    for (let w = 0; w < bytes.length;) w += await file.write(bytes.subarray(w));
  }
  file.close();
}

if (values.child) {
  // child: embed one file, print what it cost
  const s = await embedCollection({
    inputs: [values.child],
    db: `${dir}/child_${crypto.randomUUID()}.db`,
    weights,
    modelsDir: models,
    backend: "native",
    device: "cpu",
    hopSize: Number(values.hop ?? "5"),
    quiet: true,
    workers: values.workers === undefined ? undefined : Number(values.workers),
  });
  console.log(
    JSON.stringify({ seconds: s.seconds, audio: s.audioSeconds, failed: s.failed, peakKiB: peakKiB() }),
  );
  Deno.exit(0);
}

// converted once: the child processes find the cached model
const model = await convertedTestWeights(weights, models, 1);
console.log(
  `openl3-deno bench-embed: ${cores} cores, mel256 / 512, random weights, native backend (onnxruntime-node)`,
);

if (!values["memory-only"]) {
  const files = Number(values.files ?? "2"), seconds = Number(values.seconds ?? "20");
  const hopSize = Number(values.hop ?? "0.1");
  const folder = `${dir}/folder`;
  await Deno.mkdir(folder, { recursive: true });
  for (let i = 0; i < files; i++) await writeLongWav(`${folder}/track${i}.wav`, seconds);
  const arch = openl3Architecture("mel256", 512);
  const batch = 8;
  const onnx: Record<string, Uint8Array> = { fp32: model.onnx };
  if (precisions.includes("int8")) {
    onnx.int8 = (await convertedTestInt8(weights, models)).onnx;
  }
  const network = async (threads: number, precision: Precision, runs?: CpuRuns) => {
    const s = await createEmbeddingSession(onnx[precision], {
      backend: "native",
      input: arch.input,
      outputSize: 512,
      threads,
      precision,
      runs,
    });
    const patches = probePatches(batch, ...arch.input);
    await s.run(patches, batch); // warm
    const t = performance.now();
    const rounds = 10;
    for (let r = 0; r < rounds; r++) await s.run(patches, batch);
    await s.release();
    return (performance.now() - t) / (rounds * batch);
  };
  const configs: [number, number][] = [];
  for (const threads of [...new Set([cores, Math.max(1, cores - 1)])]) {
    for (const workers of [0, 1, ...(cores > 2 ? [Math.max(1, cores - threads)] : [])]) {
      if (!configs.some(([w, t]) => w === workers && t === threads)) configs.push([workers, threads]);
    }
  }
  console.log(
    "precision workers threads runs | network ms/window | whole job ms/window | ratio | windows/s | s of audio/s | s per s of audio",
  );
  // each precision's setting (NATIVE_RUNS), and at full threads the setting before it (one run of the
  // whole batch, arena off: what main ran until issue 33), in the same run
  const rows: [Precision, number, number, CpuRuns | undefined][] = [];
  const defaults = new Map<Precision, { net: number; whole: number }>();
  for (const precision of precisions) {
    for (const [workers, threads] of configs) rows.push([precision, workers, threads, undefined]);
    rows.push([precision, 0, cores, PREVIOUS_RUNS[precision]]);
  }
  for (const [precision, workers, threads, runs] of rows) {
    {
      const label = runs
        ? `${runs.chunk === Infinity ? "all" : runs.chunk}/${runs.arena ? "arena" : "no arena"} (before)`
        : "default";
      const before = await network(threads, precision, runs);
      const s = await embedCollection({
        inputs: [folder],
        db: `${dir}/speed_${precision}_${workers}_${threads}.db`,
        weights,
        modelsDir: models,
        backend: "native",
        device: "cpu",
        hopSize,
        threads,
        workers,
        batchSize: batch,
        precision,
        cpuRuns: runs,
        quiet: true,
        force: true,
      });
      const net = (before + await network(threads, precision, runs)) / 2; // the network alone, measured before and after
      const windows = files * planFrames(Math.floor(seconds * 48000), { hopSize, center: true }).windows;
      const whole = (s.seconds * 1000) / windows;
      if (!runs && workers === 0 && threads === cores) defaults.set(precision, { net, whole });
      console.log(
        `${precision.padStart(9)} ${String(workers).padStart(7)} ${String(threads).padStart(7)} ${label} | ` +
          `${net.toFixed(1).padStart(17)} | ` +
          `${whole.toFixed(1).padStart(19)} | ${(whole / net).toFixed(2).padStart(5)} | ` +
          `${(1000 / whole).toFixed(1).padStart(9)} | ${
            (s.audioSeconds / s.seconds).toFixed(2).padStart(12)
          } | ` +
          `${(s.seconds / s.audioSeconds).toFixed(2)}`,
      );
    }
  }

  // where a window's time goes: each stage alone on the first file, the network from the rows above
  const timed = async <T>(f: () => T | Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const v = await f();
    return [v, performance.now() - t];
  };
  const bytes = await Deno.readFile(`${folder}/track0.wav`);
  const [decoded, decodeMs] = await timed(() => decodeAudioBytes(bytes, "track0.wav"));
  const [mono, monoMs] = await timed(() => toMono(decoded.channels));
  const [at48, resampleMs] = await timed(() => resample(mono, decoded.sampleRate));
  const plan = planFrames(at48.length, { hopSize, center: true });
  const [batches, frameMs] = await timed(() => [...frameBatches(new ArraySource(at48), plan, batch)]);
  const [, specMs] = await timed(() => {
    for (const b of batches) spectrogramBatch(b.samples, b.count, "mel256");
  });
  const per = (ms: number) => (ms / plan.windows).toFixed(2);
  console.log(
    `\nwhere a window's time goes at hop ${hopSize} s (workers 0, ${cores} threads; ${seconds} s of 44.1 kHz ` +
      `stereo WAV, ${plan.windows} windows; the stages before the network timed alone on one file):`,
  );
  console.log("| stage | ms a window |\n| --- | --- |");
  console.log(`| decode the WAV and mix it down | ${per(decodeMs + monoMs)} |`);
  console.log(`| resample (kaiser_best) to 48 kHz | ${per(resampleMs)} |`);
  console.log(`| frame into windows | ${per(frameMs)} |`);
  console.log(`| spectrogram mel256 (float64, CPU) | ${per(specMs)} |`);
  const before = decodeMs + monoMs + resampleMs + frameMs + specMs;
  for (const [precision, { net, whole }] of defaults) {
    console.log(`| network, ${precision} | ${net.toFixed(2)} |`);
    console.log(
      `| the rest of the ${precision} job (hashing, the store, copies, waiting) | ${
        (whole - net - before / plan.windows).toFixed(2)
      } |`,
    );
    console.log(`| whole job, ${precision} | ${whole.toFixed(2)} |`);
  }
}

if (!values["speed-only"]) {
  const measure = async (file: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--child", file, "--hop", "5"],
      env: { BENCH_DIR: dir },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  };
  const rows: string[] = [];
  let base = 0;
  for (const [name, seconds] of [["1 min", 60], ["60 min", 3600], ["3 h", 10800]] as const) {
    const file = `${dir}/memory_${seconds}.wav`;
    await writeLongWav(file, seconds);
    const r = await measure(file);
    await Deno.remove(file);
    const mib = r.peakKiB / 1024;
    if (!base) base = mib;
    rows.push(
      `${name}: peak RSS ${mib.toFixed(0)} MiB (${(mib / base).toFixed(2)}× the 1-minute file), ` +
        `${(r.audio / r.seconds).toFixed(0)} s of audio per second at hop 5 s${r.failed ? ", FAILED" : ""}`,
    );
  }
  console.log("memory (44.1 kHz stereo 16-bit WAV, one process per file):");
  for (const r of rows) console.log(`  ${r}`);
}
await Deno.remove(dir, { recursive: true });
