/**
 * Song ids: the real absolute path (unique across folders, stable across
 * runs) for collections, the file stem for the original project's previews.
 *
 * @module
 */

import { basename, extname, resolve } from "node:path";

/** The default song id: the file's real absolute path. */
export function pathId(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return resolve(path);
  }
}

/** The original project's song id: the file name without its extension. */
export function stemId(path: string): string {
  return basename(path, extname(path));
}
