/**
 * `deno task build-web`: the browser build — `browser.ts` (OpenL3's API on
 * WebGPU) as ES modules in `dist/web/`: `browser.js` (~85 KB) and chunks
 * fetched when needed (each audio format's WebAssembly decoder). The
 * explorer serves them at `/web/` and embeds dropped files in the page with
 * them; `deno task serve` builds them first.
 *
 *     deno task build-web [--out dist/web] [--optional]
 *
 * Needs `deno bundle` (esbuild, fetched from npm on its first use).
 *
 * @module
 */

import { join } from "node:path";
import { type Command, defineCommand, runCommand } from "../lib/util/cli.ts";
import { OpenL3Error } from "../lib/util/errors.ts";

/** The project's root folder. */
const ROOT = new URL("..", import.meta.url).pathname;

/** Where the browser build goes by default. */
export const WEB_OUT = "dist/web";

/**
 * Bundle `browser.ts` into `out` (replaced whole, so no chunk of an earlier build is left). Returns the
 * files written.
 *
 * @throws {OpenL3Error} with deno bundle's first error line when it fails.
 */
export async function buildWeb(out: string = join(ROOT, WEB_OUT)): Promise<string[]> {
  const staging = `${out}.tmp-${Deno.pid}`;
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--code-splitting",
      "--outdir",
      staging,
      "browser.ts",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    const text = new TextDecoder().decode(result.stderr) + new TextDecoder().decode(result.stdout);
    const line = text.split("\n").map((l) => l.trim()).find((l) => /error/i.test(l)) ??
      text.trim().split("\n")[0] ?? "failed";
    throw new OpenL3Error(`deno bundle browser.ts: ${line.replace(/^error:\s*/i, "")}`);
  }
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.rename(staging, out);
  return [...Deno.readDirSync(out)].map((e) => join(out, e.name)).sort();
}

const HELP = `Build OpenL3's API for web pages (browser.ts → ES modules on WebGPU) into dist/web/.

Usage: deno task build-web [--out DIR] [--optional]

  --out DIR         where the modules go (default: dist/web)
  --optional        a failure is a note, not an error (serve builds it this way: without the build, the
                    explorer embeds dropped files on the server)
  -h, --help        this text

The explorer serves the build at /web/browser.js; a page imports it to embed a dropped file itself on the
visitor's GPU (a browser with WebGPU). Needs deno bundle, which fetches esbuild from npm on first use.`;

/** The `build-web` command. */
export const command: Command = defineCommand({
  name: "build-web",
  summary: "OpenL3's API for web pages, on WebGPU",
  help: HELP,
  options: { out: { type: "string" }, optional: { type: "boolean" } },
  body: async ({ values }) => {
    try {
      await buildWeb(values.out ?? join(ROOT, WEB_OUT));
    } catch (e) {
      if (!values.optional) throw e;
      console.error(
        `note: no browser build (${(e as Error).message}): dropped files are embedded by the server`,
      );
    }
    return 0;
  },
});

if (import.meta.main) await runCommand(command);
