/**
 * Finding the audio files of a collection: files and folders (walked
 * recursively, symlinks followed once), picked by extension, each counted
 * when it is passed over so the user hears what was not embedded and why.
 *
 * @module
 */

import { AUDIO_EXTENSIONS as FILE_EXTENSIONS } from "../audio/formats.ts";
import { extname, join } from "node:path";
import { ArgumentError } from "../util/errors.ts";

/** File extensions picked up when walking folders (files named on the command line are always tried). */
export const AUDIO_EXTENSIONS: string[] = [...FILE_EXTENSIONS];

/** What a walk found. */
export interface Discovery {
  /** Audio files, sorted within each folder, each real file once (however many links lead to it). */
  files: string[];
  /** Files passed over in folders, counted by extension (`(none)` for no extension). */
  passedOver: Map<string, number>;
  /** Links to folders not followed, and why (into the system's folders, or up above the collection). */
  linksSkipped: { path: string; target: string; why: string }[];
  /** Entries that are neither files nor folders (FIFOs, sockets, devices, broken links). */
  special: string[];
  /** Folders that could not be read and inputs that are not there: the walk went on without them. */
  unreadable: { path: string; problem: string }[];
}

/**
 * Every audio file under the inputs.
 *
 * @param inputs Files and folders.
 * @param extensions Extensions picked up in folders (lower case, with the dot).
 * @throws {ArgumentError} when no input exists (some missing among others are listed in `unreadable`).
 */
export async function findAudioFiles(inputs: string[], extensions = AUDIO_EXTENSIONS): Promise<Discovery> {
  const found = new Map<string, string>(); // real path → the first path that reached it
  const add = async (p: string) => {
    let real = p;
    try {
      real = await Deno.realPath(p);
    } catch { /* unreadable: kept under its own name, the reader says what is wrong */ }
    if (!found.has(real)) found.set(real, p);
  };
  const passedOver = new Map<string, number>();
  const special: string[] = [];
  const seenDirs = new Set<string>();
  const unreadable: { path: string; problem: string }[] = [];
  const linksSkipped: Discovery["linksSkipped"] = [];
  const walk = async (dir: string, root: string) => {
    const entries: Deno.DirEntry[] = [];
    try {
      const real = await Deno.realPath(dir);
      if (seenDirs.has(real)) return; // a link back up the tree: each folder once
      seenDirs.add(real);
      for await (const e of Deno.readDir(dir)) entries.push(e);
    } catch (e) {
      // an unreadable folder is said and passed over: the rest of the collection is still embedded
      unreadable.push({
        path: dir,
        problem: `folder cannot be read (${(e as Error).message.split(":")[0]})`,
      });
      return;
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.name.includes("\uFFFD")) {
        // a name that is not valid UTF-8 reaches us with U+FFFD in it: no call can open it by that name
        unreadable.push({
          path: p,
          problem: "its name is not valid UTF-8, which cannot be opened here: rename it",
        });
        continue;
      }
      let isDir = e.isDirectory, isFile = e.isFile;
      if (e.isSymlink) {
        try {
          const target = await Deno.stat(p);
          [isDir, isFile] = [target.isDirectory, target.isFile];
        } catch {
          special.push(p); // a broken link
          continue;
        }
        if (isDir) {
          // a linked folder is followed (a collection spread over disks), but never into the system's
          // folders, and never up to the collection's own folder or above it (a link to / would walk all)
          const target = await Deno.realPath(p).catch(() => p);
          const why = linkProblem(target, root);
          if (why) {
            linksSkipped.push({ path: p, target, why });
            continue;
          }
        }
      }
      if (isDir) await walk(p, root);
      else if (!isFile) special.push(p);
      else if (extensions.includes(extname(e.name).toLowerCase())) await add(p);
      else {
        const ext = extname(e.name).toLowerCase() || "(none)";
        passedOver.set(ext, (passedOver.get(ext) ?? 0) + 1);
      }
    }
  };
  const missing: string[] = [];
  for (const input of inputs) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(input);
    } catch (e) {
      missing.push(input);
      const why = e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message.split(":")[0];
      unreadable.push({ path: input, problem: `input ${why}` });
      continue;
    }
    if (info.isDirectory) {
      const real = await Deno.realPath(input).catch(() => input);
      const why = SYSTEM.find((s) => real === s || real.startsWith(`${s}/`));
      if (why) {
        unreadable.push({ path: input, problem: `${why} is the system's, not a collection: not walked` });
        continue;
      }
      await walk(input, real);
    } else await add(input); // regular or not: the file reader says what is wrong with it
  }
  if (missing.length === inputs.length && inputs.length > 0) {
    throw new ArgumentError(`input not found: ${missing.join(", ")}`);
  }
  return { files: [...found.values()], passedOver, special, unreadable, linksSkipped };
}

/** Folders of the system, never walked. */
const SYSTEM = ["/proc", "/sys", "/dev", "/run"];

/**
 * Why a link to folder `target` (a real path) is not followed from the collection at `root`, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkProblem } from "./discovery.ts";
 * assert.equal(linkProblem("/mnt/nas/jazz", "/home/me/Music"), null);
 * assert.match(linkProblem("/", "/home/me/Music")!, /above the collection/);
 * assert.match(linkProblem("/proc/self", "/home/me/Music")!, /the system's/);
 * ```
 */
export function linkProblem(target: string, root: string): string | null {
  const system = SYSTEM.find((s) => target === s || target.startsWith(`${s}/`));
  if (system) return `it leads into ${system}, the system's`;
  const t = target.endsWith("/") ? target : `${target}/`;
  if (root === target || `${root}/`.startsWith(t)) {
    return "it leads to the collection's folder or above the collection";
  }
  return null;
}

/**
 * "3 .m4a, 1 .txt": what was passed over, most common first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describePassedOver } from "./discovery.ts";
 * assert.equal(describePassedOver(new Map([[".txt", 1], [".m4a", 3]])), "3 .m4a, 1 .txt");
 * ```
 */
export function describePassedOver(passedOver: Map<string, number>): string {
  return [...passedOver].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([ext, n]) =>
    `${n} ${ext}`
  )
    .join(", ");
}
