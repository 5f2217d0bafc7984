/**
 * Named roots (`--root NAME=PATH`): a shared run stores each song by its
 * path under a named root, so that machines mounting the collection in
 * different places agree on its id (`NAME:path/under/it`); each machine says
 * where it mounts each root.
 *
 * @module
 */

import { relative, resolve, sep } from "node:path";
import { ArgumentError } from "../util/errors.ts";

/** Parse `NAME=PATH` roots into a map of name → absolute real path. */
export async function parseRoots(roots: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of roots) {
    const m = r.match(/^([A-Za-z0-9_.-]+)=(.+)$/);
    if (!m) throw new ArgumentError(`--root must be NAME=PATH (NAME of letters, digits, _ . -), got "${r}"`);
    let path: string;
    try {
      path = await Deno.realPath(m[2]);
    } catch {
      throw new ArgumentError(`--root ${m[1]}=${m[2]}: no such folder`);
    }
    if (out.has(m[1])) throw new ArgumentError(`--root ${m[1]} given twice`);
    out.set(m[1], path);
  }
  return out;
}

/** The root a file lies under (the deepest), and its path there with `/` separators. */
export function underRoot(
  file: string,
  roots: Map<string, string>,
): { root: string; relPath: string } | null {
  let best: { root: string; relPath: string; depth: number } | null = null;
  for (const [name, path] of roots) {
    const rel = relative(path, file);
    if (rel === "" || rel.startsWith("..") || resolve(path, rel) !== file) continue;
    if (!best || path.length > best.depth) {
      best = { root: name, relPath: rel.split(sep).join("/"), depth: path.length };
    }
  }
  return best && { root: best.root, relPath: best.relPath };
}
