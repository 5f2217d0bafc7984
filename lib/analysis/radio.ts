/**
 * A radio from one or several seeds: a walk through the collection that
 * starts with the first seed and, at every step, takes the song that best
 * balances closeness to the song before it against closeness to the seeds:
 *
 *     score(c) = (1 − drift) · mean over seeds s of cos(c, s) + drift · cos(c, previous)
 *
 * `drift` is the one parameter: 0 stays as near the seeds as the rules allow
 * (the nearest songs, in order), 1 follows the songs from one to the next
 * wherever they lead (a chain of nearest neighbours); the default, 0.5, lets
 * a radio wander and keeps it in the seeds' neighbourhood. Every step keeps
 * the playlist rules (`playlist_rules.ts`).
 *
 * Songs are drawn from the `pool` songs nearest to the seeds (one scan of
 * the collection), so that each step scores at most a few thousand songs,
 * not a million — and stops early, once even a perfect step could not beat
 * the best song found.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { nearestRows, rowCosine, rowsCosine, unitVector } from "./nearest_rows.ts";
import type { PlaylistRules } from "./playlist_rules.ts";
import type { VectorIndex } from "./vector_index.ts";

/** A seed: a stored song (its row) or a vector of a file that is not stored. */
export interface Seed {
  /** The song's row in the index, when it is stored. */
  row?: number;
  /** Its vector (any length scale). */
  vector: ArrayLike<number>;
}

/** One song of a playlist. */
export interface PlaylistEntry {
  /** Its row in the index; undefined for a seed that is not stored (`seed` says which). */
  row?: number;
  /** For a seed: which (its place among the seeds). */
  seed?: number;
  /** How well it fits where it is (a radio: its score; a path: its cosine to the path's point). */
  score: number;
  /** The cosine to the song before it (null for the first). */
  step: number | null;
}

/** A playlist, and whether the rules let it be filled. */
export interface PlaylistResult {
  /** The songs, in play order. */
  entries: PlaylistEntry[];
  /** Whether it has every song (or minute) asked. */
  complete: boolean;
  /** When it is not complete: how far it got and why. */
  shortfall?: string;
}

/** Options of {@linkcode radio}. */
export interface RadioOptions {
  /** The seeds; the first starts the list. */
  seeds: Seed[];
  /** Songs in the list, the first seed included. */
  count?: number;
  /** Or: minutes of music (songs are added until the list is at least this long). */
  minutes?: number;
  /**
   * Closeness to the previous song against closeness to the seeds, 0–1.
   * @default {0.5}
   */
  drift?: number;
  /**
   * Songs considered: the nearest to the seeds. Default: 2 000, or 40 per song asked if more.
   */
  pool?: number;
  /** Told the rows that will be considered, before any is chosen (to load what the rules need of them). */
  prepare?: (rows: number[]) => Promise<void>;
}

/** The default {@linkcode RadioOptions.drift}. */
export const DEFAULT_DRIFT = 0.5;

/**
 * A radio (see the module's description). Durations for `minutes` come from the rules' song facts.
 *
 * @throws {ArgumentError} for no seed, a `drift` outside 0–1, neither or both of `count` and `minutes`.
 */
export async function radio(
  index: VectorIndex,
  rules: PlaylistRules,
  options: RadioOptions,
): Promise<PlaylistResult> {
  const drift = options.drift ?? DEFAULT_DRIFT;
  if (!(drift >= 0 && drift <= 1)) throw new ArgumentError(`--drift must be 0 to 1, got ${drift}`);
  if (options.seeds.length === 0) throw new ArgumentError("a radio needs at least one seed");
  if ((options.count === undefined) === (options.minutes === undefined)) {
    throw new ArgumentError("a radio needs either a number of songs or a number of minutes");
  }
  const count = options.count ?? Infinity;
  const seconds = (options.minutes ?? Infinity) * 60;
  const d = index.dim;
  const seeds = options.seeds.map((s) => unitVector(s.vector));
  const mean = new Float32Array(d);
  for (const s of seeds) for (let i = 0; i < d; i++) mean[i] += s[i] / seeds.length;
  const expected = Number.isFinite(count) ? count : Math.ceil(seconds / 120);
  const poolSize = Math.min(index.ids.length, options.pool ?? Math.max(2000, 40 * expected));
  const [near] = poolSize > 0 ? await nearestRows(index, [mean], poolSize) : [{ rows: new Int32Array(0) }];
  // the pool in order of closeness to the seeds, its rows copied together (each step scores them all)
  const pool = Array.from(near.rows);
  await options.prepare?.([...pool, ...options.seeds.flatMap((s) => (s.row === undefined ? [] : [s.row]))]);
  // closeness to the seeds: c · mean = the mean cosine with the seeds
  const meanNorm = Math.hypot(...mean);
  const toSeeds = pool.map((r) => rowCosine(index, r, mean) * meanNorm);
  const entries: PlaylistEntry[] = [];
  const first = options.seeds[0];
  if (first.row !== undefined) rules.take(first.row);
  entries.push({ row: first.row, seed: 0, score: 1, step: null });
  const previous = seeds[0];
  let prevRow = first.row;
  const done = () => entries.length >= count || rules.seconds >= seconds;
  while (!done()) {
    let best = -1, bestScore = -Infinity, bestStep = 0;
    for (let p = 0; p < pool.length; p++) {
      // the pool is in order of closeness to the seeds: past the point where even a perfect step (cosine 1)
      // could not win, nothing later can
      if ((1 - drift) * toSeeds[p] + drift < bestScore) break;
      const r = pool[p];
      if (rules.has(r)) continue;
      const step = prevRow !== undefined ? rowsCosine(index, prevRow, r) : rowCosine(index, r, previous);
      const score = (1 - drift) * toSeeds[p] + drift * step;
      if (score > bestScore && rules.allows(r)) [best, bestScore, bestStep] = [r, score, step];
    }
    if (best < 0) break;
    rules.take(best);
    entries.push({ row: best, score: bestScore, step: bestStep });
    prevRow = best;
  }
  const complete = done();
  return {
    entries,
    complete,
    shortfall: complete
      ? undefined
      : `the rules let ${entries.length} of ${
        Number.isFinite(count) ? count : `${options.minutes} minutes' worth of`
      } songs in, from the ${pool.length} songs nearest the seeds (refused: ${rules.describeRefusals()})`,
  };
}
