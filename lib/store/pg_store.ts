/**
 * PostgreSQL as the shared store of many embedding workers: the SQLite
 * schema's concepts (songs, vectors as float64 BLOBs, model configurations,
 * frames, failures, a change counter), each song by its path under a named
 * root so that machines mounting the collection in different places agree.
 * The schema holds the work queue's tables too (jobs, their paths, workers);
 * `pg_queue.ts` works them. {@linkcode openPgStore} gives it as a
 * {@linkcode SongStore}.
 *
 * @module
 */

import { join } from "node:path";
import { OpenL3Error } from "../util/errors.ts";
import { runtimeCacheDir } from "../util/standalone.ts";
import { configFromKey, configKey, type ModelConfig } from "./model_config.ts";
import {
  assertFinite,
  blobToVector,
  type RejectedVector,
  vectorProblem,
  vectorToBlob,
} from "./vector_codec.ts";
import type { SongRecord, StoredConfig, StoredSong } from "./song_record.ts";
import type { Timeline } from "../frontend/timeline.ts";
import {
  type FailureRow,
  type OpenStoreOptions,
  type SongStore,
  type SongSummary,
  type StoredFrames,
  StoreError,
} from "./song_store.ts";

/** The postgres.js client (typed loosely: its tagged-template results are rows of any shape). */
// deno-lint-ignore no-explicit-any
export type Sql = any;

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/i, "$1:***@");
}

/** A database problem (connection, authentication, schema). */
export class PgStoreError extends StoreError {}

/** Connection-level errors worth retrying (the server restarting, a dropped connection). */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: string })?.code ?? "";
  return [
    "ECONNREFUSED",
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "CONNECTION_CLOSED",
    "CONNECTION_ENDED",
    "CONNECTION_DESTROYED",
    "CONNECT_TIMEOUT",
    "57P01", // admin shutdown
    "57P02", // crash shutdown
    "57P03", // cannot connect now (starting up)
    "08006",
    "08001",
    "08003",
  ].includes(code) || e instanceof Deno.errors.ConnectionRefused ||
    e instanceof Deno.errors.ConnectionReset ||
    /connection (refused|reset|closed|terminated)|ECONNREFUSED|the database system is (starting up|shutting down)/i
      .test(String((e as Error)?.message ?? ""));
}

/** One line for a connection failure. */
function describeConnectError(url: string, e: unknown): string {
  const code = (e as { code?: string })?.code;
  const msg = String((e as Error)?.message ?? e).split("\n")[0];
  if (code === "28P01" || code === "28000") return `${redactUrl(url)}: ${msg}`;
  if (code === "3D000") return `${redactUrl(url)}: ${msg} (create it first: createdb)`;
  if (isTransient(e)) return `${redactUrl(url)}: cannot connect (${msg})`;
  return `${redactUrl(url)}: ${msg}`;
}

/** The schema's migrations: entry v takes a database from version v to v + 1 (the tests build older versions from them). */
export const PG_MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE model_configs(
     id serial PRIMARY KEY, key text NOT NULL, input_repr text NOT NULL, content_type text NOT NULL,
     embedding_size integer NOT NULL, weights_hash text NOT NULL, hop_size double precision NOT NULL,
     center boolean NOT NULL, pooling text NOT NULL, frontend text NOT NULL, backend text NOT NULL,
     tool_version text NOT NULL, weights_provenance text NOT NULL,
     UNIQUE(key, frontend, backend, tool_version));
   CREATE TABLE songs(
     song_id text PRIMARY KEY, root text NOT NULL, rel_path text NOT NULL, path text NOT NULL,
     duration double precision NOT NULL, sample_rate integer NOT NULL, channels integer NOT NULL,
     format text NOT NULL, size bigint NOT NULL, content_hash text NOT NULL UNIQUE, tags jsonb,
     windows integer NOT NULL, config_id integer REFERENCES model_configs(id), worker text,
     embedded_at timestamptz NOT NULL DEFAULT now());
   CREATE TABLE songs_vectors(song_id text PRIMARY KEY REFERENCES songs ON DELETE CASCADE, vector bytea NOT NULL);
   CREATE TABLE frames(
     song_id text NOT NULL REFERENCES songs ON DELETE CASCADE, idx integer NOT NULL,
     timestamp double precision NOT NULL, vector bytea NOT NULL, PRIMARY KEY(song_id, idx));
   CREATE TABLE failures(path text PRIMARY KEY, error text NOT NULL, at timestamptz NOT NULL, attempts integer NOT NULL);
   CREATE TABLE jobs(
     id bigserial PRIMARY KEY, content_hash text NOT NULL UNIQUE, size bigint NOT NULL, root text NOT NULL,
     rel_path text NOT NULL, status text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,
     lease_owner text, lease_until timestamptz, error text, created_at timestamptz NOT NULL DEFAULT now(),
     finished_at timestamptz);
   CREATE INDEX jobs_status ON jobs(status, id);
   CREATE TABLE workers(
     id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, config_key text NOT NULL,
     started_at timestamptz NOT NULL DEFAULT now(), heartbeat_at timestamptz NOT NULL DEFAULT now(),
     done integer NOT NULL DEFAULT 0, failed integer NOT NULL DEFAULT 0);
   INSERT INTO openl3_meta(key, value) VALUES ('vectors_version', '0'),
     ('database_id', (floor(random() * 9007199254740991))::bigint::text) ON CONFLICT DO NOTHING;
   CREATE FUNCTION openl3_bump_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN UPDATE openl3_meta SET value = (value::bigint + 1)::text WHERE key = 'vectors_version'; RETURN NULL; END $$;
   CREATE TRIGGER vectors_changed AFTER INSERT OR UPDATE OR DELETE ON songs_vectors
     FOR EACH STATEMENT EXECUTE FUNCTION openl3_bump_vectors();`,
  // v2: every path is a song (songs.content_hash no longer unique; job_paths lists each registered path of a
  // job's content, and copies are stored from the one embedding). A lapsed lease is not a failure of the file. `attempts` counts only errors raised by the file;
  // `lapses` counts leases that ran out and were taken over (retried without limit); `leased_at` is when
  // the lease was last granted or renewed; `windows` of a done job give the run's windows per second.
  // Each worker records the worst gap between two renewals of its leases and the results it dropped.
  `ALTER TABLE jobs ADD COLUMN lapses integer NOT NULL DEFAULT 0;
   ALTER TABLE jobs ADD COLUMN leased_at timestamptz;
   ALTER TABLE jobs ADD COLUMN windows integer;
   ALTER TABLE workers ADD COLUMN worst_renewal_gap double precision NOT NULL DEFAULT 0;
   ALTER TABLE workers ADD COLUMN lost integer NOT NULL DEFAULT 0;
   ALTER TABLE songs DROP CONSTRAINT IF EXISTS songs_content_hash_key;
   CREATE INDEX songs_content ON songs(content_hash);
   CREATE TABLE job_paths(root text NOT NULL, rel_path text NOT NULL, content_hash text NOT NULL,
     path text NOT NULL, PRIMARY KEY(root, rel_path));
   CREATE INDEX job_paths_content ON job_paths(content_hash);
   INSERT INTO job_paths(root, rel_path, content_hash, path)
     SELECT j.root, j.rel_path, j.content_hash,
       coalesce((SELECT s.path FROM songs s WHERE s.song_id = j.root || ':' || j.rel_path), j.root || ':' || j.rel_path)
     FROM jobs j ON CONFLICT DO NOTHING;`,
  // v3: the network's precision (every configuration before it ran in float32)
  `ALTER TABLE model_configs ADD COLUMN precision text NOT NULL DEFAULT 'fp32';`,
  // v4: each song's timeline (band loudness over time, frontend/timeline.ts), for finding copies of a recording
  `CREATE TABLE timelines(song_id text PRIMARY KEY REFERENCES songs ON DELETE CASCADE, version integer NOT NULL,
     step double precision NOT NULL, bands integer NOT NULL, codes bytea NOT NULL);`,
  // v5: the configuration the database is for, claimed by the first run (runs started together on a new
  // database cannot both pass the one-configuration check)
  `CREATE TABLE config_claim(one integer PRIMARY KEY CHECK (one = 1), key text NOT NULL, config text NOT NULL,
     claimed_at timestamptz NOT NULL DEFAULT now());`,
];

/** The schema version this code writes. */
export const PG_SCHEMA_VERSION: number = PG_MIGRATIONS.length;

/** Options of {@linkcode PgStore.connect}. */
export interface PgConnectOptions {
  /**
   * Connections in the pool.
   * @default {4}
   */
  max?: number;
  /**
   * Seconds to keep retrying an operation while the server cannot be reached (back-off 0.5 s doubling to 8 s).
   * @default {120}
   */
  retryFor?: number;
  /** Told about each retry. */
  onRetry?: (message: string) => void;
  /**
   * Seconds the first query may take: a peer that does not speak PostgreSQL is an error then.
   * @default {15}
   */
  answerWithin?: number;
}

class NoAnswerError extends Error {}

/**
 * Ask the peer of a URL whether it speaks PostgreSQL, on one connection: a PostgreSQL server answers an
 * SSLRequest with one byte, `S` or `N` (or `E`, an error message). Returns what is wrong, or null when it
 * answered so — or when it could not be asked (refused, unresolved: the client's own error says that better).
 */
async function probePeer(url: string): Promise<string | null> {
  let hostname: string, port: number;
  try {
    const u = new URL(url);
    hostname = decodeURIComponent(u.hostname).replace(/^\[|\]$/g, "") || "localhost";
    port = u.port ? Number(u.port) : 5432;
    if (hostname.startsWith("/") || hostname.includes(",")) return null; // a socket folder, several hosts
  } catch {
    return null;
  }
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port });
  } catch {
    return null;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await conn.write(new Uint8Array([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])); // SSLRequest: 80877103
    const buf = new Uint8Array(64);
    const n = await Promise.race([
      conn.read(buf),
      new Promise<"late">((r) => timer = setTimeout(() => r("late"), 10_000)),
    ]);
    if (n === "late") return "no PostgreSQL answer within 10 s (is a PostgreSQL server listening there?)";
    if (n === null || n < 1) return "the peer closed the connection without a PostgreSQL answer";
    if ([0x53, 0x4e, 0x45].includes(buf[0])) return null; // S, N, E
    const text = new TextDecoder().decode(buf.subarray(0, n)).split(/\r?\n/)[0].replace(/[^\x20-\x7e]/g, "?");
    return `this peer does not speak PostgreSQL (it answered "${text.slice(0, 40)}")`;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** A song's facts as a worker stores them: a SQLite song's, and where it lies under its root. */
export interface PgSong extends SongRecord {
  /** `<root>:<relPath>`. */
  songId: string;
  /** Root name. */
  root: string;
  /** Path under the root. */
  relPath: string;
  /** The absolute path where the worker read it. */
  path: string;
}

/** Refuse a song whose vector or frames hold NaN or infinite values (nothing of it is written). */
export function checkSong(
  song: { songId: string },
  vector: ArrayLike<number>,
  frames?: { embedding: Float32Array },
): void {
  assertFinite(`the vector of ${song.songId}`, vector);
  if (frames) assertFinite(`the frames of ${song.songId}`, frames.embedding);
}

/** A PostgreSQL store. */
export class PgStore {
  /** The URL (with its password; {@linkcode redactUrl} for messages). */
  readonly url: string;
  /** The postgres.js client. */
  readonly sql: Sql;
  readonly #options: PgConnectOptions;

  private constructor(url: string, sql: Sql, options: PgConnectOptions) {
    this.url = url;
    this.sql = sql;
    this.#options = options;
  }

  /** Connect (one try: a wrong password or an unreachable server is an error at once) and migrate. */
  static async connect(url: string, options: PgConnectOptions = {}): Promise<PgStore> {
    const { default: postgres } = await import("postgres");
    const sql = postgres(url, {
      max: options.max ?? 4,
      onnotice: () => {},
      connect_timeout: 10,
      connection: { application_name: "openl3" },
    });
    const peer = await probePeer(url);
    if (peer) {
      await sql.end({ timeout: 0 }).catch(() => {});
      throw new PgStoreError(`${redactUrl(url)}: ${peer}`);
    }
    // a peer that accepts the connection but does not speak PostgreSQL never answers: give up in time
    const seconds = options.answerWithin ?? 15;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        sql`SELECT 1`,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new NoAnswerError()), seconds * 1000);
        }),
      ]);
    } catch (e) {
      await sql.end({ timeout: 0 }).catch(() => {});
      if (e instanceof NoAnswerError) {
        throw new PgStoreError(
          `${
            redactUrl(url)
          }: no PostgreSQL answer within ${seconds} s (is a PostgreSQL server listening there?)`,
        );
      }
      throw new PgStoreError(describeConnectError(url, e));
    } finally {
      clearTimeout(timer);
    }
    const store = new PgStore(url, sql, options);
    await store.#migrate();
    return store;
  }

  /** Run `fn`, retrying with back-off while the server cannot be reached. */
  async retry<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
    const deadline = performance.now() + (this.#options.retryFor ?? 120) * 1000;
    for (let wait = 500;; wait = Math.min(8000, wait * 2)) {
      try {
        return await fn();
      } catch (e) {
        if (!isTransient(e) || performance.now() + wait > deadline) {
          if (isTransient(e)) throw new PgStoreError(`${what}: ${describeConnectError(this.url, e)}`);
          throw e;
        }
        this.#options.onRetry?.(
          `${what}: database unreachable (${(e as Error).message.split("\n")[0]}), retrying in ${
            wait / 1000
          } s`,
        );
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async #migrate(): Promise<void> {
    await this.retry("migrate", () =>
      this.sql.begin(async (tx: Sql) => {
        await tx`SELECT pg_advisory_xact_lock(hashtext('openl3 schema'))`;
        await tx`CREATE TABLE IF NOT EXISTS openl3_meta(key text PRIMARY KEY, value text NOT NULL)`;
        const row = await tx`SELECT value FROM openl3_meta WHERE key = 'schema_version'`;
        const version = row.length ? Number(row[0].value) : 0;
        if (version > PG_SCHEMA_VERSION) {
          throw new PgStoreError(
            `${
              redactUrl(this.url)
            } has schema version ${version}; this tool knows up to ${PG_SCHEMA_VERSION}: upgrade it`,
          );
        }
        for (let v = version; v < PG_SCHEMA_VERSION; v++) await tx.unsafe(PG_MIGRATIONS[v]);
        await tx`INSERT INTO openl3_meta(key, value) VALUES ('schema_version', ${String(PG_SCHEMA_VERSION)})
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
      }));
  }

  /** The id of a configuration, inserted when new. */
  async configId(tx: Sql, c: ModelConfig): Promise<number> {
    const key = configKey(c);
    const rows =
      await tx`INSERT INTO model_configs(key, input_repr, content_type, embedding_size, weights_hash,
        hop_size, center, pooling, frontend, backend, tool_version, weights_provenance, precision)
      VALUES (${key}, ${c.inputRepr}, ${c.contentType}, ${c.embeddingSize}, ${c.weightsHash}, ${c.hopSize},
        ${c.center}, ${c.pooling}, ${c.frontend}, ${c.backend}, ${c.toolVersion}, ${c.weightsProvenance},
        ${c.precision})
      ON CONFLICT (key, frontend, backend, tool_version) DO UPDATE SET key = EXCLUDED.key RETURNING id`;
    return rows[0].id;
  }

  /** Every registered path (`job_paths`) of a stored content without its song gets a copy of the stored one. */
  async copyToPaths(tx: Sql, contentHash: string): Promise<void> {
    const [source] =
      await tx`SELECT song_id FROM songs WHERE content_hash = ${contentHash} ORDER BY song_id LIMIT 1`;
    if (!source) return;
    const missing = await tx`SELECT p.root, p.rel_path, p.path FROM job_paths p
        WHERE p.content_hash = ${contentHash} AND NOT EXISTS (SELECT 1 FROM songs s
          WHERE s.song_id = p.root || ':' || p.rel_path AND s.content_hash = ${contentHash})`;
    for (const m of missing) {
      const id = `${m.root}:${m.rel_path}`;
      await tx`DELETE FROM songs WHERE song_id = ${id}`; // a path whose content changed: its old song goes
      await tx`INSERT INTO songs(song_id, root, rel_path, path, duration, sample_rate, channels, format, size,
                 content_hash, tags, windows, config_id, worker, embedded_at)
               SELECT ${id}, ${m.root}, ${m.rel_path}, ${m.path}, duration, sample_rate, channels, format, size,
                 content_hash, tags, windows, config_id, worker, embedded_at FROM songs WHERE song_id = ${source.song_id}`;
      await tx`INSERT INTO songs_vectors(song_id, vector)
               SELECT ${id}, vector FROM songs_vectors WHERE song_id = ${source.song_id}`;
      await tx`INSERT INTO frames(song_id, idx, timestamp, vector)
               SELECT ${id}, idx, timestamp, vector FROM frames WHERE song_id = ${source.song_id}`;
      await tx`INSERT INTO timelines(song_id, version, step, bands, codes)
               SELECT ${id}, version, step, bands, codes FROM timelines WHERE song_id = ${source.song_id}`;
    }
  }

  /**
   * Write a song, its vector, configuration and (when given) frames inside transaction `tx` (the queue's
   * completion, or {@linkcode putSong}); `worker` is recorded as the song's author.
   */
  async writeSong(
    tx: Sql,
    song: PgSong,
    vector: ArrayLike<number>,
    config: ModelConfig,
    frames?: { embedding: Float32Array; timestamps: Float64Array; size: number },
    worker: string | null = null,
    timeline?: Timeline,
  ): Promise<void> {
    const cid = await this.configId(tx, config);
    await tx`INSERT INTO songs(song_id, root, rel_path, path, duration, sample_rate, channels, format, size,
               content_hash, tags, windows, config_id, worker)
             VALUES (${song.songId}, ${song.root}, ${song.relPath}, ${song.path}, ${song.duration},
               ${song.sampleRate}, ${song.channels}, ${song.format}, ${song.size}, ${song.contentHash},
               ${song.tags ? tx.json(song.tags) : null}, ${song.windows}, ${cid}, ${worker})
             ON CONFLICT (song_id) DO UPDATE SET content_hash = EXCLUDED.content_hash, duration = EXCLUDED.duration,
               windows = EXCLUDED.windows, config_id = EXCLUDED.config_id, worker = EXCLUDED.worker,
               path = EXCLUDED.path, sample_rate = EXCLUDED.sample_rate, channels = EXCLUDED.channels,
               format = EXCLUDED.format, size = EXCLUDED.size, tags = EXCLUDED.tags, embedded_at = now()`;
    await tx`INSERT INTO songs_vectors(song_id, vector) VALUES (${song.songId}, ${vectorToBlob(vector)})
             ON CONFLICT (song_id) DO UPDATE SET vector = EXCLUDED.vector`;
    await tx`DELETE FROM frames WHERE song_id = ${song.songId}`;
    if (frames) {
      const n = frames.timestamps.length;
      for (let i = 0; i < n; i++) {
        const v = frames.embedding.subarray(i * frames.size, (i + 1) * frames.size);
        await tx`INSERT INTO frames(song_id, idx, timestamp, vector)
                 VALUES (${song.songId}, ${i}, ${frames.timestamps[i]}, ${vectorToBlob(v)})`;
      }
    }
    if (timeline) await this.writeTimeline(tx, song.songId, timeline);
    else await tx`DELETE FROM timelines WHERE song_id = ${song.songId}`;
  }

  /** Write a song's timeline inside transaction `tx`. */
  async writeTimeline(tx: Sql, songId: string, t: Timeline): Promise<void> {
    await tx`INSERT INTO timelines(song_id, version, step, bands, codes)
             VALUES (${songId}, ${t.version}, ${t.step}, ${t.bands}, ${t.codes})
             ON CONFLICT (song_id) DO UPDATE SET version = EXCLUDED.version, step = EXCLUDED.step,
               bands = EXCLUDED.bands, codes = EXCLUDED.codes`;
  }

  /** Store (or replace) a stored song's timeline. */
  async putTimeline(songId: string, t: Timeline): Promise<void> {
    await this.retry("store timeline", () => this.sql.begin((tx: Sql) => this.writeTimeline(tx, songId, t)));
  }

  /** The stored timelines (of the given songs, or of every song). */
  async timelines(songIds?: string[]): Promise<Map<string, Timeline>> {
    const rows = await this.retry(
      "read timelines",
      () =>
        songIds
          ? this.sql`SELECT * FROM timelines WHERE song_id = ANY(${songIds})`
          : this.sql`SELECT * FROM timelines`,
    );
    return new Map(
      rows.map((r: Record<string, unknown>) => [String(r.song_id), {
        version: Number(r.version),
        step: Number(r.step),
        bands: Number(r.bands),
        codes: new Uint8Array(r.codes as Uint8Array),
      }]),
    );
  }

  /** The songs with a timeline of `version`. */
  async timelineIds(version: number): Promise<Set<string>> {
    const rows = await this.retry(
      "read timelines",
      () => this.sql`SELECT song_id FROM timelines WHERE version = ${version}`,
    );
    return new Set(rows.map((r: Record<string, unknown>) => String(r.song_id)));
  }

  /** Every sound stored vector (and the rows left out, with the reason). */
  async vectorRows(
    prefix = "",
  ): Promise<{ rows: { id: string; vector: Float64Array }[]; rejected: RejectedVector[] }> {
    const result = await this.retry(
      "read vectors",
      () =>
        this.sql`SELECT song_id, vector FROM songs_vectors WHERE left(song_id, ${prefix.length}) = ${prefix}
                 ORDER BY song_id`,
    );
    const rows: { id: string; vector: Float64Array }[] = [];
    const rejected: RejectedVector[] = [];
    let size: number | undefined;
    for (const r of result) {
      const blob = new Uint8Array(r.vector);
      const problem = vectorProblem(blob, size);
      if (problem) {
        rejected.push({ db: redactUrl(this.url), songId: r.song_id, problem });
        continue;
      }
      const v = blobToVector(blob);
      size ??= v.length;
      rows.push({ id: r.song_id, vector: v });
    }
    return { rows, rejected };
  }

  /** Id, path, duration and tags of every song. */
  async songSummaries(): Promise<
    {
      songId: string;
      path: string;
      root: string;
      relPath: string;
      duration: number;
      tags?: Record<string, string>;
    }[]
  > {
    const rows = await this.retry(
      "read songs",
      () =>
        this.sql`SELECT song_id, path, root, rel_path, duration, tags, format, size, sample_rate, channels
                 FROM songs`,
    );
    return rows.map((r: Record<string, unknown>) => ({
      songId: String(r.song_id),
      path: String(r.path),
      root: String(r.root),
      relPath: String(r.rel_path),
      duration: Number(r.duration),
      ...(r.tags ? { tags: r.tags as Record<string, string> } : {}),
      format: String(r.format),
      size: Number(r.size),
      sampleRate: Number(r.sample_rate),
      channels: Number(r.channels),
    }));
  }

  /** The database's identity and change counter (for caches), as the SQLite store's. */
  async vectorsIdentity(): Promise<{ databaseId: number; version: number; rows: number }> {
    const rows = await this.retry(
      "identity",
      () =>
        this.sql`SELECT (SELECT value FROM openl3_meta WHERE key = 'database_id')::bigint AS id,
                      (SELECT value FROM openl3_meta WHERE key = 'vectors_version')::bigint AS version,
                      (SELECT count(*) FROM songs_vectors)::int AS rows`,
    );
    return { databaseId: Number(rows[0].id), version: Number(rows[0].version), rows: rows[0].rows };
  }

  /** The configurations the stored songs were made with (as the SQLite store's). */
  async storedConfigs(): Promise<StoredConfig[]> {
    return await this.retry("read configurations", () => this.configsIn(this.sql));
  }

  /** The stored songs' configurations, read through `sql` (a transaction's, or the pool). */
  private async configsIn(sql: Sql): Promise<StoredConfig[]> {
    const rows = await sql`SELECT DISTINCT c.input_repr, c.content_type, c.embedding_size, c.weights_hash,
                 c.hop_size, c.center, c.pooling, c.weights_provenance, c.precision
               FROM songs s JOIN model_configs c ON c.id = s.config_id`;
    return rows.map((r: Record<string, unknown>) => ({
      inputRepr: String(r.input_repr) as StoredConfig["inputRepr"],
      contentType: String(r.content_type) as StoredConfig["contentType"],
      embeddingSize: Number(r.embedding_size) as StoredConfig["embeddingSize"],
      weightsHash: String(r.weights_hash),
      hopSize: Number(r.hop_size),
      center: r.center === true,
      pooling: String(r.pooling) as StoredConfig["pooling"],
      weightsProvenance: String(r.weights_provenance) as StoredConfig["weightsProvenance"],
      precision: String(r.precision) as StoredConfig["precision"],
    }));
  }

  /** Claim the database for a configuration, atomically (see the SQLite store's; the table is locked). */
  async claimConfig(config: StoredConfig): Promise<StoredConfig[]> {
    return await this.retry("claim the configuration", () =>
      this.sql.begin(async (tx: Sql) => {
        await tx`LOCK TABLE config_claim IN EXCLUSIVE MODE`;
        const stored = await this.configsIn(tx);
        const [row] = await tx`SELECT config FROM config_claim WHERE one = 1`;
        if (row) {
          const claimed = JSON.parse(String(row.config)) as StoredConfig;
          return [claimed, ...stored.filter((c) => configKey(c) !== configKey(claimed))];
        }
        const key = configKey(config);
        // the run configuration an earlier version's workers agreed on (its key only)
        const [legacy] = await tx`SELECT value FROM openl3_meta WHERE key = 'run_config'`;
        if (legacy && String(legacy.value) !== key) {
          const parsed = configFromKey(String(legacy.value));
          if (parsed) return [{ ...parsed, weightsProvenance: "custom" }, ...stored];
        }
        if (stored.length > 0 && !stored.some((c) => configKey(c) === key)) return stored;
        await tx`INSERT INTO config_claim(one, key, config) VALUES (1, ${key}, ${JSON.stringify(config)})`;
        return stored.length ? stored : [config];
      }));
  }

  /** The configuration key of every stored song. */
  async songConfigKeys(): Promise<Map<string, string>> {
    const rows = await this.retry(
      "read configurations",
      () => this.sql`SELECT s.song_id, c.key FROM songs s JOIN model_configs c ON c.id = s.config_id`,
    );
    return new Map(rows.map((r: Record<string, unknown>) => [String(r.song_id), String(r.key)]));
  }

  /** A stored song, or undefined. */
  async song(songId: string): Promise<StoredSong | undefined> {
    const [r] = await this.retry(
      "read song",
      () =>
        this.sql`SELECT s.*, c.key AS config_key FROM songs s LEFT JOIN model_configs c ON c.id = s.config_id
                 WHERE s.song_id = ${songId}`,
    );
    if (!r) return undefined;
    return {
      songId: String(r.song_id),
      path: String(r.path),
      root: String(r.root),
      relPath: String(r.rel_path),
      duration: Number(r.duration),
      sampleRate: Number(r.sample_rate),
      channels: Number(r.channels),
      format: String(r.format),
      size: Number(r.size),
      contentHash: String(r.content_hash),
      tags: r.tags ?? undefined,
      windows: Number(r.windows),
      configKey: r.config_key === null ? null : String(r.config_key),
      embeddedAt: new Date(r.embedded_at).toISOString(),
    };
  }

  /** A song's frame embeddings (stored as float64, given as float32 as SQLite's), with timestamps. */
  async frames(songId: string): Promise<StoredFrames> {
    const rows = await this.retry(
      "read frames",
      () => this.sql`SELECT timestamp, vector FROM frames WHERE song_id = ${songId} ORDER BY idx`,
    );
    return {
      timestamps: rows.map((r: Record<string, unknown>) => Number(r.timestamp)),
      vectors: rows.map((r: Record<string, unknown>) =>
        Float32Array.from(blobToVector(new Uint8Array(r.vector as Uint8Array)))
      ),
    };
  }

  /** Failures, newest first. */
  async failures(): Promise<FailureRow[]> {
    const rows = await this.retry(
      "read failures",
      () => this.sql`SELECT path, error, at, attempts FROM failures ORDER BY at DESC`,
    );
    return rows.map((r: Record<string, unknown>) => ({
      path: String(r.path),
      error: String(r.error),
      at: new Date(r.at as string).toISOString(),
      attempts: Number(r.attempts),
    }));
  }

  /** Store a song outside the queue (a song of a shared run: its id is `root:relPath`). */
  async putSong(
    song: SongRecord,
    vector: ArrayLike<number>,
    config: ModelConfig,
    frames?: { embedding: Float32Array; timestamps: Float64Array; size: number },
    timeline?: Timeline,
  ): Promise<void> {
    checkSong(song, vector, frames);
    const where = rootOf(song.songId);
    const full: PgSong = { ...song, root: song.root ?? where.root, relPath: song.relPath ?? where.relPath };
    await this.retry("store", () =>
      this.sql.begin(async (tx: Sql) => {
        await this.writeSong(tx, full, vector, config, frames, null, timeline);
        await tx`DELETE FROM failures WHERE path = ${song.songId}`;
      }));
  }

  /** Store song `to` as a copy of song `from` (same bytes): its record, vector and frames. */
  async copySong(from: string, to: string, path: string): Promise<void> {
    const where = rootOf(to);
    await this.retry("copy", () =>
      this.sql.begin(async (tx: Sql) => {
        await tx`DELETE FROM songs WHERE song_id = ${to}`;
        await tx`INSERT INTO songs(song_id, root, rel_path, path, duration, sample_rate, channels, format, size,
                   content_hash, tags, windows, config_id, worker, embedded_at)
                 SELECT ${to}, ${where.root}, ${where.relPath}, ${path}, duration, sample_rate, channels, format,
                   size, content_hash, tags, windows, config_id, worker, now() FROM songs WHERE song_id = ${from}`;
        await tx`INSERT INTO songs_vectors(song_id, vector) SELECT ${to}, vector FROM songs_vectors
                 WHERE song_id = ${from}`;
        await tx`INSERT INTO frames(song_id, idx, timestamp, vector) SELECT ${to}, idx, timestamp, vector
                 FROM frames WHERE song_id = ${from}`;
        await tx`INSERT INTO timelines(song_id, version, step, bands, codes)
                 SELECT ${to}, version, step, bands, codes FROM timelines WHERE song_id = ${from}`;
        await tx`DELETE FROM failures WHERE path = ${to}`;
      }));
  }

  /** A stored song with this content made with this configuration (by key), other than `except`. */
  async songByContent(contentHash: string, key: string, except?: string): Promise<string | undefined> {
    const [r] = await this.retry(
      "read songs",
      () =>
        this.sql`SELECT s.song_id FROM songs s JOIN model_configs c ON c.id = s.config_id
                 WHERE s.content_hash = ${contentHash} AND c.key = ${key} AND s.song_id != ${except ?? ""}
                 ORDER BY s.song_id LIMIT 1`,
    );
    return r ? String(r.song_id) : undefined;
  }

  /** Record a failure (one row per file, with the number of runs that failed on it). */
  async putFailure(path: string, error: string, staleSongId?: string): Promise<void> {
    await this.retry("record failure", () =>
      this.sql.begin(async (tx: Sql) => {
        if (staleSongId !== undefined) await tx`DELETE FROM songs WHERE song_id = ${staleSongId}`;
        await tx`INSERT INTO failures(path, error, at, attempts) VALUES (${path}, ${error}, now(), 1)
                 ON CONFLICT (path) DO UPDATE SET error = EXCLUDED.error, at = now(),
                   attempts = failures.attempts + 1`;
      }));
  }

  /** Songs whose path starts with a prefix. */
  async songPaths(prefix = ""): Promise<{ songId: string; path: string }[]> {
    const rows = await this.retry(
      "read songs",
      () => this.sql`SELECT song_id, path FROM songs WHERE left(path, ${prefix.length}) = ${prefix}`,
    );
    return rows.map((r: Record<string, unknown>) => ({ songId: String(r.song_id), path: String(r.path) }));
  }

  /** Remove songs (vector and frames go with them) in one transaction. */
  async remove(songIds: string[]): Promise<void> {
    if (songIds.length === 0) return;
    await this.retry("remove", () => this.sql`DELETE FROM songs WHERE song_id = ANY(${songIds})`);
  }

  /** Close the connections. */
  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 });
  }
}

/** The root and path under it of a shared run's song id (`root:relPath`). */
function rootOf(songId: string): { root: string; relPath: string } {
  const m = /^([A-Za-z0-9_.-]+):(.+)$/.exec(songId);
  if (!m) throw new OpenL3Error(`"${songId}" is not a shared run's song id (root:path)`);
  return { root: m[1], relPath: m[2] };
}

/**
 * A PostgreSQL database as a {@linkcode SongStore}. Its songs lie under named roots that each machine
 * mounts where it likes (`--root NAME=PATH`), so it records no folders of its own: {@linkcode SongStore.roots}
 * is empty and {@linkcode SongStore.addRoots} keeps nothing.
 */
export async function openPgStore(url: string, options: OpenStoreOptions = {}): Promise<SongStore> {
  const pg = await PgStore.connect(url, {
    retryFor: options.retryFor ?? (options.readOnly ? 10 : undefined),
    onRetry: options.onRetry,
  });
  const label = redactUrl(url);
  return {
    kind: "postgres",
    traits: { sharedRun: true, namedRoots: true, localWrites: false },
    label,
    location: url,
    async vectors(prefix = "") {
      const { rows, rejected } = await pg.vectorRows(prefix);
      return { vectors: new Map(rows.map((r) => [r.id, r.vector])), rejected };
    },
    async snapshot(fn) {
      const identity = await pg.vectorsIdentity();
      const { rows, rejected } = await pg.vectorRows();
      const ids = [...rows.map((r) => r.id), ...rejected.map((r) => r.songId)].sort();
      return fn({
        identity,
        songIds: () => ids,
        *vectorRows(onRejected) {
          for (const r of rejected) onRejected(r);
          yield* rows;
        },
      });
    },
    storedConfigs: () => pg.storedConfigs(),
    claimConfig: (config) => pg.claimConfig(config),
    songConfigKeys: () => pg.songConfigKeys(),
    roots: () => Promise.resolve([]),
    identity: () => pg.vectorsIdentity(),
    summaries: () => pg.songSummaries() as Promise<SongSummary[]>,
    song: (id) => pg.song(id),
    frames: (id) => pg.frames(id),
    failures: () => pg.failures(),
    async cacheBase() {
      const { databaseId } = await pg.vectorsIdentity();
      const dir = runtimeCacheDir();
      await Deno.mkdir(dir, { recursive: true }).catch(() => {});
      return join(dir, `pg-${databaseId}`);
    },
    timelines: (ids) => pg.timelines(ids),
    timelineIds: (version) => pg.timelineIds(version),
    putSong: (song, vector, config, frames, timeline) => pg.putSong(song, vector, config, frames, timeline),
    putTimeline: (id, t) => pg.putTimeline(id, t),
    copySong: (from, to, path) => pg.copySong(from, to, path),
    songByContent: (hash, key, except) => pg.songByContent(hash, key, except),
    putFailure: (path, error, stale) => pg.putFailure(path, error, stale),
    addRoots: () => Promise.resolve(),
    songPaths: (prefix) => pg.songPaths(prefix),
    remove: (ids) => pg.remove(ids),
    close: () => pg.close(),
  };
}
