/**
 * Every `deno task …` command line quoted in the README and in `docs/` goes through the command's own
 * argument checks, as `--help` would (no work done): the task exists in `deno.json`, and each of its flags is
 * one the command takes — parsed by the command's own parser (its options, aliases and normalisation), or,
 * for a benchmark or tool, found among the options its script gives `parseArgs`. A renamed flag breaks the
 * build instead of the documentation.
 */
import { assert } from "./helpers.ts";
import { parseCli } from "../lib/util/cli.ts";
import { SUBCOMMANDS } from "../openl3.ts";

const repo = new URL("..", import.meta.url).pathname;
const tasks = JSON.parse(await Deno.readTextFile(`${repo}/deno.json`)).tasks as Record<string, string>;
const docs = [
  "README.md",
  ...[...Deno.readDirSync(`${repo}/docs`)].filter((e) => e.name.endsWith(".md")).map((e) => `docs/${e.name}`),
];

/** Every quoted command line: the task and its flags, with where it was found. */
function commandLines(): { where: string; task: string; flags: string[] }[] {
  const out: { where: string; task: string; flags: string[] }[] = [];
  for (const file of docs) {
    const text = Deno.readTextFileSync(`${repo}/${file}`);
    text.split("\n").forEach((line, i) => {
      for (const m of line.matchAll(/deno task ([a-z0-9-]+)((?:[^`#\n]|#(?=\S))*)/g)) {
        const rest = m[2].replace(/'[^']*'|"[^"]*"/g, "x");
        const flags = [...rest.matchAll(/(?:^|[\s[(|])(--?[a-zA-Z][a-zA-Z0-9-]*)/g)].map((f) => f[1]);
        out.push({ where: `${file}:${i + 1}`, task: m[1], flags });
      }
    });
  }
  return out;
}

/** The option names a script gives `parseArgs` (benchmarks and tools). */
function scriptOptions(task: string): Set<string> | null {
  const script = /deno run [^&]*?([\w/.-]+\.ts)/.exec(tasks[task] ?? "")?.[1];
  if (!script) return null;
  const source = Deno.readTextFileSync(`${repo}/${script}`);
  const block = /options:\s*\{([\s\S]*?)\n?\s*\}\s*,?\s*\}\)?/.exec(source)?.[1] ?? "";
  return new Set([...block.matchAll(/["']?([a-z][a-z0-9-]*)["']?:\s*\{\s*type:/g)].map((m) => m[1]));
}

Deno.test("every deno task command line in the README and docs/ passes its command's argument checks", async () => {
  const lines = commandLines();
  assert.ok(lines.length > 60, `found only ${lines.length} command lines: the scan is broken`);
  const problems: string[] = [];
  for (const { where, task, flags } of lines) {
    if (!(task in tasks)) {
      problems.push(`${where}: no task "${task}" in deno.json`);
      continue;
    }
    const load = SUBCOMMANDS[task === "compare" ? "compare" : task];
    if (load) {
      const { command } = await load();
      const args = flags.flatMap((f) => {
        const name = f.replace(/^-+/, "");
        const long = f.startsWith("--")
          ? name
          : Object.entries(command.options).find(([, o]) => o.short === name)?.[0];
        const target = long !== undefined ? (command.aliases?.[long] ?? long) : undefined;
        const takesValue = target !== undefined && command.options[target]?.type === "string";
        return takesValue ? [f, "1"] : [f];
      });
      try {
        parseCli(args, command);
      } catch (e) {
        problems.push(`${where}: deno task ${task} ${flags.join(" ")}: ${(e as Error).message}`);
      }
      continue;
    }
    const known = scriptOptions(task);
    for (const f of flags) {
      if (f === "--help" || f === "-h") continue;
      if (!known?.has(f.replace(/^-+/, ""))) {
        problems.push(`${where}: deno task ${task}: ${f} is not an option of it`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("the scan itself: a renamed flag is caught", async () => {
  const { command } = await SUBCOMMANDS["playlist"]();
  assert.throws(() => parseCli(["--max-per-artst", "1"], command), /unknown option --max-per-artst/);
  assert.doesNotThrow(() => parseCli(["--max-per-artist", "1", "--mpd", "--follow"], command));
});
