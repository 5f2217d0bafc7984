/**
 * `deno task bench-pg`: throughput of a PostgreSQL run with 1, 2 and 3
 * worker processes on this machine (a throwaway cluster, the same files,
 * the network threads split so that their sum is the core count where it
 * divides), as seconds of audio per second and the ratio to one worker.
 *
 *     deno task bench-pg [--files 24] [--seconds 10]
 *
 * @module
 */

import { convertedTestWeights } from "../tests/test_model.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { embedWorkerArgs, startCluster } from "../tests/pg_cluster.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { Rng } from "../lib/util/rng.ts";

const { values } = parseArgs({ options: { files: { type: "string" }, seconds: { type: "string" } } });
const files = Number(values.files ?? 24), seconds = Number(values.seconds ?? 10);
const cores = navigator.hardwareConcurrency;
const cluster = await startCluster();
const root = await Deno.makeTempDir({ prefix: "openl3-bench-pg-" });
try {
  const music = join(root, "music");
  await Deno.mkdir(music);
  const rng = new Rng(1);
  for (let i = 0; i < files; i++) {
    const sr = 22050;
    const x = Float32Array.from(
      { length: sr * seconds },
      (_, t) => 0.3 * Math.sin(2 * Math.PI * (100 + 23 * i) * t / sr) + 0.05 * rng.normal(),
    );
    await Deno.writeFile(join(music, `f${i}.wav`), encodeWav([x], sr));
  }
  const weights = join(root, "w.h5"), models = join(root, "models");
  await convertedTestWeights(weights, models, 1);
  const rows: string[] = [];
  let base = 0;
  for (const workers of [1, 2, 3]) {
    const url = await cluster.createDatabase(`w${workers}`);
    const threads = Math.max(1, Math.floor(cores / workers));
    const t = performance.now();
    const procs = Array.from({ length: workers }, () =>
      new Deno.Command(Deno.execPath(), {
        args: embedWorkerArgs({ url, music, weights, models, threads }),
        stdout: "null",
        stderr: "piped",
      }).output());
    const outs = await Promise.all(procs);
    for (const o of outs) if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
    const wall = (performance.now() - t) / 1000;
    const rate = (files * seconds) / wall;
    if (workers === 1) base = rate;
    rows.push(
      `| ${workers} | ${threads} | ${wall.toFixed(1)} s | ${rate.toFixed(2)} | ${(rate / base).toFixed(2)} |`,
    );
  }
  console.log(`PostgreSQL run, ${files} files × ${seconds} s, hop 0.1 s, native backend, ${cores} cores`);
  console.log("| workers | network threads each | wall (incl. start-up) | s of audio / s | vs 1 worker |");
  for (const r of rows) console.log(r);
} finally {
  await cluster.destroy();
  await Deno.remove(root, { recursive: true });
}
