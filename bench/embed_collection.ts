/**
 * End-to-end benchmark of the collection embedder: embeds a folder of
 * generated audio with random (untrained) weights and reports seconds of
 * audio per second; then measures peak memory (VmHWM) of separate processes
 * embedding a 30-second and a 10-minute file, to show that memory does not
 * grow with the length of the track beyond its decoded PCM.
 *
 *     deno run -A bench/embed_collection.ts [--backend native] [--hop 1.0]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { run as makeTestWeights } from "../make_test_weights.ts";
import { embedCollection } from "../lib/pipeline/collection.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { loadModel } from "../lib/model/model_store.ts";

const { values } = parseArgs({
  options: { backend: { type: "string" }, hop: { type: "string" }, child: { type: "string" } },
});
const backend = (values.backend ?? "native") as "native";
const hopSize = Number(values.hop ?? "1.0");

function tone(seconds: number, sr = 22050): Float32Array {
  return Float32Array.from(
    { length: Math.round(seconds * sr) },
    (_, i) => 0.3 * Math.sin(2 * Math.PI * (220 + (i % 7)) * i / sr),
  );
}

function peakKiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

const dir = Deno.env.get("BENCH_DIR") ?? await Deno.makeTempDir({ prefix: "openl3-bench-" });
const weights = `${dir}/random.h5`;
const models = `${dir}/models`;
const common = { weights, modelsDir: models, backend, device: "cpu" as const, hopSize, quiet: true };

if (values.child) {
  // child: embed one file, print peak memory
  const s = await embedCollection({
    inputs: [values.child],
    db: `${dir}/child_${crypto.randomUUID()}.db`,
    ...common,
  });
  console.log(JSON.stringify({ seconds: s.seconds, audio: s.audioSeconds, peakKiB: peakKiB() }));
  Deno.exit(0);
}

await makeTestWeights({ out: weights, seed: 1 });
await loadModel({
  repr: "mel256",
  content: "music",
  embeddingSize: 512,
  weights,
  modelsDir: models,
  verbose: false,
});
const folder = `${dir}/folder`;
await Deno.mkdir(folder, { recursive: true });
for (let i = 0; i < 4; i++) await Deno.writeFile(`${folder}/track${i}.wav`, encodeWav([tone(30)], 22050));
const s = await embedCollection({
  inputs: [folder],
  db: `${dir}/bench.db`,
  ...common,
});
console.log(
  `folder: ${s.embedded} files, ${s.audioSeconds.toFixed(0)} s of audio in ${s.seconds.toFixed(1)} s: ` +
    `${(s.audioSeconds / s.seconds).toFixed(2)} s of audio per second (backend ${backend}, hop ${hopSize} s)`,
);

await Deno.writeFile(`${dir}/short.wav`, encodeWav([tone(30)], 22050));
await Deno.writeFile(`${dir}/long.wav`, encodeWav([tone(600)], 22050));
const measure = async (file: string) => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--child",
      file,
      "--backend",
      backend,
      "--hop",
      String(hopSize),
    ],
    env: { BENCH_DIR: dir },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
};
const short = await measure(`${dir}/short.wav`);
const long = await measure(`${dir}/long.wav`);
const pcm = (600 - 30) * 22050 * 4 / 1024;
console.log(
  `peak memory: 30 s file ${(short.peakKiB / 1024).toFixed(0)} MiB, 10 min file ${
    (long.peakKiB / 1024).toFixed(0)
  } MiB ` +
    `(difference ${((long.peakKiB - short.peakKiB) / 1024).toFixed(0)} MiB; the extra decoded PCM alone is ${
      (pcm / 1024).toFixed(0)
    } MiB ` +
    `as float32, plus the file's bytes ${((570 * 22050 * 2) / 1048576).toFixed(0)} MiB)`,
);
console.log(`10 min file: ${(long.audio / long.seconds).toFixed(2)} s of audio per second`);
await Deno.remove(dir, { recursive: true });
