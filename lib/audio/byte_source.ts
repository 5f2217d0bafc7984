/**
 * Bytes to decode, read where they are needed: a file (read in pieces, never
 * whole) or bytes already in memory. The decoders read headers at known
 * offsets and the audio data front to back, through this one interface.
 *
 * @module
 */

import { InputFileError, notRegular } from "../util/input_file.ts";

/** Random-access bytes of known size. */
export interface ByteSource {
  /** Size in bytes. */
  readonly size: number;
  /** Up to `length` bytes at `offset` (fewer at the end). */
  readAt(offset: number, length: number): Promise<Uint8Array>;
  /** Release the file. */
  close(): void;
}

/**
 * Bytes already in memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryByteSource } from "./byte_source.ts";
 * const s = new MemoryByteSource(new Uint8Array([1, 2, 3, 4]));
 * assert.deepEqual(Array.from(await s.readAt(2, 10)), [3, 4]);
 * ```
 */
export class MemoryByteSource implements ByteSource {
  readonly size: number;
  readonly #bytes: Uint8Array;
  /**
   * A source over `bytes`.
   * @param bytes The whole file.
   */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.size = bytes.length;
  }
  readAt(offset: number, length: number): Promise<Uint8Array> {
    return Promise.resolve(this.#bytes.subarray(offset, Math.min(this.size, offset + length)));
  }
  close(): void {}
}

/** A regular file, read in pieces. */
export class FileByteSource implements ByteSource {
  readonly size: number;
  readonly #file: Deno.FsFile;

  private constructor(file: Deno.FsFile, size: number) {
    this.#file = file;
    this.size = size;
  }

  /**
   * Open a regular file (a FIFO, a device or a folder is refused).
   *
   * @throws {InputFileError} naming the file and the problem.
   */
  static async open(path: string): Promise<FileByteSource> {
    const why = await notRegular(path);
    if (why) throw new InputFileError(path, why);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      throw new InputFileError(path, `cannot be read (${(e as Error).message})`, { cause: e });
    }
    return new FileByteSource(file, (await file.stat()).size);
  }

  async readAt(offset: number, length: number): Promise<Uint8Array> {
    const want = Math.max(0, Math.min(length, this.size - offset));
    const out = new Uint8Array(want);
    await this.#file.seek(offset, Deno.SeekMode.Start);
    let at = 0;
    while (at < want) {
      const n = await this.#file.read(out.subarray(at));
      if (n === null || n === 0) break;
      at += n;
    }
    return at === want ? out : out.subarray(0, at);
  }

  close(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }
}
