/**
 * The SQLite store (`node:sqlite`): song vectors in the original project's
 * table `songs_vectors(song_id TEXT PRIMARY KEY, vector BLOB)` (float64
 * little-endian), plus what a collection needs: the songs and their files,
 * the model configuration of each vector, optional frame embeddings, and
 * failures. WAL mode and a busy timeout let several processes share one file;
 * each song is written in one transaction, so an interrupted run loses at
 * most the song in flight.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { OpenL3Error } from "../util/errors.ts";
import { configKey, type ModelConfig } from "./model_config.ts";

export { configKey, type ModelConfig } from "./model_config.ts";

/** Current schema version (PRAGMA user_version). */
export const SCHEMA_VERSION = 8;

export { StoreError } from "./song_store.ts";

export {
  assertFinite,
  blobToVector,
  describeRejected,
  NonFiniteVectorError,
  type RejectedVector,
  vectorProblem,
  vectorToBlob,
} from "./vector_codec.ts";
export type { SongRecord, StoredConfig, StoredSong } from "./song_record.ts";
import {
  assertFinite,
  blobToVector,
  float32Blob,
  type RejectedVector,
  vectorProblem,
  vectorToBlob,
} from "./vector_codec.ts";
import type { SongRecord, StoredConfig, StoredSong } from "./song_record.ts";
import { type OpenStoreOptions, type SongStore, type SongSummary, StoreError } from "./song_store.ts";
import type { Timeline } from "../frontend/timeline.ts";

/** The schema's migrations: entry v takes a database from version v to v + 1 (older versions' fixtures in the tests are built from them). */
export const MIGRATIONS: readonly string[] = [
  // v1: the original project's table
  `CREATE TABLE IF NOT EXISTS songs_vectors(song_id TEXT PRIMARY KEY, vector BLOB NOT NULL);`,
  // v2: songs, configurations, frames, failures
  `CREATE TABLE IF NOT EXISTS model_configs(
     id INTEGER PRIMARY KEY,
     key TEXT NOT NULL,
     input_repr TEXT NOT NULL, content_type TEXT NOT NULL, embedding_size INTEGER NOT NULL,
     weights_hash TEXT NOT NULL, hop_size REAL NOT NULL, center INTEGER NOT NULL, pooling TEXT NOT NULL,
     frontend TEXT NOT NULL, backend TEXT NOT NULL, tool_version TEXT NOT NULL,
     UNIQUE(key, frontend, backend, tool_version));
   CREATE TABLE IF NOT EXISTS songs(
     song_id TEXT PRIMARY KEY, path TEXT NOT NULL, duration REAL NOT NULL, sample_rate INTEGER NOT NULL,
     channels INTEGER NOT NULL, format TEXT NOT NULL, size INTEGER NOT NULL, content_hash TEXT NOT NULL,
     tags TEXT, windows INTEGER NOT NULL, config_id INTEGER REFERENCES model_configs(id),
     embedded_at TEXT NOT NULL);
   CREATE INDEX IF NOT EXISTS songs_path ON songs(path);
   CREATE TABLE IF NOT EXISTS frames(
     song_id TEXT NOT NULL, idx INTEGER NOT NULL, timestamp REAL NOT NULL, vector BLOB NOT NULL,
     PRIMARY KEY(song_id, idx));
   CREATE TABLE IF NOT EXISTS failures(
     id INTEGER PRIMARY KEY, path TEXT NOT NULL, error TEXT NOT NULL, at TEXT NOT NULL);`,
  // v3: a counter bumped by every change to songs_vectors, so caches of the vectors know when they are stale
  `CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
   INSERT OR IGNORE INTO meta(key, value) VALUES ('vectors_version', 0);
   CREATE TRIGGER IF NOT EXISTS vectors_insert AFTER INSERT ON songs_vectors
     BEGIN UPDATE meta SET value = value + 1 WHERE key = 'vectors_version'; END;
   CREATE TRIGGER IF NOT EXISTS vectors_update AFTER UPDATE ON songs_vectors
     BEGIN UPDATE meta SET value = value + 1 WHERE key = 'vectors_version'; END;
   CREATE TRIGGER IF NOT EXISTS vectors_delete AFTER DELETE ON songs_vectors
     BEGIN UPDATE meta SET value = value + 1 WHERE key = 'vectors_version'; END;`,
  // v4: where the weights come from (labels for reports), an identity for caches of this database, one
  // failure row per file (with the number of attempts)
  `ALTER TABLE model_configs ADD COLUMN weights_provenance TEXT NOT NULL DEFAULT 'custom';
   INSERT OR IGNORE INTO meta(key, value) VALUES ('database_id', abs(random()) % 9007199254740991);
   ALTER TABLE failures ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
   UPDATE failures SET attempts = (SELECT count(*) FROM failures f WHERE f.path = failures.path);
   DELETE FROM failures WHERE id NOT IN (SELECT max(id) FROM failures GROUP BY path);
   CREATE UNIQUE INDEX IF NOT EXISTS failures_path ON failures(path);`,
  // v5: the folders (and single files) given to embed: the explorer serves audio only from inside them
  `CREATE TABLE IF NOT EXISTS roots(path TEXT PRIMARY KEY, added_at TEXT NOT NULL);
   INSERT OR IGNORE INTO roots(path, added_at) SELECT DISTINCT path, datetime('now') FROM songs;`,
  // v6: the network's precision (every configuration before it ran in float32)
  `ALTER TABLE model_configs ADD COLUMN precision TEXT NOT NULL DEFAULT 'fp32';`,
  // v7: each song's timeline (band loudness over time, frontend/timeline.ts), for finding copies of a recording
  `CREATE TABLE IF NOT EXISTS timelines(
     song_id TEXT PRIMARY KEY, version INTEGER NOT NULL, step REAL NOT NULL, bands INTEGER NOT NULL,
     codes BLOB NOT NULL);`,
  // v8: the configuration the database is for, claimed by the first run (two runs started together on a new
  // database cannot both pass the one-configuration check)
  `CREATE TABLE IF NOT EXISTS config_claim(
     one INTEGER PRIMARY KEY CHECK (one = 1), key TEXT NOT NULL, config TEXT NOT NULL, claimed_at TEXT NOT NULL);`,
];

/** Whether the database's schema can be read through this connection. */
function canRead(db: DatabaseSync): boolean {
  try {
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return true;
  } catch {
    return false;
  }
}

/** Run `fn` again (after a short sleep) while SQLite says the database is locked, up to `timeoutMs`. */
function retryWhileLocked(timeoutMs: number, fn: () => void): void {
  const deadline = performance.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 5;; wait = Math.min(200, wait * 2)) {
    try {
      return fn();
    } catch (e) {
      if (!/locked|busy/i.test((e as Error).message ?? "") || performance.now() > deadline) throw e;
      Atomics.wait(sleeper, 0, 0, wait);
    }
  }
}

/** Options of {@linkcode Store.open}. */
export interface StoreOptions {
  /** Milliseconds to wait for another process's lock; default 30 000. */
  busyTimeout?: number;
  /** Open read-only (no migration). */
  readOnly?: boolean;
}

/**
 * The song database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "./sqlite_store.ts";
 * const store = Store.open(":memory:");
 * store.putVector("bell_sound", new Float64Array(512));
 * assert.ok(store.vectors().get("bell_sound")?.length === 512);
 * store.close();
 * ```
 */
export class Store {
  /** The database file. */
  readonly path: string;
  /** The open connection. */
  readonly db: DatabaseSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  /** Open (creating and migrating as needed). */
  static open(path: string, options: StoreOptions = {}): Store {
    if (path !== ":memory:" && !options.readOnly) {
      try {
        Deno.mkdirSync(dirname(path), { recursive: true });
      } catch (e) {
        throw new StoreError(`${path}: cannot create its folder (${(e as Error).message})`, { cause: e });
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
    } catch (e) {
      throw new StoreError(`${path}: cannot open the database (${(e as Error).message})`, { cause: e });
    }
    if (options.readOnly && path !== ":memory:" && !canRead(db)) {
      // a database in WAL mode on a read-only folder (a snapshot, a read-only share): SQLite cannot make the
      // -shm file it reads through; with no -wal content to replay, the file alone is the whole database
      const wal = (() => {
        try {
          return Deno.statSync(`${path}-wal`).size;
        } catch {
          return 0;
        }
      })();
      if (wal === 0) {
        try {
          const immutable = new DatabaseSync(new URL(`${pathToFileURL(resolve(path)).href}?immutable=1`), {
            readOnly: true,
          });
          if (canRead(immutable)) {
            db.close();
            db = immutable;
          } else immutable.close();
        } catch { /* the guard below says what is wrong */ }
      }
    }
    const store = new Store(path, db);
    const timeout = options.busyTimeout ?? 30000;
    store.guard("open", () => {
      db.exec(`PRAGMA busy_timeout = ${timeout}`);
      // read the header now: a damaged file or one that is not a database is one line here, not a trace later
      db.prepare("SELECT count(*) FROM sqlite_master").get();
      if (!options.readOnly) {
        // switching to WAL can be refused at once ("locked", no busy wait) while another process sets up the
        // same new database: try again for as long as the busy timeout allows
        retryWhileLocked(timeout, () => {
          db.exec("PRAGMA journal_mode = WAL");
          db.exec("PRAGMA synchronous = NORMAL");
          store.#migrate();
        });
      }
    });
    return store;
  }

  readonly #statements = new Map<string, StatementSync>();

  /**
   * The statement for `sql`, prepared once per connection: each holds native memory the garbage collector
   * does not count, so preparing one per call let a long write (a million songs) grow by gigabytes.
   */
  statement(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** Run `fn`, turning SQLite's errors into one line naming the database, what failed and what to do. */
  guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof OpenL3Error) throw e;
      const msg = (e as Error).message ?? String(e);
      const hint = /full|SQLITE_FULL/i.test(msg)
        ? " (the disk is full: what was stored before is kept)"
        : /readonly|read-only/i.test(msg)
        ? " (the database is read-only)"
        : /locked|busy/i.test(msg)
        ? " (another process held the database too long)"
        : /not a database|malformed|corrupt/i.test(msg)
        ? " (not a SQLite database, or a damaged one: restore it from a backup, or embed into a new --db)"
        : /unable to open/i.test(msg)
        ? " (its folder may be read-only: SQLite writes a -shm and a -wal file beside it)"
        : "";
      throw new StoreError(`${this.path}: ${what} failed: ${msg}${hint}`, { cause: e });
    }
  }

  /** Schema version of the open file. */
  get version(): number {
    return Number((this.statement("PRAGMA user_version").get() as { user_version: number }).user_version);
  }

  #migrate() {
    const from = this.version;
    if (from > SCHEMA_VERSION) {
      throw new StoreError(
        `${this.path}: schema version ${from} is newer than this tool's (${SCHEMA_VERSION})`,
      );
    }
    if (from === SCHEMA_VERSION) return;
    this.transaction(() => {
      // read again under the write lock: another process may have migrated since the first read
      const now = this.version;
      // A database from the original project has songs_vectors and user_version 0: v1 keeps it as it is.
      for (let v = now; v < SCHEMA_VERSION; v++) this.db.exec(MIGRATIONS[v]);
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }

  /** Run `fn` in one IMMEDIATE transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return this.guard("transaction", () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const r = fn();
        this.db.exec("COMMIT");
        return r;
      } catch (e) {
        try {
          this.db.exec("ROLLBACK");
        } catch { /* the failed statement may have rolled back already */ }
        throw e;
      }
    });
  }

  /** The id of a configuration row, inserted if new. */
  configId(c: ModelConfig): number {
    const key = configKey(c);
    const find = () =>
      this.statement(
        "SELECT id FROM model_configs WHERE key = ? AND frontend = ? AND backend = ? AND tool_version = ?",
      ).get(key, c.frontend, c.backend, c.toolVersion) as { id: number } | undefined;
    const found = find();
    if (found) return Number(found.id);
    this.statement(
      `INSERT OR IGNORE INTO model_configs(key, input_repr, content_type, embedding_size, weights_hash, hop_size,
         center, pooling, frontend, backend, tool_version, weights_provenance, precision)
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    ).run(
      key,
      c.inputRepr,
      c.contentType,
      c.embeddingSize,
      c.weightsHash,
      c.hopSize,
      c.center ? 1 : 0,
      c.pooling,
      c.frontend,
      c.backend,
      c.toolVersion,
      c.weightsProvenance,
      c.precision,
    );
    return Number(find()!.id);
  }

  /** Store only a vector (the original's table). */
  putVector(songId: string, vector: ArrayLike<number>): void {
    assertFinite(`the vector of ${songId}`, vector);
    this.guard(`storing ${songId}`, () => {
      this.statement("INSERT OR REPLACE INTO songs_vectors(song_id, vector) VALUES (?, ?)").run(
        songId,
        vectorToBlob(vector),
      );
    });
  }

  /**
   * Store a song, its vector, configuration and (optionally) frames, in one transaction.
   */
  putSong(
    song: SongRecord,
    vector: ArrayLike<number>,
    config: ModelConfig,
    frames?: { embedding: Float32Array; timestamps: Float64Array; size: number },
    timeline?: Timeline,
  ): void {
    assertFinite(`the vector of ${song.songId}`, vector);
    if (frames) assertFinite(`the frames of ${song.songId}`, frames.embedding);
    this.transaction(() => {
      const cid = this.configId(config);
      this.statement(
        `INSERT OR REPLACE INTO songs(song_id, path, duration, sample_rate, channels, format, size, content_hash, tags,
           windows, config_id, embedded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
      ).run(
        song.songId,
        song.path,
        song.duration,
        song.sampleRate,
        song.channels,
        song.format,
        song.size,
        song.contentHash,
        song.tags ? JSON.stringify(song.tags) : null,
        song.windows,
        cid,
        new Date().toISOString(),
      );
      this.statement("INSERT OR REPLACE INTO songs_vectors(song_id, vector) VALUES (?, ?)").run(
        song.songId,
        vectorToBlob(vector),
      );
      this.statement("DELETE FROM frames WHERE song_id = ?").run(song.songId);
      if (frames) {
        const ins = this.statement("INSERT INTO frames(song_id, idx, timestamp, vector) VALUES (?,?,?,?)");
        for (let i = 0; i < frames.timestamps.length; i++) {
          ins.run(
            song.songId,
            i,
            frames.timestamps[i],
            float32Blob(frames.embedding.subarray(i * frames.size, (i + 1) * frames.size)),
          );
        }
      }
      if (timeline) this.#putTimeline(song.songId, timeline);
      else this.statement("DELETE FROM timelines WHERE song_id = ?").run(song.songId);
      this.statement("DELETE FROM failures WHERE path = ?").run(song.path);
    });
  }

  #putTimeline(songId: string, t: Timeline): void {
    this.statement(
      "INSERT OR REPLACE INTO timelines(song_id, version, step, bands, codes) VALUES (?,?,?,?,?)",
    ).run(songId, t.version, t.step, t.bands, t.codes);
  }

  /** Store (or replace) the timeline of a stored song. */
  putTimeline(songId: string, t: Timeline): void {
    this.transaction(() => this.#putTimeline(songId, t));
  }

  /** The stored timelines (of the given songs, or of every song; none in a database before schema v7). */
  timelines(songIds?: string[]): Map<string, Timeline> {
    const out = new Map<string, Timeline>();
    if (!this.hasTable("timelines")) return out;
    type Row = { song_id: string; version: number; step: number; bands: number; codes: Uint8Array };
    const add = (r: Row) =>
      out.set(String(r.song_id), {
        version: Number(r.version),
        step: Number(r.step),
        bands: Number(r.bands),
        codes: new Uint8Array(r.codes),
      });
    if (songIds) {
      const one = this.statement("SELECT * FROM timelines WHERE song_id = ?");
      for (const id of songIds) {
        const r = one.get(id) as Row | undefined;
        if (r) add(r);
      }
    } else for (const r of this.db.prepare("SELECT * FROM timelines").iterate() as Iterable<Row>) add(r);
    return out;
  }

  /** The songs with a timeline of `version`. */
  timelineIds(version: number): Set<string> {
    if (!this.hasTable("timelines")) return new Set();
    return new Set(
      (this.statement("SELECT song_id FROM timelines WHERE version = ?").all(version) as {
        song_id: string;
      }[])
        .map((r) => String(r.song_id)),
    );
  }

  /** Record folders (or single files) given to embed, as real absolute paths: the collection's roots. */
  addRoots(paths: string[]): void {
    this.transaction(() => {
      const ins = this.statement("INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)");
      for (const p of paths) ins.run(p, new Date().toISOString());
    });
  }

  /** The collection's roots (none in a database written before schema version 5). */
  roots(): string[] {
    if (!this.hasTable("roots")) return [];
    return (this.statement("SELECT path FROM roots ORDER BY path").all() as { path: string }[]).map((r) =>
      String(r.path)
    );
  }

  /** A stored song with this content made with this configuration (by key), other than `except`. */
  songByContent(contentHash: string, key: string, except?: string): string | undefined {
    const row = this.statement(
      `SELECT s.song_id FROM songs s JOIN model_configs c ON c.id = s.config_id
       WHERE s.content_hash = ? AND c.key = ? AND s.song_id != ? ORDER BY s.song_id LIMIT 1`,
    ).get(contentHash, key, except ?? "") as { song_id: string } | undefined;
    return row ? String(row.song_id) : undefined;
  }

  /**
   * Store song `to` (file `path`) as a copy of song `from`, whose file has the same bytes: its record,
   * vector and frames, in one transaction (a byte-identical copy is embedded once).
   */
  copySong(from: string, to: string, path: string): void {
    this.transaction(() => {
      this.#removeSong(to);
      this.statement(
        `INSERT INTO songs(song_id, path, duration, sample_rate, channels, format, size, content_hash, tags,
           windows, config_id, embedded_at)
         SELECT ?, ?, duration, sample_rate, channels, format, size, content_hash, tags, windows, config_id, ?
         FROM songs WHERE song_id = ?`,
      ).run(to, path, new Date().toISOString(), from);
      this.statement(
        "INSERT INTO songs_vectors(song_id, vector) SELECT ?, vector FROM songs_vectors WHERE song_id = ?",
      )
        .run(to, from);
      this.statement(
        "INSERT INTO frames(song_id, idx, timestamp, vector) SELECT ?, idx, timestamp, vector FROM frames WHERE song_id = ?",
      ).run(to, from);
      this.statement(
        "INSERT INTO timelines(song_id, version, step, bands, codes) SELECT ?, version, step, bands, codes FROM timelines WHERE song_id = ?",
      ).run(to, from);
      this.statement("DELETE FROM failures WHERE path = ?").run(path);
    });
  }

  /**
   * Record a failure: one row per file, the latest error, and how many runs failed on it. With
   * `staleSongId`, that song's vector (made from content the file no longer has) is removed in the same
   * transaction.
   */
  putFailure(path: string, error: string, staleSongId?: string): void {
    this.transaction(() => {
      if (staleSongId !== undefined) this.#removeSong(staleSongId);
      this.statement(
        `INSERT INTO failures(path, error, at) VALUES (?,?,?)
         ON CONFLICT(path) DO UPDATE SET error = excluded.error, at = excluded.at, attempts = attempts + 1`,
      ).run(path, error, new Date().toISOString());
    });
  }

  /** True when the open file has this table (a read-only database of the original project has only songs_vectors). */
  hasTable(name: string): boolean {
    return this.statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
      undefined;
  }

  /** A stored song, or undefined. */
  song(songId: string): StoredSong | undefined {
    const row = this.statement(
      `SELECT s.*, c.key AS config_key FROM songs s LEFT JOIN model_configs c ON c.id = s.config_id WHERE song_id = ?`,
    ).get(songId) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    return {
      songId: String(row.song_id),
      path: String(row.path),
      duration: Number(row.duration),
      sampleRate: Number(row.sample_rate),
      channels: Number(row.channels),
      format: String(row.format),
      size: Number(row.size),
      contentHash: String(row.content_hash),
      tags: row.tags ? JSON.parse(String(row.tags)) : undefined,
      windows: Number(row.windows),
      configKey: row.config_key === null ? null : String(row.config_key),
      embeddedAt: String(row.embedded_at),
    };
  }

  /**
   * Every sound song vector, by id (optionally those whose id starts with a prefix). Vectors that are
   * not sound (see {@linkcode vectorRows}) are left out; {@linkcode readVectors} says which.
   */
  vectors(prefix = ""): Map<string, Float64Array> {
    return this.readVectors(prefix).vectors;
  }

  /** The sound vectors by id, and the rows left out with the reason (for a warning). */
  readVectors(prefix = ""): { vectors: Map<string, Float64Array>; rejected: RejectedVector[] } {
    const rejected: RejectedVector[] = [];
    const vectors = new Map<string, Float64Array>();
    for (const r of this.vectorRows((x) => rejected.push(x), prefix)) vectors.set(r.id, r.vector);
    return { vectors, rejected };
  }

  /** The distinct configurations (the parts that decide the numbers) the stored songs were made with. */
  storedConfigs(): StoredConfig[] {
    if (!this.hasTable("songs") || !this.hasTable("model_configs")) return [];
    const column = (name: string, otherwise: string) =>
      this.statement("SELECT 1 FROM pragma_table_info('model_configs') WHERE name = ?").get(name)
        ? `c.${name}`
        : otherwise;
    const provenance = column("weights_provenance", "'custom'");
    const precision = column("precision", "'fp32'");
    const rows = this.statement(
      `SELECT DISTINCT c.input_repr, c.content_type, c.embedding_size, c.weights_hash, c.hop_size, c.center, c.pooling,
         ${provenance} AS weights_provenance, ${precision} AS precision
       FROM songs s JOIN model_configs c ON c.id = s.config_id`,
    ).all() as Record<string, unknown>[];
    return rows.map((r) => ({
      inputRepr: String(r.input_repr) as StoredConfig["inputRepr"],
      contentType: String(r.content_type) as StoredConfig["contentType"],
      embeddingSize: Number(r.embedding_size) as StoredConfig["embeddingSize"],
      weightsHash: String(r.weights_hash),
      hopSize: Number(r.hop_size),
      center: Number(r.center) === 1,
      pooling: String(r.pooling) as StoredConfig["pooling"],
      weightsProvenance: String(r.weights_provenance) as StoredConfig["weightsProvenance"],
      precision: String(r.precision) as StoredConfig["precision"],
    }));
  }

  /**
   * Claim the database for `config`, atomically (under the write lock): the claim made first, or else the
   * stored songs' configurations, hold it. Returns the configurations it holds afterwards: `config` is among
   * them when the claim succeeded or was already this run's.
   */
  claimConfig(config: StoredConfig): StoredConfig[] {
    return this.transaction(() => {
      const stored = this.storedConfigs();
      const row = this.statement("SELECT config FROM config_claim WHERE one = 1").get() as
        | { config: string }
        | undefined;
      if (row) {
        const claimed = JSON.parse(row.config) as StoredConfig;
        return [claimed, ...stored.filter((c) => configKey(c) !== configKey(claimed))];
      }
      const key = configKey(config);
      if (stored.length > 0 && !stored.some((c) => configKey(c) === key)) return stored;
      this.statement("INSERT INTO config_claim(one, key, config, claimed_at) VALUES (1, ?, ?, ?)")
        .run(key, JSON.stringify(config), new Date().toISOString());
      return stored.length ? stored : [config];
    });
  }

  /** The configuration key of every song stored with one (the original's bare vectors have none). */
  songConfigKeys(): Map<string, string> {
    if (!this.hasTable("songs") || !this.hasTable("model_configs")) return new Map();
    const rows = this.statement(
      "SELECT s.song_id, c.key FROM songs s JOIN model_configs c ON c.id = s.config_id",
    ).all() as { song_id: string; key: string }[];
    return new Map(rows.map((r) => [String(r.song_id), String(r.key)]));
  }

  /**
   * What a cache of this database's vectors must match: a random id the database was given (schema ≥ 4),
   * the counter every change to the vectors bumps, and the row count. Null for a database without them
   * (the original project's): such a database is not cached.
   */
  vectorsIdentity(): { databaseId: number; version: number; rows: number } | null {
    try {
      const id = this.statement("SELECT value FROM meta WHERE key = 'database_id'").get() as
        | { value: number }
        | undefined;
      const version = this.vectorsVersion();
      if (!id || version < 0) return null;
      const rows = this.statement("SELECT count(*) AS n FROM songs_vectors").get() as { n: number };
      return { databaseId: Number(id.value), version, rows: Number(rows.n) };
    } catch {
      return null;
    }
  }

  /** Every stored song id, in id order (to check a cache against). */
  songIds(): string[] {
    return (this.statement("SELECT song_id FROM songs_vectors ORDER BY song_id").all() as {
      song_id: string;
    }[])
      .map((r) => String(r.song_id));
  }

  /** The counter every change to `songs_vectors` bumps (schema ≥ 3); -1 when the file has none. */
  vectorsVersion(): number {
    try {
      const row = this.statement("SELECT value FROM meta WHERE key = 'vectors_version'").get() as
        | { value: number }
        | undefined;
      return row ? Number(row.value) : -1;
    } catch {
      return -1; // an older schema opened read-only: no counter
    }
  }

  /**
   * Every sound (id, vector) row, streamed (no map of all vectors is built), in id order. A row is left
   * out, and passed to `onRejected` with the reason, when its BLOB is not float64 values, when its length
   * is not its configuration's embedding size, or when it holds NaN or infinite values: such a vector is
   * never ranked or analysed.
   */
  *vectorRows(
    onRejected: (r: RejectedVector) => void = () => {},
    prefix = "",
  ): Generator<{ id: string; vector: Float64Array }> {
    const withConfig = this.hasTable("songs") && this.hasTable("model_configs");
    const sql = withConfig
      ? `SELECT v.song_id, v.vector, c.embedding_size FROM songs_vectors v
           LEFT JOIN songs s ON s.song_id = v.song_id LEFT JOIN model_configs c ON c.id = s.config_id
         WHERE substr(v.song_id, 1, ?) = ? ORDER BY v.song_id`
      : "SELECT song_id, vector, NULL AS embedding_size FROM songs_vectors WHERE substr(song_id, 1, ?) = ? ORDER BY song_id";
    const it = this.guard(
      "reading vectors",
      () => this.db.prepare(sql).iterate(prefix.length, prefix),
    ) as Iterable<{
      song_id: string;
      vector: Uint8Array | null;
      embedding_size: number | null;
    }>;
    for (const r of it) {
      const id = String(r.song_id);
      const problem = vectorProblem(
        r.vector,
        r.embedding_size === null ? undefined : Number(r.embedding_size),
      );
      if (problem) onRejected({ db: this.path, songId: id, problem });
      else yield { id, vector: blobToVector(r.vector!) };
    }
  }

  /** Frame embeddings of a song (float32), with timestamps. */
  frames(songId: string): { timestamps: number[]; vectors: Float32Array[] } {
    const rows = this.statement("SELECT timestamp, vector FROM frames WHERE song_id = ? ORDER BY idx").all(
      songId,
    ) as {
      timestamp: number;
      vector: Uint8Array;
    }[];
    return {
      timestamps: rows.map((r) => r.timestamp),
      vectors: rows.map((r) =>
        new Float32Array(
          r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength),
        )
      ),
    };
  }

  /** Failures, newest first. */
  failures(): { path: string; error: string; at: string; attempts: number }[] {
    return (this.statement("SELECT path, error, at, attempts FROM failures ORDER BY at DESC, id DESC")
      .all() as {
        path: string;
        error: string;
        at: string;
        attempts: number;
      }[]).map((r) => ({ ...r, attempts: Number(r.attempts) }));
  }

  /**
   * What a listing shows of every song: id, path, duration and tags (one query; songs stored as bare
   * vectors by the original's scripts have no row here).
   */
  songSummaries(): SongSummary[] {
    if (!this.hasTable("songs")) return []; // the original project's database: vectors only
    return (this.statement(
      "SELECT song_id, path, duration, tags, format, size, sample_rate, channels FROM songs",
    ).all() as {
      song_id: string;
      path: string;
      duration: number;
      tags: string | null;
      format: string;
      size: number;
      sample_rate: number;
      channels: number;
    }[]).map((r) => ({
      songId: r.song_id,
      path: r.path,
      duration: Number(r.duration),
      ...(r.tags ? { tags: JSON.parse(r.tags) as Record<string, string> } : {}),
      format: String(r.format),
      size: Number(r.size),
      sampleRate: Number(r.sample_rate),
      channels: Number(r.channels),
    }));
  }

  /** Songs whose path starts with a prefix. */
  songPaths(prefix = ""): { songId: string; path: string }[] {
    return (this.statement("SELECT song_id, path FROM songs WHERE substr(path, 1, ?) = ?").all(
      prefix.length,
      prefix,
    ) as {
      song_id: string;
      path: string;
    }[]).map((r) => ({ songId: r.song_id, path: r.path }));
  }

  /** Remove songs (vector, frames, record) in one transaction. */
  remove(songIds: string[]): void {
    this.transaction(() => {
      for (const id of songIds) this.#removeSong(id);
    });
  }

  #removeSong(id: string): void {
    for (const table of ["songs", "songs_vectors", "frames", "timelines"]) {
      this.statement(`DELETE FROM ${table} WHERE song_id = ?`).run(id);
    }
  }

  /** `PRAGMA integrity_check` result ("ok" when sound). */
  integrityCheck(): string {
    return String(
      (this.statement("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check,
    );
  }

  /** Close the connection. */
  close(): void {
    this.db.close();
  }
}

/**
 * A SQLite file as a {@linkcode SongStore} (`:memory:` for a database that lives as long as the store).
 * Read-only, the file must exist and is neither created nor migrated.
 *
 * @throws {OpenL3Error} when a read-only file does not exist.
 * @throws {StoreError} when it cannot be opened.
 */
export function openSqliteStore(path: string, options: OpenStoreOptions = {}): SongStore {
  if (options.readOnly && path !== ":memory:") {
    let isFile = false;
    try {
      isFile = Deno.statSync(path).isFile;
    } catch { /* missing */ }
    if (!isFile) {
      throw new OpenL3Error(
        `${path}: no such database (${
          options.whenMissing ?? "embed some songs first: deno task embed <folder>"
        })`,
      );
    }
  }
  const store = Store.open(path, { readOnly: options.readOnly });
  const now = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(store.guard("a query", fn));
    } catch (e) {
      return Promise.reject(e);
    }
  };
  return {
    kind: "sqlite",
    traits: { sharedRun: false, namedRoots: false, localWrites: true },
    label: path,
    location: path,
    vectors: (prefix = "") => now(() => store.readVectors(prefix)),
    snapshot: (fn) =>
      now(() => {
        store.db.exec("BEGIN"); // one consistent snapshot: the identity and the rows agree
        try {
          return fn({
            identity: store.vectorsIdentity(),
            songIds: () => store.songIds(),
            vectorRows: (onRejected) => store.vectorRows(onRejected),
          });
        } finally {
          store.db.exec("COMMIT");
        }
      }),
    storedConfigs: () => now(() => store.storedConfigs()),
    claimConfig: (config) => now(() => store.claimConfig(config)),
    songConfigKeys: () => now(() => store.songConfigKeys()),
    roots: () => now(() => store.roots()),
    identity: () => now(() => store.vectorsIdentity()),
    summaries: () => now(() => store.songSummaries()),
    song: (id) => now(() => store.hasTable("songs") ? store.song(id) : undefined),
    frames: (id) => now(() => store.hasTable("frames") ? store.frames(id) : { timestamps: [], vectors: [] }),
    failures: () => now(() => store.hasTable("failures") ? store.failures() : []),
    cacheBase: () => now(() => path === ":memory:" ? null : path),
    timelines: (ids) => now(() => store.timelines(ids)),
    timelineIds: (version) => now(() => store.timelineIds(version)),
    putSong: (song, vector, config, frames, timeline) =>
      now(() => store.putSong(song, vector, config, frames, timeline)),
    putTimeline: (id, t) => now(() => store.putTimeline(id, t)),
    copySong: (from, to, p) => now(() => store.copySong(from, to, p)),
    songByContent: (hash, key, except) => now(() => store.songByContent(hash, key, except)),
    putFailure: (p, error, stale) => now(() => store.putFailure(p, error, stale)),
    addRoots: (paths) => now(() => store.addRoots(paths)),
    songPaths: (prefix) => now(() => store.hasTable("songs") ? store.songPaths(prefix) : []),
    remove: (ids) => now(() => store.remove(ids)),
    close: () => now(() => store.close()),
  };
}
