/**
 * What a collection's store is, whichever kind: {@linkcode SongStore}, the
 * interface every command reads and writes through (songs, vectors, frames,
 * configurations, failures, roots), and the types it speaks. `store.ts`
 * opens one; `sqlite_store.ts` and `pg_store.ts` implement it.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import type { ModelConfig } from "./model_config.ts";
import type { SongRecord, StoredConfig, StoredSong } from "./song_record.ts";
import type { RejectedVector } from "./vector_codec.ts";
import type { Timeline } from "../frontend/timeline.ts";

/**
 * The store itself failed (full disk, read-only file, locked too long, a server gone for good, …), naming
 * the database: a run stops, where a bad file would only be recorded.
 */
export class StoreError extends OpenL3Error {}

/** A song as a listing shows it. */
export interface SongSummary {
  /** Stored id. */
  songId: string;
  /** The file's path where it was embedded. */
  path: string;
  /** Seconds. */
  duration: number;
  /** Title, artist, … */
  tags?: Record<string, string>;
  /** The named root it lies under (shared runs: see {@linkcode StoreTraits.namedRoots}). */
  root?: string;
  /** Path under the root, `/`-separated. */
  relPath?: string;
  /** Detected format (`wav`, `mp3`, `flac`, …; absent for bare vectors). */
  format?: string;
  /** File size in bytes. */
  size?: number;
  /** The file's sample rate. */
  sampleRate?: number;
  /** The file's channels. */
  channels?: number;
}

/** Which database a vector cache belongs to, and which state of its vectors. */
export interface StoreIdentity {
  /** A random id the database was given when it was made. */
  databaseId: number;
  /** A counter every change to the vectors bumps. */
  version: number;
  /** Vectors stored. */
  rows: number;
}

/** A failure recorded for a file. */
export interface FailureRow {
  /** The file (a shared run's: `root:relPath`). */
  path: string;
  /** The latest error. */
  error: string;
  /** When (ISO 8601). */
  at: string;
  /** How many runs failed on it. */
  attempts: number;
}

/** A song's frame embeddings (float32), with their timestamps. */
export interface StoredFrames {
  /** Seconds, one per frame. */
  timestamps: number[];
  /** One vector per frame. */
  vectors: Float32Array[];
}

/** Frame embeddings to store with a song. */
export interface FramesToStore {
  /** frames × size, row-major. */
  embedding: Float32Array;
  /** Seconds, one per frame. */
  timestamps: Float64Array;
  /** Embedding length. */
  size: number;
}

/** One consistent view of the vectors: their identity, ids and rows agree. */
export interface VectorSnapshot {
  /** The identity and change counter (null: a database without them, never cached). */
  identity: StoreIdentity | null;
  /** Every stored id (the rejected ones too). */
  songIds(): string[];
  /** Every sound (id, vector), in id order; the others go to `onRejected` with the reason. */
  vectorRows(onRejected: (r: RejectedVector) => void): Iterable<{ id: string; vector: Float64Array }>;
}

/** What a store can do (ask this, not which store it is). */
export interface StoreTraits {
  /**
   * Many workers on many machines share one run through a work queue (`pg_queue.ts`): files are jobs,
   * registered under named roots.
   */
  sharedRun: boolean;
  /**
   * Songs are stored by their path under a named root (`root:relPath`), mounted anywhere: a machine plays
   * them through its own `--root NAME=PATH`. Otherwise a song's path is where this machine reads it.
   */
  namedRoots: boolean;
  /** Files can be added by `similar --store` and the explorer's `--store` (one process writes at a time). */
  localWrites: boolean;
}

/** Options of {@linkcode openStore}. */
export interface OpenStoreOptions {
  /**
   * Only read: the database must exist, and nothing is created or migrated.
   * @default {false}
   */
  readOnly?: boolean;
  /**
   * Seconds to keep retrying while a server cannot be reached.
   * @default {120 (10 when readOnly)}
   */
  retryFor?: number;
  /** Told about each retry. */
  onRetry?: (line: string) => void;
  /**
   * What to do when a read-only SQLite file is missing, for the error line.
   * @default {"embed some songs first: deno task embed <folder>"}
   */
  whenMissing?: string;
}

/** The store of a collection: what every command reads and writes. */
export interface SongStore {
  /** The kind's name, for messages and reports (`sqlite`, `postgres`). */
  readonly kind: string;
  /** What it can do. */
  readonly traits: StoreTraits;
  /** The database for messages (a URL without its password). */
  readonly label: string;
  /** What was opened (a URL with its password: never print it, print {@linkcode label}). */
  readonly location: string;

  /** Every sound vector (ids starting with `prefix`), and the rows left out with the reason. */
  vectors(prefix?: string): Promise<{ vectors: Map<string, Float64Array>; rejected: RejectedVector[] }>;
  /** Run `fn` on one consistent view of the vectors. */
  snapshot<T>(fn: (view: VectorSnapshot) => T): Promise<T>;
  /** The distinct model configurations of the stored songs. */
  storedConfigs(): Promise<StoredConfig[]>;
  /**
   * Claim the database for a configuration, atomically: the first run to claim it (or, in a database from
   * before claims, the stored songs' configurations) holds it, and two runs started together cannot both
   * pass the one-configuration check. Returns the configurations the database holds afterwards: `config` is
   * among them when this run may store its songs (refuse with `refuseOtherConfig` otherwise).
   */
  claimConfig(config: StoredConfig): Promise<StoredConfig[]>;
  /** Each song's configuration key (see `configKey`); songs stored as bare vectors are absent. */
  songConfigKeys(): Promise<Map<string, string>>;
  /** Folders (or files) the collection was embedded from: audio is served only from inside them. */
  roots(): Promise<string[]>;
  /** Identity and change counter (null: not cacheable). */
  identity(): Promise<StoreIdentity | null>;
  /** Every song's listing facts. */
  summaries(): Promise<SongSummary[]>;
  /** A stored song, or undefined. */
  song(songId: string): Promise<StoredSong | undefined>;
  /** A song's stored frame embeddings (none: empty lists). */
  frames(songId: string): Promise<StoredFrames>;
  /** Failures, newest first. */
  failures(): Promise<FailureRow[]>;
  /** The stored timelines (of the given songs, or of every song). */
  timelines(songIds?: string[]): Promise<Map<string, Timeline>>;
  /** The songs that have a timeline of this version. */
  timelineIds(version: number): Promise<Set<string>>;
  /** Where caches of this database's vectors and map go (a path prefix), or null: none. */
  cacheBase(): Promise<string | null>;

  /**
   * Store a song, its vector, configuration and (optionally) frames, in one transaction. Nothing of it is
   * stored when the vector or a frame holds NaN or infinite values.
   */
  putSong(
    song: SongRecord,
    vector: ArrayLike<number>,
    config: ModelConfig,
    frames?: FramesToStore,
    timeline?: Timeline,
  ): Promise<void>;
  /** Store (or replace) a stored song's timeline alone. */
  putTimeline(songId: string, timeline: Timeline): Promise<void>;
  /** Store song `to` (file `path`) as a copy of song `from`, whose file has the same bytes. */
  copySong(from: string, to: string, path: string): Promise<void>;
  /** A stored song with this content, made with this configuration (by key), other than `except`. */
  songByContent(contentHash: string, key: string, except?: string): Promise<string | undefined>;
  /** Record a failure (with `staleSongId`: that song, made from content the file no longer has, goes). */
  putFailure(path: string, error: string, staleSongId?: string): Promise<void>;
  /** Record folders (or files) given to embed, as real absolute paths. */
  addRoots(paths: string[]): Promise<void>;
  /** Songs whose path starts with a prefix. */
  songPaths(prefix?: string): Promise<{ songId: string; path: string }[]>;
  /** Remove songs (vector, frames, record) in one transaction. */
  remove(songIds: string[]): Promise<void>;
  /** Release it. */
  close(): Promise<void>;
}
