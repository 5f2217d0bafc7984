/**
 * `deno task bench-report`: run the speed benchmarks once and write their tables into
 * `docs/performance.md` (between its `bench-report` markers), with the machine, the versions, the date and
 * each command — so the figures in the docs are the ones this machine measured, never copied by hand:
 *
 * - `bench-roof`: the GEMM peak of onnxruntime here, and the network's share of it (float32 and int8);
 * - `bench-embed --speed-only --precision fp32,int8` at hop 0.1 and 0.5 s: the network alone and the whole
 *   job (decode → resample → spectrogram → network → store), with the setting before issue 33 beside it;
 * - `bench-embed --memory-only`: peak memory for a 1-minute, a 60-minute and a 3-hour file;
 * - what a 4-minute song and a 10 000-song collection cost at each precision and hop, from those.
 *
 *     deno task bench-report [--skip-memory]
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { "skip-memory": { type: "boolean" } } });
const repo = new URL("..", import.meta.url).pathname;
const doc = `${repo}/docs/performance.md`;

/** Run a deno task, its output shown as it comes and kept. */
async function task(args: string[]): Promise<string> {
  console.error(`$ deno task ${args.join(" ")}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: repo,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  console.error(text);
  if (!out.success) throw new Error(`deno task ${args.join(" ")} failed`);
  return text;
}

const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => "")).match(/model name\s*:\s*(.*)/)?.[1] ??
  "?";
const ortVersion = JSON.parse(
  await Deno.readTextFile(`${repo}/node_modules/onnxruntime-node/package.json`).catch(() =>
    '{"version":"?"}'
  ),
).version;
const started = new Date().toISOString().slice(0, 16).replace("T", " ");
const sections: string[] = [];
sections.push(
  `Measured ${started} UTC on ${navigator.hardwareConcurrency} cores of ${cpu}, Deno ${Deno.version.deno}, ` +
    `onnxruntime-node ${ortVersion}, by \`deno task bench-report\`. No GPU was available: the GPU backends ` +
    `(WGSL, onnxruntime-web WebGPU) are unmeasured on a real card here (see backends.md).`,
);

const roof = await task(["bench-roof"]);
sections.push("### The roof (`deno task bench-roof`)", "", roof.trim());

/** The s per s of audio of each precision's default row, from a bench-embed table. */
function perSecond(table: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of table.split("\n")) {
    const m = /^\s*(fp32|int8)\s+0\s+\d+\s+default \|.*\| ([\d.]+)$/.exec(line);
    if (m && !out.has(m[1])) out.set(m[1], Number(m[2]));
  }
  return out;
}

const costs: string[] = [];
for (const hop of ["0.1", "0.5"]) {
  const out = await task(["bench-embed", "--speed-only", "--precision", "fp32,int8", "--hop", hop]);
  // the speed table as printed, then the stages' table (markdown)
  const split = out.indexOf("\nwhere a window's time goes");
  const table = split < 0 ? out : out.slice(0, split);
  sections.push(
    "",
    `### The whole job at hop ${hop} s (\`deno task bench-embed --speed-only --precision fp32,int8 --hop ${hop}\`)`,
    "",
    "```",
    table.trim(),
    "```",
    ...(split < 0 ? [] : ["", out.slice(split).trim()]),
  );
  for (const [precision, s] of perSecond(table)) {
    const song = 240 * s;
    costs.push(
      `| ${precision} | ${hop} s | ${s.toFixed(2)} | ${(60 / song).toFixed(1)} | ${
        ((10_000 * song) / 3600).toFixed(1)
      } h |`,
    );
  }
}
sections.push(
  "",
  "### What a collection costs here (from the whole-job figures above, workers 0)",
  "",
  "| precision | hop | s per s of audio | 4-minute songs per minute | 10 000 songs of 4 minutes |",
  "| --- | --- | --- | --- | --- |",
  ...costs,
  "",
  "Each PostgreSQL worker on another machine of this kind adds the same again (`deno task bench-pg` measures " +
    "the queue's own cost: lease renewals, claims and stores).",
);
if (!values["skip-memory"]) {
  const memory = await task(["bench-embed", "--memory-only"]);
  sections.push("", "### Memory (`deno task bench-embed --memory-only`)", "", "```", memory.trim(), "```");
}

const text = await Deno.readTextFile(doc);
const begin = "<!-- bench-report:begin -->", end = "<!-- bench-report:end -->";
const body = `${begin}\n${sections.join("\n")}\n${end}`;
const updated = text.includes(begin)
  ? text.slice(0, text.indexOf(begin)) + body + text.slice(text.indexOf(end) + end.length)
  : `${text.trimEnd()}\n\n## Measured by \`deno task bench-report\`\n\n${body}\n`;
await Deno.writeTextFile(doc, updated);
// formatted as the repository's checks want it (tables aligned, headings apart)
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", doc], cwd: repo }).output();
console.error(`wrote ${doc}`);
