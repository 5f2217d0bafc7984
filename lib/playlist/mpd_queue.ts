/**
 * Playlists in MPD: the song MPD plays, mapped to the stored song (MPD's
 * paths are relative to its `music_directory`, which `--mpd-root` says where
 * to find here), as a seed; a playlist queued after it; and, following, the
 * next songs appended whenever fewer than `ahead` remain after the one
 * playing — whatever the listener plays, skips or queues meanwhile.
 *
 * @module
 */

import { join, relative, resolve, sep } from "node:path";
import { OpenL3Error, printable } from "../util/errors.ts";
import { type MpdClient, MpdError } from "../player/mpd_client.ts";
import { pathId } from "../store/song_id.ts";
import type { Catalog } from "./catalog.ts";
import { makePlaylist, type Playlist, type PlaylistRequest } from "./make_playlist.ts";
import type { EmbedFile } from "./seeds.ts";

/** Where MPD's music lives here, and how to map songs both ways. */
export class MpdLibrary {
  /** MPD's `music_directory` as this machine sees it (absolute). */
  readonly root: string;

  /** A library rooted at `root`. */
  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The stored row of the song at MPD URI `uri`, or -1. */
  rowOf(catalog: Catalog, uri: string): number {
    const local = join(this.root, ...uri.split("/"));
    let r = catalog.rowOfPath(local);
    if (r < 0) r = catalog.index.row(pathId(local));
    if (r < 0) r = catalog.rowOfPath(pathId(local));
    return r;
  }

  /** The MPD URI of a file here, or null when it is outside MPD's music directory. */
  uriOf(path: string): string | null {
    const rel = relative(this.root, path);
    if (rel === "" || rel.startsWith("..") || resolve(this.root, rel) !== resolve(path)) return null;
    return rel.split(sep).join("/");
  }
}

/** What was queued. */
export interface Queued {
  /** Songs added to MPD's queue. */
  added: number;
  /** Songs of the playlist MPD does not know (outside its music folder, or refused by it). */
  unknown: number;
}

/** The stored song MPD plays now, as a seed (its id). */
export async function currentSeed(mpd: MpdClient, catalog: Catalog, library: MpdLibrary): Promise<string> {
  const song = await mpd.currentSong();
  if (!song) throw new OpenL3Error(`${mpd.label} plays nothing: start a song, or give a seed`);
  const row = library.rowOf(catalog, song.file);
  if (row < 0) {
    throw new OpenL3Error(
      `${mpd.label} plays "${printable(song.file)}", which is not stored in ${catalog.store.label} ` +
        `(looked for ${printable(join(library.root, song.file))}: is --mpd-root MPD's music_directory?)`,
    );
  }
  return catalog.songs[row].id;
}

/** Add the songs of a playlist to MPD's queue, all but those it leaves out (e.g. the song playing). */
export async function queuePlaylist(
  mpd: MpdClient,
  library: MpdLibrary,
  playlist: Playlist,
  skipFirst: boolean,
): Promise<Queued> {
  const out: Queued = { added: 0, unknown: 0 };
  for (const s of playlist.songs.slice(skipFirst ? 1 : 0)) {
    const uri = library.uriOf(s.path);
    if (uri === null) {
      out.unknown++;
      continue;
    }
    try {
      await mpd.add(uri);
      out.added++;
    } catch (e) {
      if (!(e instanceof MpdError) || /closed|broke|no answer/.test(e.message)) throw e;
      out.unknown++; // MPD answered that it does not know the file (not in its database)
    }
  }
  return out;
}

/** Options of {@linkcode followMpd}. */
export interface FollowOptions {
  /** Songs to keep queued after the one playing. */
  ahead: number;
  /** The rest of the request (drift, artist cap, exclusions) for every radio it makes. */
  request: Omit<PlaylistRequest, "seeds" | "count" | "minutes">;
  /** Told each action, as a line. */
  onLine: (line: string) => void;
  /** Stops following (Ctrl-C). */
  signal: AbortSignal;
}

/**
 * Follow MPD: whenever the player or the queue changes and fewer than `ahead` songs remain after the one
 * playing, append a radio's next songs from the song playing (none already in the queue). Returns when
 * `signal` aborts.
 */
export async function followMpd(
  mpd: MpdClient,
  catalog: Catalog,
  library: MpdLibrary,
  embed: EmbedFile,
  options: FollowOptions,
): Promise<{ added: number; unknown: number }> {
  const total = { added: 0, unknown: 0 };
  const stop = () => mpd.close();
  options.signal.addEventListener("abort", stop);
  try {
    while (!options.signal.aborted) {
      const status = await mpd.status();
      const queue = await mpd.queue();
      const pos = status.song ?? -1;
      const left = pos < 0 ? 0 : queue.length - pos - 1;
      if (pos >= 0 && left < options.ahead) {
        const playing = queue[pos];
        const row = library.rowOf(catalog, playing.file);
        if (row < 0) {
          options.onLine(`${printable(playing.file)} is not stored: waiting for a song that is`);
        } else {
          const inQueue = queue.map((q) => library.rowOf(catalog, q.file)).filter((r) => r >= 0);
          const playlist = await makePlaylist(catalog, {
            ...options.request,
            seeds: [catalog.songs[row].id],
            count: options.ahead - left + 1,
            excludeIds: [...(options.request.excludeIds ?? []), ...inQueue.map((r) => catalog.songs[r].id)],
          }, embed);
          const q = await queuePlaylist(mpd, library, playlist, true);
          total.added += q.added;
          total.unknown += q.unknown;
          options.onLine(
            `after ${catalog.describe(row)}: queued ${q.added}` +
              (q.unknown ? ` (${q.unknown} not known to MPD, skipped)` : "") +
              (playlist.complete ? "" : ` — ${playlist.shortfall}`),
          );
        }
      }
      try {
        await mpd.idle("player", "playlist");
      } catch (e) {
        if (options.signal.aborted) break;
        throw e;
      }
    }
  } finally {
    options.signal.removeEventListener("abort", stop);
  }
  return total;
}
