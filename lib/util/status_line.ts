/**
 * A status line on stderr that keeps people informed without flooding a log: on a terminal it is redrawn in
 * place; elsewhere (a log, a pipe, CI) a line is written at most every `everyMs` and at the end, never a
 * carriage return.
 *
 * @module
 */

/** Options of {@linkcode statusLine}. */
export interface StatusLineOptions {
  /**
   * Redraw in place.
   * @default {Deno.stderr.isTerminal()}
   */
  inPlace?: boolean;
  /**
   * Milliseconds between lines when not in place.
   * @default {10000}
   */
  everyMs?: number;
  /** Where the text goes (tests). */
  write?: (text: string) => void;
  /** A clock in milliseconds (tests). */
  now?: () => number;
}

/**
 * A function that shows `text`; `last` ends the line (and is always shown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusLine } from "./status_line.ts";
 * let t = 0;
 * const out: string[] = [];
 * const show = statusLine({ inPlace: false, everyMs: 1000, write: (s) => out.push(s), now: () => t });
 * for (let i = 1; i <= 77; i++) {
 *   t += 100;
 *   show(`${i}/77`, i === 77);
 * }
 * assert.deepEqual(out, ["1/77\n", "11/77\n", "21/77\n", "31/77\n", "41/77\n", "51/77\n", "61/77\n", "71/77\n", "77/77\n"]);
 * ```
 */
export function statusLine(options: StatusLineOptions = {}): (text: string, last?: boolean) => void {
  const inPlace = options.inPlace ?? Deno.stderr.isTerminal();
  const every = options.everyMs ?? 10_000;
  const now = options.now ?? (() => performance.now());
  const encoder = new TextEncoder();
  const write = options.write ?? ((s: string) => Deno.stderr.writeSync(encoder.encode(s)));
  let lastShown = -Infinity;
  return (text, last = false) => {
    if (inPlace) {
      write(`\r\x1b[2K${text}${last ? "\n" : ""}`);
      return;
    }
    const t = now();
    if (!last && t - lastShown < every) return;
    lastShown = t;
    write(`${text}\n`);
  };
}
