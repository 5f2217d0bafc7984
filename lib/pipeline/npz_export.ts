/**
 * OpenL3-style `.npz` output: one file per audio file, `embedding`
 * (windows × size, float32) and `timestamps` (seconds, float64), named as
 * `openl3` names them (`<stem>.npz`, or `<stem>_<suffix>.npz`), written
 * atomically.
 *
 * @module
 */

import { basename, extname, join } from "node:path";
import { encodeNpz } from "../util/npz.ts";
import { ArgumentError } from "../util/errors.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";

/**
 * Refuse a `.npz` name suffix that would leave the output folder: a path separator, or `..` alone. (openl3
 * writes such names as given, outside its output folder; this tool refuses them, before any work.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSuffix } from "./npz_export.ts";
 * checkSuffix("mel256");
 * assert.throws(() => checkSuffix("../x"), /--suffix must not hold a path separator/);
 * ```
 */
export function checkSuffix(suffix: string | undefined): void {
  if (suffix === undefined) return;
  if (/[\\/]/.test(suffix) || suffix === "..") {
    throw new ArgumentError(
      `--suffix must not hold a path separator or be "..", got "${suffix}": the .npz files stay in their folder`,
    );
  }
}

/** Frame embeddings of one file. */
export interface FrameEmbeddings {
  /** windows × size, row-major. */
  embedding: Float32Array;
  /** Seconds, one per window. */
  timestamps: Float64Array;
  /** Number of windows. */
  windows: number;
  /** Embedding length. */
  size: number;
}

/**
 * The output names of a run's files: `<stem>[_<suffix>].npz` as openl3 names
 * them; files of the run that share a stem (`a/intro.wav`, `b/intro.mp3`)
 * get `<stem>-<8 hex digits of the SHA-256 of their id>` instead, so no file
 * overwrites another and the names do not depend on the order of the run.
 *
 * @returns id → file name, and the stems that clashed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { npzNames } from "./npz_export.ts";
 * const { names } = await npzNames(["/m/a/intro.wav", "/m/b/song.mp3"], "");
 * assert.equal(names.get("/m/a/intro.wav"), "intro.npz");
 * const clash = await npzNames(["/m/a/intro.wav", "/m/b/intro.mp3"], "mel");
 * assert.match(clash.names.get("/m/a/intro.wav")!, /^intro-[0-9a-f]{8}_mel\.npz$/);
 * assert.deepEqual(clash.clashes, ["intro"]);
 * ```
 */
export async function npzNames(
  ids: string[],
  suffix: string,
  manifest: NpzManifest = {},
): Promise<{ names: Map<string, string>; clashes: string[] }> {
  const stem = (id: string) => basename(id, extname(id));
  const plain = (s: string) => `${s}${suffix ? `_${suffix}` : ""}.npz`;
  const count = new Map<string, number>();
  for (const id of ids) count.set(stem(id), (count.get(stem(id)) ?? 0) + 1);
  // a name an earlier run gave another song stays that song's: this one gets the hashed name
  for (const id of ids) {
    const owner = manifest[plain(stem(id))]?.song;
    if (owner !== undefined && owner !== id) count.set(stem(id), Math.max(2, count.get(stem(id))! + 1));
  }
  const names = new Map<string, string>();
  for (const id of ids) {
    let s = stem(id);
    if (count.get(s)! > 1) {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)));
      s += "-" + Array.from(digest.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    }
    names.set(id, plain(s));
  }
  return { names, clashes: [...count].filter(([, n]) => n > 1).map(([s]) => s) };
}

/** Which song each `.npz` of an output folder holds, across runs: name → song id, its content, its configuration. */
export type NpzManifest = Record<string, { song: string; sha256: string; config: string }>;

/** The manifest's file in an output folder. */
export const NPZ_MANIFEST = ".openl3-npz-manifest.json";

/** The manifest of an output folder (empty when there is none, or it is unreadable). */
export async function readNpzManifest(dir: string): Promise<NpzManifest> {
  try {
    const m = JSON.parse(await Deno.readTextFile(join(dir, NPZ_MANIFEST)));
    return m && typeof m === "object" && !Array.isArray(m) ? m : {};
  } catch {
    return {};
  }
}

/** Write the manifest atomically. */
export async function writeNpzManifest(dir: string, manifest: NpzManifest): Promise<void> {
  await writeFileAtomic(join(dir, NPZ_MANIFEST), JSON.stringify(manifest, null, 1) + "\n");
}

/** Write frame embeddings as an OpenL3-style `.npz` (atomically: a reader never sees half a file). */
export async function writeEmbeddingNpz(path: string, frames: FrameEmbeddings): Promise<void> {
  await writeFileAtomic(
    path,
    encodeNpz({
      embedding: { data: frames.embedding, shape: [frames.windows, frames.size] },
      timestamps: { data: frames.timestamps, shape: [frames.windows] },
    }),
  );
}
