/**
 * The root error class of the project and its specialisations.
 *
 * Every error the library raises on purpose is an {@linkcode OpenL3Error}, so a
 * caller (a CLI, a batch job) can tell "this input is bad" from "this is a bug".
 *
 * @module
 */

/** Root of every error this project raises deliberately. */
export class OpenL3Error extends Error {
  /**
   * @param message What went wrong, naming the offending value or file.
   * @param options `cause`: the underlying error, when there is one.
   */
  /**
   * The error.
   * @param message What went wrong, naming the offending value or file.
   * @param options `cause`: the underlying error, when there is one.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A problem of one file: its message is `<file>: <problem>`, and both parts are kept. */
export class FileError extends OpenL3Error {
  /** The file (or label). */
  readonly file: string;
  /** The problem, without the file name. */
  readonly problem: string;

  /**
   * The error.
   * @param file The file.
   * @param problem What is wrong with it.
   * @param options `cause`: the underlying error.
   */
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.file = file;
    this.problem = problem;
  }
}

/**
 * An audio file could not be turned into samples: empty, truncated, garbage,
 * an unsupported format, or no audio in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AudioDecodeError } from "./errors.ts";
 * const e = new AudioDecodeError("song.mp3", "file is empty");
 * assert.equal(e.message, "song.mp3: file is empty");
 * ```
 */
export class AudioDecodeError extends FileError {}

/** A function or command was called with an argument it cannot accept. */
export class ArgumentError extends OpenL3Error {}

/**
 * A file name or id as one printable line: control characters (a newline in
 * a file name, say, or a terminal escape) and the bidirectional controls
 * that would reorder the rest of the line are shown escaped, so a report
 * line stays one line and reads in its order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { printable } from "./errors.ts";
 * assert.equal(printable("a\nb.wav"), "a\\nb.wav");
 * assert.equal(printable("\x1b[31mred"), "\\u001b[31mred");
 * assert.equal(printable("rtl\u202eevil"), "rtl\\u202eevil");
 * assert.equal(printable("plain.mp3 — Ærø"), "plain.mp3 — Ærø");
 * ```
 */
export function printable(name: string): string {
  return name.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) =>
      c.length === 1 && c < " "
        ? JSON.stringify(c).slice(1, -1)
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A run's model configuration is not the one its database's songs were made with: nothing is written. */
export class ConfigMismatchError extends OpenL3Error {}
