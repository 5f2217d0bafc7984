/**
 * Reading an input file the safe way: only regular files (a FIFO would block
 * forever, `/dev/zero` would fill memory), within a size limit, with every
 * failure one {@linkcode InputFileError} naming the file and the problem.
 *
 * @module
 */

import { FileError } from "./errors.ts";

/** An input file that cannot be read: missing, a folder, not a regular file, too large, unreadable. */
export class InputFileError extends FileError {}

/** Options of {@linkcode readInputFile}. */
export interface ReadInputOptions {
  /**
   * Largest size accepted, in bytes.
   * @default {4 GiB}
   */
  maxBytes?: number;
  /** What the file is, for messages ("audio file", "reference"). */
  what?: string;
}

/** Why a path cannot be read as a regular file, or null when it can be tried. */
export async function notRegular(path: string): Promise<string | null> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    return e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : `cannot be read (${(e as Error).message})`;
  }
  if (info.isDirectory) return "is a folder, not a file";
  if (info.isFifo) return "is a FIFO (named pipe), not a regular file";
  if (info.isCharDevice || info.isBlockDevice) return "is a device, not a regular file";
  if (info.isSocket) return "is a socket, not a regular file";
  if (!info.isFile) return "is not a regular file";
  return null;
}

/**
 * Read a whole regular file.
 *
 * @throws {InputFileError} naming the file and the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputFileError, readInputFile } from "./input_file.ts";
 * await assert.rejects(() => readInputFile("/no/such/file.wav"), InputFileError);
 * await assert.rejects(() => readInputFile("/dev/zero"), /is a device, not a regular file/);
 * ```
 */
export async function readInputFile(path: string, options: ReadInputOptions = {}): Promise<Uint8Array> {
  const why = await notRegular(path);
  if (why) throw new InputFileError(path, why);
  const max = options.maxBytes ?? 4 * 1024 ** 3;
  const size = (await Deno.stat(path)).size;
  if (size > max) {
    throw new InputFileError(
      path,
      `is ${size} bytes, more than the ${max}-byte limit for ${options.what ?? "an input"}`,
    );
  }
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new InputFileError(path, `cannot be read (${(e as Error).message})`, { cause: e });
  }
}
