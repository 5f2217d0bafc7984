/**
 * Running as a `deno compile` binary: files embedded in the binary are read
 * through Deno's own file system calls, but native code (resvg reading its
 * font, the system loader resolving onnxruntime-node's library) sees only the
 * real disk. {@linkcode realFile} gives such code a real copy, written once
 * to a cache folder.
 *
 * @module
 */

import { join } from "node:path";
import { TOOL_VERSION } from "./version.ts";

/** True inside a `deno compile` binary. */
export function isStandalone(): boolean {
  return Deno.build.standalone === true;
}

/** Where embedded files are copied: `$XDG_CACHE_HOME/openl3/<version>` (else `~/.cache`, else the temp folder). */
export function runtimeCacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ??
    (Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE")
      ? join(Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE")!, ".cache")
      : Deno.env.get("TMPDIR") ?? "/tmp");
  return join(base, "openl3", TOOL_VERSION);
}

/** Options of {@linkcode realFile}. */
export interface RealFileOptions {
  /**
   * Copy the file out (as in a compiled binary).
   * @default {isStandalone()}
   */
  standalone?: boolean;
  /**
   * Folder of the copies.
   * @default {runtimeCacheDir()}
   */
  cacheDir?: string;
}

/**
 * A path native code can open: `path` itself when running from source; in a
 * compiled binary, a copy on disk (kept and reused while its size matches), with
 * the same file name so a system loader finds it by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { realFile } from "./standalone.ts";
 * assert.equal(realFile("/etc/hostname", { standalone: false }), "/etc/hostname");
 * ```
 */
export function realFile(path: string, options: RealFileOptions = {}): string {
  if (!(options.standalone ?? isStandalone())) return path;
  const bytes = Deno.readFileSync(path);
  const dir = join(options.cacheDir ?? runtimeCacheDir(), `${bytes.length}`);
  const out = join(dir, path.split(/[\\/]/).pop()!);
  try {
    if (Deno.statSync(out).size === bytes.length) return out;
  } catch { /* not there yet */ }
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${Deno.pid}.tmp`;
  Deno.writeFileSync(tmp, bytes);
  Deno.renameSync(tmp, out);
  return out;
}
