/**
 * M3U8 playlists: UTF-8, `#EXTM3U`, one `#EXTINF:<seconds>,<artist> - <title>`
 * line before each entry's path. Written whole to a temporary file beside
 * the target and renamed over it, so a playlist is never half written; read
 * back leniently (comments, blank lines, Windows line ends, URLs).
 *
 * @module
 */

import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { FileError } from "./errors.ts";
import { writeFileAtomic } from "./atomic_file.ts";

/** One entry of a playlist. */
export interface M3uEntry {
  /** The file (absolute, or as written). */
  path: string;
  /** Seconds (rounded; -1: unknown). */
  duration?: number;
  /** What a player shows: "artist - title". */
  title?: string;
}

/** One line of text: control characters (a newline in a tag) become spaces. */
function line(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, " ");
}

/**
 * The text of an M3U8 playlist. Paths are written relative to `folder` (the playlist's own folder) with
 * `/` separators, unless `absolute`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatM3u } from "./m3u.ts";
 * const text = formatM3u([{ path: "/music/a/b.mp3", duration: 201.6, title: "Ann - Song" }], "/music");
 * assert.equal(text, "#EXTM3U\n#EXTINF:202,Ann - Song\na/b.mp3\n");
 * ```
 */
export function formatM3u(entries: M3uEntry[], folder: string, absolute = false): string {
  const out = ["#EXTM3U"];
  for (const e of entries) {
    const seconds = e.duration === undefined || !Number.isFinite(e.duration) ? -1 : Math.round(e.duration);
    out.push(`#EXTINF:${seconds},${line(e.title ?? "")}`);
    const rel = absolute || !isAbsolute(e.path) ? e.path : relative(folder, e.path).split(sep).join("/");
    out.push(line(rel));
  }
  return out.join("\n") + "\n";
}

/**
 * Write a playlist: to a temporary file beside `file`, then renamed over it (never half written).
 *
 * @throws {FileError} naming the playlist when its folder cannot be written.
 */
export async function writeM3u(file: string, entries: M3uEntry[], absolute = false): Promise<void> {
  const target = resolve(file);
  const text = formatM3u(entries, dirname(target), absolute);
  try {
    await writeFileAtomic(target, text);
  } catch (e) {
    throw new FileError(file, `cannot be written (${(e as Error).message})`, { cause: e });
  }
}

/**
 * The entries of a playlist's text; relative paths are resolved against `folder`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseM3u } from "./m3u.ts";
 * const entries = parseM3u("#EXTM3U\r\n#EXTINF:202,Ann - Song\r\na/b.mp3\r\n\r\n# note\r\n/x/c.flac\r\n", "/music");
 * assert.deepEqual(entries.map((e) => e.path), ["/music/a/b.mp3", "/x/c.flac"]);
 * assert.equal(entries[0].title, "Ann - Song");
 * ```
 */
export function parseM3u(text: string, folder: string): M3uEntry[] {
  const entries: M3uEntry[] = [];
  let info: { duration?: number; title?: string } = {};
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    const l = raw.trim();
    if (l === "") continue;
    const m = /^#EXTINF:\s*(-?\d+(?:\.\d+)?)\s*(?:[^,]*),(.*)$/.exec(l);
    if (m) {
      info = { duration: Number(m[1]), title: m[2] };
      continue;
    }
    if (l.startsWith("#")) continue;
    const path = /^[a-z][a-z0-9+.-]*:\/\//i.test(l) ? l : isAbsolute(l) ? l : resolve(folder, l);
    entries.push({ path, ...info });
    info = {};
  }
  return entries;
}

/**
 * Read a playlist file.
 *
 * @throws {FileError} naming the file when it cannot be read.
 */
export async function readM3u(file: string): Promise<M3uEntry[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new FileError(file, `cannot be read (${(e as Error).message})`, { cause: e });
  }
  return parseM3u(text, dirname(resolve(file)));
}
