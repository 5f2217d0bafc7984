/**
 * Files written so that a reader never sees half of one: to a temporary file beside the target, then
 * renamed over it. When the write fails (a full disk, a read-only folder) the temporary file is removed:
 * nothing is left behind, and the old file, if any, is untouched.
 *
 * @module
 */

/** The temporary name for `path`: beside it, so that the rename stays on one file system. */
function tempName(path: string): string {
  return `${path}.${crypto.randomUUID().slice(0, 12)}.tmp`;
}

/**
 * Write `bytes` to `path` atomically.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileAtomic } from "./atomic_file.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.bin`, new Uint8Array([1, 2, 3]));
 * assert.deepEqual(await Deno.readFile(`${dir}/a.bin`), new Uint8Array([1, 2, 3]));
 * await assert.rejects(() => writeFileAtomic(`${dir}/no/such/folder/a.bin`, new Uint8Array(1)));
 * assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.bin"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string,
  options: { mode?: number } = {},
): Promise<void> {
  const tmp = tempName(path);
  try {
    if (typeof bytes === "string") {
      await Deno.writeTextFile(tmp, bytes, { mode: options.mode, createNew: true });
    } else await Deno.writeFile(tmp, bytes, { mode: options.mode, createNew: true });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** {@linkcode writeFileAtomic}, synchronously (for code that holds a database transaction open). */
export function writeFileAtomicSync(path: string, bytes: Uint8Array, options: { mode?: number } = {}): void {
  const tmp = tempName(path);
  try {
    Deno.writeFileSync(tmp, bytes, { mode: options.mode, createNew: true });
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never made */ }
    throw e;
  }
}
