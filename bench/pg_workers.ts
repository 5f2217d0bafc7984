/**
 * `deno task bench-pg`: throughput of a PostgreSQL run with 1, 2 and 3
 * worker processes on this machine (a throwaway cluster, the same files,
 * the network threads split so that their sum is the core count where it
 * divides), as files, windows and seconds of audio per second and the ratio
 * to one worker; then the same run of 2 workers with the CPU saturated by
 * two busy loops. Leases of `--lease` seconds are renewed every third of
 * it: the worst delay of a renewal past that period is reported per row.
 *
 *     deno task bench-pg [--files 24] [--seconds 10] [--lease 3]
 *
 * @module
 */

import { convertedTestWeights } from "../tests/test_model.ts";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { embedWorkerArgs, startCluster } from "../tests/pg_cluster.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { Rng } from "../lib/util/rng.ts";
import { startBusyLoops } from "../tests/busy_cpu.ts";
import postgres from "postgres";

const { values } = parseArgs({
  options: { files: { type: "string" }, seconds: { type: "string" }, lease: { type: "string" } },
});
const files = Number(values.files ?? 24), seconds = Number(values.seconds ?? 10);
const lease = Number(values.lease ?? 3);
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
  const runs = [
    { workers: 1, busy: false },
    { workers: 2, busy: false },
    { workers: 3, busy: false },
    { workers: 2, busy: true },
  ];
  for (const { workers, busy } of runs) {
    const url = await cluster.createDatabase(`w${workers}${busy ? "busy" : ""}`);
    const threads = Math.max(1, Math.floor(cores / workers));
    const loops = busy ? startBusyLoops(2) : null;
    const t = performance.now();
    const procs = Array.from({ length: workers }, () =>
      new Deno.Command(Deno.execPath(), {
        args: embedWorkerArgs({ url, music, weights, models, threads, extra: ["--lease", String(lease)] }),
        stdout: "null",
        stderr: "piped",
      }).output());
    const outs = await Promise.all(procs);
    const wall = (performance.now() - t) / 1000;
    await loops?.stop();
    for (const o of outs) if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
    const sql = postgres(url, { onnotice: () => {}, max: 1 });
    const [r] = await sql`SELECT (SELECT sum(windows)::int FROM jobs WHERE status = 'done') AS windows,
        (SELECT count(*)::int FROM jobs WHERE status = 'done') AS done,
        (SELECT coalesce(sum(lapses), 0)::int FROM jobs) AS lapses,
        (SELECT max(worst_renewal_gap)::float FROM workers) AS gap`;
    await sql.end();
    if (r.done !== files) throw new Error(`${r.done} of ${files} files stored`);
    const rate = (files * seconds) / wall;
    if (workers === 1) base = rate;
    const delay = Math.max(0, r.gap - lease / 3);
    rows.push(
      `| ${workers} | ${threads} | ${busy ? "2 busy loops" : "idle"} | ${wall.toFixed(1)} s | ${
        (files / wall).toFixed(2)
      } | ${(r.windows / wall).toFixed(1)} | ${rate.toFixed(2)} | ${
        busy ? "—" : (rate / base).toFixed(2)
      } | ${(delay * 1000).toFixed(0)} ms | ${r.lapses} |`,
    );
  }
  console.log(
    `PostgreSQL run, ${files} files × ${seconds} s, hop 0.1 s, native backend, ${cores} cores, ` +
      `lease ${lease} s renewed every ${(lease / 3).toFixed(1)} s`,
  );
  console.log(
    "| workers | network threads each | CPU | wall (incl. start-up) | files / s | windows / s | s of audio / s " +
      "| vs 1 worker | worst renewal delay | lapses |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
} finally {
  await cluster.destroy();
  await Deno.remove(root, { recursive: true });
}
