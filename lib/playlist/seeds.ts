/**
 * What a seed names: a stored song by its id, a stored song by its file's
 * path (whichever id style stored it: a path or a file stem), or an audio
 * file that is not stored — embedded the way the stored songs were. Anything
 * else is one line naming it, with the nearest stored ids as suggestions.
 *
 * @module
 */

import { basename } from "node:path";
import { ArgumentError, printable } from "../util/errors.ts";
import { editDistance } from "../util/cli.ts";
import { pathId } from "../store/song_id.ts";
import type { Seed } from "../analysis/radio.ts";
import type { Catalog } from "./catalog.ts";
import type { Timeline } from "../frontend/timeline.ts";

/** A seed, resolved: a stored song (its row) or a file's vector, with how to show it. */
export interface ResolvedSeed extends Seed {
  /** As given. */
  text: string;
  /** The file (a stored song's path, or the audio file). */
  path: string;
  /** A file's timeline (to keep its copies out of the list). */
  timeline?: Timeline;
  /** A file's seconds. */
  duration?: number;
}

/** Embeds an audio file that is not stored, the way the stored songs were: its vector and timeline. */
export type EmbedFile = (
  path: string,
) => Promise<{ vector: Float64Array; timeline?: Timeline; duration?: number }>;

/** Up to `k` stored ids nearest to `text` (by name), for a suggestion. */
export function nearestIds(catalog: Catalog, text: string, k = 3): string[] {
  const want = basename(text).toLowerCase();
  const scored: { id: string; d: number }[] = [];
  const ids = catalog.index.ids;
  const limit = Math.max(2, Math.floor(want.length / 3));
  for (let i = 0; i < ids.length && i < 200_000; i++) {
    const name = basename(ids[i]).toLowerCase();
    const d = name.includes(want) || want.includes(name) ? 0 : editDistance(name, want);
    if (d <= limit) scored.push({ id: ids[i], d });
  }
  return scored.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1)).slice(0, k).map((s) => s.id);
}

/**
 * Resolve a seed.
 *
 * @throws {ArgumentError} for a seed that is neither a stored song nor an audio file (with suggestions).
 */
export async function resolveSeed(catalog: Catalog, text: string, embed: EmbedFile): Promise<ResolvedSeed> {
  const index = catalog.index;
  let row = index.row(text);
  const isFile = await Deno.stat(text).then((s) => s.isFile, () => false);
  if (row < 0 && isFile) {
    const real = pathId(text);
    row = index.row(real);
    if (row < 0) row = catalog.rowOfPath(real);
  }
  if (row >= 0) {
    return { text, row, vector: index.vector(row), path: catalog.songs[row].path };
  }
  if (isFile) return { text, ...(await embed(text)), path: pathId(text) };
  const near = nearestIds(catalog, text);
  throw new ArgumentError(
    `"${printable(text)}" is neither a stored song (id or path) in ${catalog.store.label} nor an audio file` +
      (near.length ? ` (nearest stored: ${near.map((n) => `"${printable(n)}"`).join(", ")})` : ""),
  );
}

/** A seed's line for messages. */
export function describeSeed(catalog: Catalog, s: ResolvedSeed): string {
  return s.row !== undefined ? catalog.describe(s.row) : `${printable(basename(s.path))} (not stored)`;
}

/** Refuse seeds that are one song twice (a path A to A). */
export function checkDistinct(seeds: ResolvedSeed[], what: string): void {
  for (let i = 0; i < seeds.length; i++) {
    for (let j = i + 1; j < seeds.length; j++) {
      const same = seeds[i].row !== undefined
        ? seeds[i].row === seeds[j].row
        : seeds[i].path === seeds[j].path;
      if (same) {
        throw new ArgumentError(
          `${what}: "${printable(seeds[i].text)}" and "${printable(seeds[j].text)}" are the same song`,
        );
      }
    }
  }
}
