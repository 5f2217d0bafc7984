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
import { createHash } from "node:crypto";
import { TOOL_VERSION } from "./version.ts";
import { currentUid, privateDir } from "./private_dir.ts";
import { writeFileAtomicSync } from "./atomic_file.ts";

export { privateDir } from "./private_dir.ts";

/** True inside a `deno compile` binary. */
export function isStandalone(): boolean {
  return Deno.build.standalone === true;
}

/**
 * Where embedded files are copied: `$XDG_CACHE_HOME/openl3/<version>` (else `~/.cache/...`); without a
 * home, a private folder of this user in the temp folder, `openl3-<uid>/<version>`, never a shared one.
 */
export function runtimeCacheDir(): string {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "openl3", TOOL_VERSION);
  if (home) return join(home, ".cache", "openl3", TOOL_VERSION);
  return join(Deno.env.get("TMPDIR") ?? "/tmp", `openl3-${currentUid() ?? "user"}`, TOOL_VERSION);
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
 * A path native code can open: `path` itself when running from source; in a compiled binary, a copy on
 * disk with the same file name (so a system loader finds it by name), in a folder named by the SHA-256 of
 * the embedded bytes inside this user's private cache ({@linkcode privateDir}), reused only when its bytes
 * hash to the same value — a file planted or changed there is replaced, never loaded.
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
  const digest = sha256(bytes);
  const cache = options.cacheDir ?? runtimeCacheDir();
  privateDir(cache);
  const dir = join(cache, digest.slice(0, 32));
  privateDir(dir);
  const out = join(dir, path.split(/[\\/]/).pop()!);
  try {
    const info = Deno.lstatSync(out);
    if (info.isFile && sha256(Deno.readFileSync(out)) === digest) return out;
    Deno.removeSync(out); // not what is embedded (or a link): replaced
  } catch { /* not there yet */ }
  writeFileAtomicSync(out, bytes, { mode: 0o700 });
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
