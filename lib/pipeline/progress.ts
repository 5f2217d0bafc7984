/**
 * Progress of a long run on stderr: files done of the total, the file being
 * embedded and how far into it, files per second, seconds of audio per
 * second, and the ETA. On a terminal one line is redrawn in place (at most
 * ten times a second); elsewhere (a log, a pipe) a line is written per file,
 * and every ten seconds inside a long one.
 *
 * @module
 */

import { basename } from "node:path";

/**
 * A duration for people: `42s`, `3m05s`, `2h07m`, or `?`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./progress.ts";
 * assert.equal(formatDuration(42), "42s");
 * assert.equal(formatDuration(185), "3m05s");
 * assert.equal(formatDuration(7620), "2h07m");
 * assert.equal(formatDuration(Infinity), "?");
 * assert.equal(formatDuration(299.6), "5m00s"); // not 4m60s
 * ```
 */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s); // rounded once: 299.6 s is 5m00s, never 4m60s
  const m = Math.floor(t / 60), h = Math.floor(m / 60);
  return h > 0
    ? `${h}h${String(m % 60).padStart(2, "0")}m`
    : m > 0
    ? `${m}m${String(t % 60).padStart(2, "0")}s`
    : `${t}s`;
}

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /** Files in the run. */
  total: number;
  /**
   * Where lines go.
   * @default {console.error}
   */
  write?: (line: string) => void;
  /**
   * Redraw one line in place (a terminal); default: whether stderr is a terminal.
   */
  inPlace?: boolean;
  /** A clock in milliseconds (tests). */
  now?: () => number;
}

/** The progress of a run over files. */
export class Progress {
  /** Files in the run. */
  readonly total: number;
  #write: (line: string) => void;
  #inPlace: boolean;
  #now: () => number;
  #started: number;
  #done = 0;
  #audioDone = 0;
  #current = "";
  #currentSeconds = 0;
  #fraction = 0;
  #lastDraw = -Infinity;
  #drawn = false;

  /**
   * Start the clock of a run.
   * @param options The run's size and where lines go.
   */
  constructor(options: ProgressOptions) {
    this.total = options.total;
    this.#inPlace = options.inPlace ?? Deno.stderr.isTerminal();
    this.#write = options.write ??
      (this.#inPlace
        ? (line) => Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`))
        : (line) => console.error(line));
    this.#now = options.now ?? (() => performance.now());
    this.#started = this.#now();
  }

  /** A file starts (`seconds`: its audio length, when known). */
  start(path: string, seconds: number): void {
    this.#current = basename(path);
    this.#currentSeconds = seconds;
    this.#fraction = 0;
    if (this.#inPlace) this.#draw(100);
    else this.#lastDraw = this.#now(); // in a log, the next line comes 10 s into the file
  }

  /** How far into the current file (0…1). */
  update(fraction: number): void {
    this.#fraction = fraction;
    this.#draw(this.#inPlace ? 100 : 10_000);
  }

  /** The current file is finished (embedded, skipped or failed); `seconds` of audio were embedded. */
  finish(seconds = 0): void {
    this.#done++;
    this.#audioDone += seconds;
    this.#current = "";
    this.#draw(this.#inPlace ? 100 : 0, this.#done === this.total);
  }

  /** End the in-place line (before other output, or at the end). */
  clear(): void {
    if (this.#inPlace && this.#drawn) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[2K"));
    this.#drawn = false;
  }

  /** The line as it stands. */
  line(): string {
    const elapsed = Math.max(1e-3, (this.#now() - this.#started) / 1000);
    const rate = this.#done / elapsed;
    const audioRate = this.#audioDone / elapsed;
    const left = this.total - this.#done - (this.#current ? this.#fraction : 0);
    const eta = rate > 0 ? left / rate : Infinity;
    const parts = [`[${this.#done}/${this.total}]`];
    if (this.#current) {
      const into = this.#currentSeconds > 0
        ? ` ${Math.round(100 * this.#fraction)}% of ${formatDuration(this.#currentSeconds)}`
        : "";
      parts.push(`${this.#current}${into}`);
    }
    parts.push(
      `${rate.toFixed(2)} files/s`,
      `${audioRate.toFixed(1)} s of audio/s`,
      `ETA ${formatDuration(eta)}`,
    );
    return parts.join(" · ");
  }

  #draw(minMs: number, force = false) {
    const now = this.#now();
    if (!force && now - this.#lastDraw < minMs) return;
    this.#lastDraw = now;
    this.#write(this.line());
    this.#drawn = true;
  }
}
