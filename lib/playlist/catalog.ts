/**
 * A collection as playlists see it, from any store: the vector index (the
 * ranking `similar` uses), each song's facts for the rules and the playlist
 * file (artist — the tag, else the folder —, title, duration, path), the
 * one model configuration, and the songs' timelines on demand (to keep
 * copies of one recording out of a list).
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { OpenL3Error, printable } from "../util/errors.ts";
import { loadIndex, type VectorIndex } from "../analysis/vector_index.ts";
import type { SongFacts } from "../analysis/playlist_rules.ts";
import {
  classify,
  COPY_PROFILE,
  matchTimelines,
  profileDistance,
  type TimelineFeatures,
  timelineFeatures,
} from "../analysis/duplicates.ts";
import {
  describeRejected,
  openStore,
  type SongStore,
  type SongSummary,
  type StoredConfig,
} from "../store/store.ts";
import { singleConfig } from "../pipeline/stored_config.ts";
import { type Timeline, TIMELINE_VERSION } from "../frontend/timeline.ts";

/** A song of the catalog (one per row of the index). */
export interface CatalogSong extends SongFacts {
  /** Stored id. */
  id: string;
  /** Its file where it was embedded. */
  path: string;
  /** The title tag, else the file name without its extension. */
  title: string;
  /** The artist tag (absent: none). */
  artistTag?: string;
  /** The song's named root and path under it (a shared run's song). */
  root?: string;
  /** Its path under the root. */
  relPath?: string;
}

/** Options of {@linkcode openCatalog}. */
export interface CatalogOptions {
  /** Told each stored vector that is left out (not sound), as a line. */
  onRejected?: (line: string) => void;
}

/** A collection, ready for playlists. */
export class Catalog {
  /** The store (open until {@linkcode close}). */
  readonly store: SongStore;
  /** The sound vectors. */
  readonly index: VectorIndex;
  /** Each row's song. */
  readonly songs: CatalogSong[];
  /** The songs' one configuration (undefined: bare vectors of the original project). */
  readonly config: StoredConfig | undefined;
  readonly #byPath = new Map<string, number>();
  readonly #features = new Map<number, TimelineFeatures | null>();
  readonly #outside = new WeakMap<Timeline, TimelineFeatures>();

  private constructor(store: SongStore, index: VectorIndex, songs: CatalogSong[], config?: StoredConfig) {
    this.store = store;
    this.index = index;
    this.songs = songs;
    this.config = config;
    songs.forEach((s, r) => this.#byPath.set(s.path, r));
  }

  /**
   * Open a database (read-only) as a catalog.
   *
   * @throws {OpenL3Error} when it holds no songs, or mixes model configurations.
   */
  static async open(db: string, options: CatalogOptions = {}): Promise<Catalog> {
    const store = await openStore(db, { readOnly: true });
    try {
      const config = singleConfig(await store.storedConfigs(), store.label);
      const { index, rejected } = await loadIndex(store);
      for (const r of rejected) (options.onRejected ?? ((l) => console.error(l)))(describeRejected(r));
      return Catalog.of(store, index, await store.summaries(), config);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /**
   * A catalog of an index already loaded (the explorer's) and its store's summaries.
   *
   * @throws {OpenL3Error} when the index is empty.
   */
  static of(store: SongStore, index: VectorIndex, list: SongSummary[], config?: StoredConfig): Catalog {
    if (index.ids.length === 0) {
      throw new OpenL3Error(`${store.label} holds no songs yet: embed some first (deno task embed <folder>)`);
    }
    const summaries = new Map(list.map((s) => [s.songId, s]));
    const songs = index.ids.map((id): CatalogSong => {
      const s = summaries.get(id);
      const path = s?.path ?? id;
      const artistTag = s?.tags?.artist?.trim() || undefined;
      const folder = basename(dirname(s?.relPath ?? path)) || "(no folder)";
      return {
        id,
        path,
        title: s?.tags?.title?.trim() || basename(path).replace(/\.[^.]+$/, ""),
        artistTag,
        artist: artistTag ? `tag:${artistTag.toLowerCase()}` : `folder:${folder}`,
        artistFromFolder: !artistTag,
        duration: s?.duration ?? 0,
        root: s?.root,
        relPath: s?.relPath,
      };
    });
    return new Catalog(store, index, songs, config);
  }

  /** The row of a song stored with this file (its path as embedded), or -1. */
  rowOfPath(path: string): number {
    return this.#byPath.get(path) ?? -1;
  }

  /** Load the timelines of these rows (those not loaded yet). */
  async loadTimelines(rows: number[]): Promise<void> {
    const missing = rows.filter((r) => !this.#features.has(r));
    if (missing.length === 0) return;
    const found = await this.store.timelines(missing.map((r) => this.songs[r].id));
    for (const r of missing) {
      const t = found.get(this.songs[r].id);
      this.#features.set(r, t && t.version === TIMELINE_VERSION ? timelineFeatures(t) : null);
    }
  }

  /**
   * Whether `row` is a copy of the recording of a song among `taken` (by their timelines, loaded with
   * {@linkcode loadTimelines}; a song without one is a copy of nothing).
   */
  isCopyAmong(row: number, taken: readonly number[]): boolean {
    const a = this.#features.get(row);
    if (!a) return false;
    for (const t of taken) {
      const b = this.#features.get(t);
      if (!b || profileDistance(a, b) > 2 * COPY_PROFILE) continue;
      if (classify(matchTimelines(a, b)) === "copies") return true;
    }
    return false;
  }

  /** Whether `row` is a copy of the recording whose timeline is `t` (a file that is not stored). */
  isCopyOf(row: number, t: Timeline): boolean {
    const a = this.#features.get(row);
    if (!a) return false;
    let b = this.#outside.get(t);
    if (!b) this.#outside.set(t, b = timelineFeatures(t));
    return profileDistance(a, b) <= 2 * COPY_PROFILE && classify(matchTimelines(a, b)) === "copies";
  }

  /** Songs whose artist came from their folder (no artist tag), among these rows. */
  fromFolder(rows: number[]): number {
    return rows.filter((r) => this.songs[r].artistFromFolder).length;
  }

  /** A song's name for a line: "artist – title", printable. */
  describe(row: number): string {
    const s = this.songs[row];
    return printable(s.artistTag ? `${s.artistTag} – ${s.title}` : s.title);
  }

  /** Close the store. */
  async close(): Promise<void> {
    await this.store.close();
  }
}
