/**
 * The files of the converted-model cache: written so that a reader never sees half of one, and read back
 * only when their bytes hash to what was recorded beside them (`<model>.sha256`).
 *
 * @module
 */

import { dirname } from "node:path";
import { sha256 } from "../util/hash.ts";
import type { LoadedModel } from "./loaded_model.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Write a file so that a reader never sees half of it. */
export const writeAtomic: typeof writeFileAtomic = writeFileAtomic;

/**
 * A cached file (a converted model, a calibration), verified against the SHA-256 recorded when it was
 * written (`<file>.sha256`); null when it is missing, `damaged` when it does not match or cannot be
 * verified (the caller rebuilds it).
 */
export async function readVerifiedCache(
  path: string,
): Promise<{ bytes: Uint8Array } | { damaged: string } | null> {
  if (!(await exists(path))) return null;
  let bytes: Uint8Array, recorded: string;
  try {
    bytes = await Deno.readFile(path);
    recorded = (await Deno.readTextFile(`${path}.sha256`)).trim();
  } catch {
    return { damaged: "its recorded hash is missing" };
  }
  const actual = await sha256(bytes);
  return actual === recorded
    ? { bytes }
    : { damaged: `SHA-256 ${actual.slice(0, 16)}…, recorded ${recorded.slice(0, 16)}…` };
}

/** Write a converted model and its hash into the cache (a model that cannot be cached is still used). */
export async function cacheModel(model: LoadedModel, cached: string, verbose: boolean): Promise<LoadedModel> {
  try {
    await Deno.mkdir(dirname(cached), { recursive: true });
    await writeAtomic(cached, model.onnx);
    await writeAtomic(`${cached}.sha256`, new TextEncoder().encode(`${await sha256(model.onnx)}\n`));
  } catch (e) {
    if (verbose) {
      console.error(`warning: cannot cache the converted model at ${cached}: ${(e as Error).message}`);
    }
    return model;
  }
  return { ...model, cached };
}
