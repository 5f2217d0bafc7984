/**
 * `deno task compile`: the one `openl3` binary, with only what runs embedded.
 *
 *     deno task compile [--target x86_64-unknown-linux-gnu] [--output dist/openl3]
 *
 * `deno compile` embeds the whole `node_modules` folder (450 MB here: every
 * platform's onnxruntime-node, every onnxruntime-web build with its source
 * maps, type definitions, install-time helpers, a dozen fonts). The plan
 * below keeps this target's native libraries and the files the code loads
 * (found by tracing every command's file opens), and excludes the rest.
 *
 * @module
 */

import { type Command, defineCommand, runCommand } from "../lib/util/cli.ts";
import { OpenL3Error } from "../lib/util/errors.ts";
import { join, relative } from "node:path";
import { buildWeb, WEB_OUT } from "./build_web.ts";

/** A `deno compile --target`, with what it needs from the npm packages. */
export interface TargetPlatform {
  /** onnxruntime-node's folder under `bin/napi-v6/` (null: it ships no library for this target). */
  onnxruntimeNode: string | null;
  /** resvg-js's native package for this target. */
  resvg: string;
  /** usearch's folder under `prebuilds/`. */
  usearch: string;
}

/** The targets `deno compile` offers, mapped to the npm packages' platform folders. */
export const TARGETS: Record<string, TargetPlatform> = {
  "x86_64-unknown-linux-gnu": {
    onnxruntimeNode: "linux/x64",
    resvg: "@resvg+resvg-js-linux-x64-gnu",
    usearch: "linux-x64",
  },
  "aarch64-unknown-linux-gnu": {
    onnxruntimeNode: "linux/arm64",
    resvg: "@resvg+resvg-js-linux-arm64-gnu",
    usearch: "linux-arm64",
  },
  "aarch64-apple-darwin": {
    onnxruntimeNode: "darwin/arm64",
    resvg: "@resvg+resvg-js-darwin-arm64",
    usearch: "darwin-arm64+x64",
  },
  "x86_64-apple-darwin": {
    onnxruntimeNode: null,
    resvg: "@resvg+resvg-js-darwin-x64",
    usearch: "darwin-arm64+x64",
  },
  "x86_64-pc-windows-msvc": {
    onnxruntimeNode: "win32/x64",
    resvg: "@resvg+resvg-js-win32-x64-msvc",
    usearch: "win32-x64",
  },
};

/** This machine's target. */
export function hostTarget(): string {
  const arch = Deno.build.arch;
  if (Deno.build.os === "linux") return `${arch}-unknown-linux-gnu`;
  if (Deno.build.os === "darwin") return `${arch}-apple-darwin`;
  return `${arch}-pc-windows-msvc`;
}

/** onnxruntime-web files the backends load: the Node build (WASM backend) and the WebGPU bundle. */
export const ORT_WEB_FILES: readonly string[] = [
  "ort.node.min.mjs",
  "ort-wasm-simd-threaded.mjs",
  "ort-wasm-simd-threaded.wasm",
  "ort.webgpu.bundle.min.mjs",
  "ort-wasm-simd-threaded.asyncify.mjs",
  "ort-wasm-simd-threaded.asyncify.wasm",
];

/** The one font the plots use (read by resvg). */
export const FONT_FILE = "ttf/DejaVuSans.ttf";

/**
 * npm packages nothing at run time loads: type definitions, onnxruntime-node's install-time downloader,
 * onnxruntime-web's dependencies that its bundles already contain, ogg-opus-decoder's optional ML decoder,
 * the musl build of resvg, older parsers only tsne-js's build tooling names, the browser driver of the tests.
 */
export const UNUSED_PACKAGES: readonly string[] = [
  "@types+node",
  "undici-types",
  "adm-zip",
  "global-agent",
  "serialize-error",
  "matcher",
  "type-fest",
  "@wasm-audio-decoders+opus-ml",
  "protobufjs",
  "@protobufjs+",
  "flatbuffers",
  "long",
  "guid-typescript",
  "platform",
  "@resvg+resvg-js-linux-x64-musl",
  "esprima@1.0.4",
  "esprima@1.1.1",
  "source-map@0.1.43",
  "uglify-to-browserify",
  "yargs",
  "playwright-core",
];

/** Modules and files loaded by URL at run time (the feed worker, the explorer's page), which `deno compile` cannot see by itself. */
export const INCLUDES: readonly string[] = [
  "lib/pipeline/feed_worker.ts",
  "lib/pipeline/lease_keeper_worker.ts",
  "lib/model/native_thread_worker.ts",
  "lib/analysis/map_worker.ts",
  "lib/server/static",
];

/** What to pass to `deno compile` for a target. */
export interface CompilePlan {
  /** Paths for `--include`. */
  include: string[];
  /** Paths for `--exclude` (relative to the project root). */
  exclude: string[];
}

/**
 * The `--include`/`--exclude` lists for `target`, from the packages found in
 * `root/node_modules/.deno`: other platforms' native libraries, unused
 * onnxruntime-web builds and source maps, unused packages and fonts out.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { compilePlan } from "./compile.ts";
 * const plan = compilePlan(".", "x86_64-unknown-linux-gnu");
 * assert.ok(plan.exclude.some((p) => p.endsWith("onnxruntime-node/bin/napi-v6/win32/x64")));
 * ```
 */
export function compilePlan(root: string, target: string): CompilePlan {
  const platform = TARGETS[target];
  if (!platform) {
    throw new Error(`unknown --target "${target}" (one of: ${Object.keys(TARGETS).join(", ")})`);
  }
  const store = join(root, "node_modules", ".deno");
  const exclude: string[] = [];
  const rel = (p: string) => relative(root, p);
  for (const entry of Deno.readDirSync(store)) {
    if (!entry.isDirectory || entry.name === "node_modules") continue;
    const name = entry.name;
    const pkgDir = join(store, name);
    const unused = UNUSED_PACKAGES.some((u) =>
      u.includes("@") && !u.startsWith("@") ? name === u : name.startsWith(u)
    ) ||
      (name.startsWith("@resvg+resvg-js-") && !name.startsWith(platform.resvg));
    // the package's own folder (deno compile ignores an exclude of the store entry above it)
    const pkg = join(pkgDir, "node_modules", packageName(name));
    if (unused) {
      exclude.push(rel(pkg));
      continue;
    }
    if (name.startsWith("onnxruntime-node@")) {
      const bin = join(pkgDir, "node_modules", "onnxruntime-node", "bin", "napi-v6");
      for (const os of Deno.readDirSync(bin)) {
        for (const arch of Deno.readDirSync(join(bin, os.name))) {
          if (`${os.name}/${arch.name}` !== platform.onnxruntimeNode) {
            exclude.push(
              rel(join(bin, os.name, arch.name)),
            );
          }
        }
      }
    } else if (name.startsWith("onnxruntime-web@")) {
      exclude.push(rel(join(pkg, "lib")), rel(join(pkg, "docs")));
      for (const f of Deno.readDirSync(join(pkg, "dist"))) {
        if (!ORT_WEB_FILES.includes(f.name)) exclude.push(rel(join(pkg, "dist", f.name)));
      }
    } else if (name.startsWith("dejavu-fonts-ttf@")) {
      for (const f of walk(pkg)) {
        if (relative(pkg, f) !== FONT_FILE && !f.endsWith("package.json")) exclude.push(rel(f));
      }
    } else if (name.startsWith("usearch@")) {
      // its C/C++ sources and SIMD kernels are for building; the prebuilt addon of this target is what loads
      for (const dir of ["c", "cpp", "include", "cmake", "numkong"]) exclude.push(rel(join(pkg, dir)));
      for (const pre of Deno.readDirSync(join(pkg, "prebuilds"))) {
        if (pre.name !== platform.usearch) exclude.push(rel(join(pkg, "prebuilds", pre.name)));
      }
    } else if (name.startsWith("h5wasm@")) {
      exclude.push(rel(join(pkg, "dist", "esm")), rel(join(pkg, "dist", "iife")));
    } else if (DECODERS.some((d) => name.startsWith(d))) {
      exclude.push(rel(join(pkg, "dist")));
    } else {
      for (const f of walk(pkgDir)) if (f.endsWith(".map") || f.endsWith(".d.ts")) exclude.push(rel(f));
    }
  }
  return { include: [...INCLUDES], exclude: exclude.filter((p) => exists(join(root, p))) };
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The npm name of a `node_modules/.deno` entry: `@types+node@26.6.6` → `@types/node`. */
function packageName(entry: string): string {
  return entry.replace(/(.)@[^@]*$/, "$1").replace("+", "/");
}

/** Decoder packages loaded from their sources (`index.js`, `src/`); their `dist/` bundles are never read. */
const DECODERS = ["mpg123-decoder@", "ogg-opus-decoder@", "opus-decoder@", "@wasm-audio-decoders+"];

function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile) yield p;
  }
}

/** Permissions the binary is granted (those of `deno task embed` and friends). */
export const PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
];

/** The full `deno compile` argument list. */
export function compileArgs(plan: CompilePlan, target: string, output: string): string[] {
  return [
    "compile",
    "--quiet",
    "--no-check", // the sources are type-checked by the tests; offline, a fresh cache cannot check npm types
    ...PERMISSIONS,
    "--target",
    target,
    "--output",
    output,
    ...plan.include.flatMap((p) => ["--include", p]),
    ...plan.exclude.flatMap((p) => ["--exclude", p]),
    "openl3.ts",
  ];
}

/** Read the embedded payload size (bytes) from `deno compile`'s report ("Files: 95.2MB"). */
export function payloadBytes(report: string): number | null {
  // deno-lint-ignore no-control-regex
  const m = report.replace(/\x1b\[[0-9;]*m/g, "").match(/Files:\s*([\d.]+)\s*(B|KB|MB|GB)/);
  if (!m) return null;
  const scale = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] as "B" | "KB" | "MB" | "GB"];
  return Math.round(Number(m[1]) * scale);
}

/**
 * Run `deno compile` for `target`; returns its report (stdout and stderr), the payload size, and a note when
 * the browser build could not be put in.
 */
export async function compile(
  root: string,
  target: string,
  output: string,
  env: Record<string, string> = {},
): Promise<{ report: string; payload: number | null; note?: string }> {
  const plan = compilePlan(root, target);
  // the browser build, for the explorer's pages (without it they upload dropped files: the binary works)
  let note: string | undefined;
  try {
    await buildWeb(join(root, WEB_OUT));
    plan.include.push(WEB_OUT);
  } catch (e) {
    note = `note: no browser build in the binary (${(e as Error).message})`;
  }
  const args = compileArgs(plan, target, output).filter((a) => a !== "--quiet");
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const report = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`deno compile failed:\n${report}`);
  return { report, payload: payloadBytes(report), note };
}

const HELP = `Compile the one openl3 binary (every command as a subcommand: openl3 embed …, openl3 serve …).

Usage: deno task compile [--target T] [--output PATH]

  --target T        a deno compile target (default: this machine's, e.g. x86_64-unknown-linux-gnu)
  --output PATH     the binary (default: dist/openl3)
  --version         the tool's and the runtime's versions
  -h, --help        this text

deno compile downloads its runtime (denort) for the target on first use. Offline, give it one:
DENORT_BIN=/path/to/denort deno task compile (the denort of Deno ${Deno.version.deno}, for the target).
The binary runs every command with the native (onnxruntime-node) and WASM backends and the explorer;
it needs no Deno, no npm and no network, except to download the official weights once (or --weights).`;

/** The `compile` command. */
export const command: Command = defineCommand({
  name: "compile",
  summary: "the one openl3 binary, lean",
  help: HELP,
  options: { target: { type: "string" }, output: { type: "string" } },
  body: async ({ values }) => {
    const target = values.target ?? hostTarget();
    const output = values.output ?? "dist/openl3";
    const root = new URL("..", import.meta.url).pathname;
    try {
      const { payload, note } = await compile(root, target, output);
      if (note) console.error(note);
      console.error(
        `compile: ${output} for ${target}, embedded files ${
          payload ? (payload / 2 ** 20).toFixed(1) : "?"
        } MiB`,
      );
    } catch (e) {
      const message = (e as Error).message;
      const offline = /denort|download|dns|network|connect|resolve/i.test(message) &&
        !Deno.env.get("DENORT_BIN");
      // deno compile's own error: the first cause that names what failed, else its first line
      const lines = message.split("\n").map((l) => l.trim()).filter((l) => l);
      const cause = lines.find((l) =>
        /^\d+: .*(request|download|denort|No such|denied)/i.test(l)
      )?.replace(/^\d+: /, "") ??
        lines.find((l) =>
          /^error:/i.test(l)
        )?.replace(/^error:\s*/i, "") ?? lines[0] ?? "deno compile failed";
      throw new OpenL3Error(
        cause +
          (offline
            ? " — deno compile could not fetch its runtime: offline, set DENORT_BIN=/path/to/denort (see --help)"
            : ""),
        { cause: e },
      );
    }
    return 0;
  },
});

if (import.meta.main) await runCommand(command);
