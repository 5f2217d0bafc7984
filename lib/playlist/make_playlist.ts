/**
 * A playlist from a request, the one way every front door makes one (the
 * `playlist` command, the explorer's `/api/playlist`, the MPD follower):
 * the options checked once, the seeds resolved, the rules set (artist cap,
 * no artist twice in a row, no copy of a recording already in the list, no
 * excluded song), then a radio or a path, and the result as songs to show,
 * write or queue.
 *
 * @module
 */

import { ArgumentError, printable } from "../util/errors.ts";
import { readM3u } from "../util/m3u.ts";
import { pathId } from "../store/song_id.ts";
import { PlaylistRules } from "../analysis/playlist_rules.ts";
import { DEFAULT_DRIFT, type PlaylistEntry, radio } from "../analysis/radio.ts";
import { songPath, type StepReport } from "../analysis/song_path.ts";
import type { Catalog } from "./catalog.ts";
import { checkDistinct, describeSeed, type EmbedFile, type ResolvedSeed, resolveSeed } from "./seeds.ts";

/** What a playlist is made from. */
export interface PlaylistRequest {
  /** Radio: its seeds (the first starts it). Path: its start (one). */
  seeds: string[];
  /** Path: its end. */
  to?: string;
  /** Path: waypoints, in order. */
  via?: string[];
  /** Songs in the list (every song: seeds, start, end and waypoints included). */
  count?: number;
  /** Radio: minutes of music instead of a number of songs. */
  minutes?: number;
  /**
   * Radio: closeness to the previous song against closeness to the seeds, 0–1.
   * @default {0.5}
   */
  drift?: number;
  /** At most this many songs per artist (the artist tag, else the folder). */
  maxPerArtist?: number;
  /** Playlists (M3U8) of songs never to take (already played). */
  exclude?: string[];
  /** Songs never to take, by stored id (the explorer's list so far, MPD's queue). */
  excludeIds?: string[];
}

/** The default number of songs. */
export const DEFAULT_COUNT = 20;

/** Check a request's values (before anything is read), naming the flag and the bad value. */
export function checkRequest(r: PlaylistRequest): void {
  if (r.seeds.length === 0) {
    throw new ArgumentError("give a seed: a stored song's id or path, or an audio file");
  }
  const path = r.to !== undefined;
  if (!path && r.via?.length) throw new ArgumentError("--via needs --to (a path from the seed to --to)");
  if (path && r.seeds.length !== 1) {
    throw new ArgumentError(`a path starts at one song, got ${r.seeds.length} (use --via for waypoints)`);
  }
  if (r.count !== undefined && r.minutes !== undefined) {
    throw new ArgumentError("give -n or --minutes, not both");
  }
  if (path && r.minutes !== undefined) {
    throw new ArgumentError("a path is a number of songs (-n), not --minutes");
  }
  if (r.count !== undefined && (!Number.isInteger(r.count) || r.count < 2 || r.count > 10_000)) {
    throw new ArgumentError(`-n must be a whole number from 2 to 10000, got ${r.count}`);
  }
  if (r.minutes !== undefined && !(r.minutes > 0 && r.minutes <= 100_000)) {
    throw new ArgumentError(`--minutes must be a positive number of minutes, got ${r.minutes}`);
  }
  if (r.drift !== undefined && !(r.drift >= 0 && r.drift <= 1)) {
    throw new ArgumentError(`--drift must be from 0 to 1, got ${r.drift}`);
  }
  if (r.maxPerArtist !== undefined && (!Number.isInteger(r.maxPerArtist) || r.maxPerArtist < 1)) {
    throw new ArgumentError(`--max-per-artist must be a whole number ≥ 1, got ${r.maxPerArtist}`);
  }
  const anchors = 2 + (r.via?.length ?? 0);
  if (path && (r.count ?? DEFAULT_COUNT) < anchors) {
    throw new ArgumentError(`-n must be at least ${anchors} for a path with ${anchors - 2} waypoints`);
  }
}

/** A song of a playlist, as shown, written and queued. */
export interface PlaylistSong {
  /** Stored id (absent: a seed file that is not stored). */
  id?: string;
  /** Its file. */
  path: string;
  /** The artist tag. */
  artist?: string;
  /** The title tag, else the file name. */
  title: string;
  /** Seconds. */
  duration?: number;
  /** How well it fits where it is (radio: its score; path: cosine to its point on the arc). */
  score: number;
  /** Cosine to the song before it (null for the first). */
  step: number | null;
  /** The named root and path under it (a shared run's song). */
  root?: string;
  /** Its path under the root. */
  relPath?: string;
}

/** A playlist, and what to say about it. */
export interface Playlist {
  /** A radio or a path. */
  mode: "radio" | "path";
  /** The songs, in play order. */
  songs: PlaylistSong[];
  /** Whether it has every song (or minute) asked. */
  complete: boolean;
  /** When not complete: how far it got and why. */
  shortfall?: string;
  /** Lines for the report (artists from folders, excluded songs not found, the path's steps). */
  notes: string[];
  /** A path's steps, with its baselines. */
  steps?: {
    path: StepReport;
    greatCircle: StepReport;
    nearestChain: StepReport;
    direct: number;
  };
}

/** Rows of the songs listed in these playlists, and how many entries are not stored songs. */
async function excludedRows(catalog: Catalog, files: string[]): Promise<{ rows: number[]; unknown: number }> {
  const rows: number[] = [];
  let unknown = 0;
  for (const file of files) {
    for (const e of await readM3u(file)) {
      let r = catalog.rowOfPath(e.path);
      if (r < 0) r = catalog.rowOfPath(pathId(e.path));
      if (r < 0) r = catalog.index.row(pathId(e.path));
      if (r >= 0) rows.push(r);
      else unknown++;
    }
  }
  return { rows, unknown };
}

/**
 * Make a playlist from a catalog.
 *
 * @throws {ArgumentError} for a bad request or a seed that names nothing.
 */
export async function makePlaylist(
  catalog: Catalog,
  request: PlaylistRequest,
  embed: EmbedFile,
): Promise<Playlist> {
  checkRequest(request);
  const path = request.to !== undefined;
  const seeds: ResolvedSeed[] = [];
  for (const text of [...request.seeds, ...(request.via ?? []), ...(path ? [request.to!] : [])]) {
    seeds.push(await resolveSeed(catalog, text, embed));
  }
  if (path) checkDistinct(seeds, "a path's start, waypoints and end must be different songs");
  const notes: string[] = [];
  // seeds that are files, not stored songs: their copies in the collection stay out of the list
  const outside = seeds.flatMap((s) => (s.row === undefined && s.timeline ? [s.timeline] : []));
  const ex = await excludedRows(catalog, request.exclude ?? []);
  const excluded = [
    ...ex.rows,
    ...(request.excludeIds ?? []).map((id) => catalog.index.row(id)).filter((r) => r >= 0),
  ];
  if (ex.unknown) notes.push(`${ex.unknown} excluded entries are not stored songs (left as they are)`);
  const rules = new PlaylistRules(catalog.songs, {
    maxPerArtist: request.maxPerArtist,
    excluded,
    duplicateOf: (row, taken) =>
      catalog.isCopyAmong(row, taken) || outside.some((t) => catalog.isCopyOf(row, t)),
  });
  const prepare = (rows: number[]) => catalog.loadTimelines(rows);
  const count = request.count ?? (request.minutes === undefined ? DEFAULT_COUNT : undefined);
  let entries: PlaylistEntry[], complete: boolean, shortfall: string | undefined;
  let steps: Playlist["steps"];
  if (path) {
    const p = await songPath(catalog.index, rules, { anchors: seeds, count: count!, prepare });
    ({ entries, complete, shortfall } = p);
    steps = { path: p.report, greatCircle: p.greatCircle, nearestChain: p.nearestChain, direct: p.direct };
  } else {
    ({ entries, complete, shortfall } = await radio(catalog.index, rules, {
      seeds,
      count,
      minutes: request.minutes,
      drift: request.drift ?? DEFAULT_DRIFT,
      prepare,
    }));
  }
  const rows = entries.flatMap((e) => (e.row === undefined ? [] : [e.row]));
  const fromFolder = catalog.fromFolder(rows);
  if (fromFolder) {
    notes.push(
      `${fromFolder} of ${rows.length} songs have no artist tag: their folder stands for their artist`,
    );
  }
  const songs = entries.map((e): PlaylistSong => {
    if (e.row === undefined) {
      const s = seeds[e.seed!];
      return {
        path: s.path,
        title: describeSeed(catalog, s),
        duration: s.duration,
        score: e.score,
        step: e.step,
      };
    }
    const s = catalog.songs[e.row];
    return {
      id: s.id,
      path: s.path,
      artist: s.artistTag,
      title: s.title,
      duration: s.duration || undefined,
      score: e.score,
      step: e.step,
      root: s.root,
      relPath: s.relPath,
    };
  });
  return { mode: path ? "path" : "radio", songs, complete, shortfall, notes, steps };
}

/** The playlist as lines of text: rank, step, "artist – title", duration, file. */
export function formatPlaylist(p: Playlist): string[] {
  const lines = p.songs.map((s, i) => {
    const dur = s.duration
      ? ` (${Math.floor(s.duration / 60)}:${String(Math.round(s.duration % 60)).padStart(2, "0")})`
      : "";
    const step = s.step === null ? "     " : s.step.toFixed(3);
    const name = s.artist ? `${s.artist} – ${s.title}` : s.title;
    return `${String(i + 1).padStart(3)}  ${step}  ${printable(name)}${dur}  ${printable(s.path)}`;
  });
  if (p.steps) {
    const f = (r: StepReport) => r.worst.toFixed(3);
    lines.push(
      `path: worst step ${f(p.steps.path)} (the great-circle fill's ${f(p.steps.greatCircle)}, ` +
        `the nearest-neighbour chain's ${f(p.steps.nearestChain)}, the direct jump ${
          p.steps.direct.toFixed(3)
        })`,
    );
  }
  return lines;
}
