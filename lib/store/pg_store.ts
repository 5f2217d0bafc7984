/**
 * PostgreSQL as the shared store and work queue of many embedding workers:
 * the SQLite schema's concepts (songs, vectors as float64 BLOBs, model
 * configurations, frames, failures, a change counter), plus jobs — one per
 * distinct file content, with its path relative to a named root so that
 * machines mounting the collection in different places agree — claimed with
 * `FOR UPDATE SKIP LOCKED` under a lease that the worker renews.
 *
 * @module
 */

import { hostname } from "node:os";
import { ConfigMismatchError, OpenL3Error } from "../util/errors.ts";
import { configKey, type ModelConfig } from "./model_config.ts";
import {
  assertFinite,
  blobToVector,
  type RejectedVector,
  vectorProblem,
  vectorToBlob,
} from "./vector_codec.ts";
import type { SongRecord, StoredConfig } from "./song_record.ts";

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
export class PgStoreError extends OpenL3Error {}

export { ConfigMismatchError } from "../util/errors.ts";

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
];

/** The schema version this code writes. */
export const PG_SCHEMA_VERSION: number = PG_MIGRATIONS.length;

/** A claimed job. */
export interface Job {
  /** Its id. */
  id: number;
  /** SHA-256 of the file's bytes (its identity). */
  contentHash: string;
  /** Bytes. */
  size: number;
  /** The root's name. */
  root: string;
  /** Path under the root, with `/` separators. */
  relPath: string;
  /** Errors the file raised so far (a lapsed lease is not one). */
  attempts: number;
  /** Leases of this job that lapsed and were taken over. */
  lapses: number;
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

/** Progress of the whole run. */
export interface RunStatus {
  /** Jobs waiting to be claimed. */
  pending: number;
  /** Claimed (under a live lease or a lapsed one). */
  running: number;
  /** Claimed, but the lease ran out: the next claim takes them over. */
  lapsed: number;
  /** Stored. */
  done: number;
  /** Given up after the file failed the allowed attempts. */
  failed: number;
  /** Leases that lapsed and were taken over, over the whole run (the queue's thrash). */
  lapses: number;
  /** Songs stored per minute over the last 5 minutes. */
  perMinute: number;
  /** Windows embedded per second over the last 5 minutes. */
  windowsPerSecond: number;
  /** Seconds to go at that rate (null when nothing moves). */
  etaSeconds: number | null;
  /** Each job in flight: its song, worker, seconds since its lease was granted or renewed, lapsed or not. */
  inFlight: { songId: string; worker: string; leaseAge: number; lapsed: boolean; lapses: number }[];
  /** Each worker seen: jobs in flight, done, failed, results dropped, heartbeat age, worst renewal gap. */
  workers: {
    id: string;
    inFlight: number;
    done: number;
    failed: number;
    lost: number;
    heartbeatAge: number;
    worstRenewalGap: number;
  }[];
  /** The last failures. */
  failures: { path: string; error: string; attempts: number }[];
}

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

  /**
   * Make `key` the run's model configuration, or check that it is: the first worker sets it; a worker
   * with another configuration is refused before it writes anything.
   */
  async claimRunConfig(key: string): Promise<void> {
    const rows = await this.retry(
      "run configuration",
      () =>
        this.sql`INSERT INTO openl3_meta(key, value) VALUES ('run_config', ${key})
               ON CONFLICT (key) DO UPDATE SET value = openl3_meta.value RETURNING value`,
    );
    if (rows[0].value !== key) {
      throw new ConfigMismatchError(
        `${redactUrl(this.url)}: this run embeds with another model configuration (${rows[0].value}); ` +
          `this worker's is ${key}: it will not write (one configuration per database: use another --db, ` +
          `or the same weights, variant, hop, pooling and precision)`,
      );
    }
  }

  /**
   * Register files: one job per distinct content (a content already registered is left as it is), and every
   * path as a song-to-be of its content. A path whose content is already stored under another path becomes a
   * song at once, a copy of that song (copies are embedded once). Returns how many jobs were new.
   */
  async registerJobs(
    rows: { contentHash: string; size: number; root: string; relPath: string; path?: string }[],
  ): Promise<number> {
    const byPath = new Map(rows.map((r) => [`${r.root}:${r.relPath}`, r]));
    const unique = [...byPath.values()];
    let added = 0;
    for (let i = 0; i < unique.length; i += 500) {
      const chunk = unique.slice(i, i + 500);
      const jobs = chunk.map((r) => ({
        content_hash: r.contentHash,
        size: r.size,
        root: r.root,
        rel_path: r.relPath,
      }));
      const paths = chunk.map((r) => ({
        root: r.root,
        rel_path: r.relPath,
        content_hash: r.contentHash,
        path: r.path ?? `${r.root}:${r.relPath}`,
      }));
      const hashes = [...new Set(chunk.map((r) => r.contentHash))];
      added += await this.retry("register", () =>
        this.sql.begin(async (tx: Sql) => {
          const res = await tx`INSERT INTO jobs ${tx(jobs, "content_hash", "size", "root", "rel_path")}
                   ON CONFLICT (content_hash) DO NOTHING RETURNING id`;
          // the jobs' rows locked: a completion commits wholly before or after the paths are added
          const done = await tx`SELECT content_hash FROM jobs WHERE content_hash = ANY(${hashes})
                                AND status = 'done' ORDER BY id FOR UPDATE`;
          await tx`INSERT INTO job_paths ${tx(paths, "root", "rel_path", "content_hash", "path")}
                   ON CONFLICT (root, rel_path) DO UPDATE SET content_hash = EXCLUDED.content_hash,
                     path = EXCLUDED.path`;
          for (const d of done) await this.#copySongs(tx, String(d.content_hash));
          return res.length;
        }));
    }
    return added;
  }

  /** Every registered path of a stored content without its song gets a copy of the stored one. */
  async #copySongs(tx: Sql, contentHash: string): Promise<void> {
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
    }
  }

  /** Record a worker (and refresh its heartbeat). */
  async registerWorker(id: string, configKey: string): Promise<void> {
    await this.retry(
      "register worker",
      () =>
        this
          .sql`INSERT INTO workers(id, host, pid, config_key) VALUES (${id}, ${hostname()}, ${Deno.pid}, ${configKey})
               ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
    );
  }

  /**
   * Claim up to `n` jobs for `worker` under a lease of `leaseSeconds`: pending ones, and running ones whose
   * lease lapsed (their worker died, paused or lost the database). A lapse is counted in `lapses`, never in
   * `attempts`: only an error raised by the file itself (see {@linkcode fail}) brings a job nearer to failed.
   */
  async claim(worker: string, n: number, leaseSeconds: number): Promise<Job[]> {
    return await this.retry("claim", async () => {
      const rows = await this.sql`UPDATE jobs SET status = 'running', lease_owner = ${worker},
                 lease_until = now() + make_interval(secs => ${leaseSeconds}), leased_at = now(),
                 lapses = lapses + (CASE WHEN status = 'running' THEN 1 ELSE 0 END)
               WHERE id IN (SELECT id FROM jobs
                            WHERE status = 'pending' OR (status = 'running' AND lease_until < now())
                            ORDER BY id LIMIT ${n} FOR UPDATE SKIP LOCKED)
               RETURNING id, content_hash, size, root, rel_path, attempts, lapses`;
      return rows.map((r: Record<string, unknown>) => ({
        id: Number(r.id),
        contentHash: String(r.content_hash),
        size: Number(r.size),
        root: String(r.root),
        relPath: String(r.rel_path),
        attempts: Number(r.attempts),
        lapses: Number(r.lapses),
      }));
    });
  }

  /**
   * Renew the leases of `worker`'s running jobs and its heartbeat; `gapSeconds` is the time since its
   * previous renewal (the worst is kept, for `--status` and the benchmark). Returns the jobs renewed.
   */
  async heartbeat(worker: string, leaseSeconds: number, gapSeconds = 0): Promise<number> {
    return await this.retry("heartbeat", async () => {
      const renewed = await this
        .sql`UPDATE jobs SET lease_until = now() + make_interval(secs => ${leaseSeconds}),
                       leased_at = now()
                     WHERE status = 'running' AND lease_owner = ${worker} RETURNING id`;
      await this.sql`UPDATE workers SET heartbeat_at = now(),
                       worst_renewal_gap = greatest(worst_renewal_gap, ${gapSeconds}) WHERE id = ${worker}`;
      return renewed.length;
    });
  }

  /** Jobs by state: what a worker needs to know whether the run is over. */
  async counts(): Promise<
    { pending: number; running: number; lapsed: number; done: number; failed: number }
  > {
    const [r] = await this.retry(
      "count",
      () =>
        this.sql`SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
                 count(*) FILTER (WHERE status = 'running')::int AS running,
                 count(*) FILTER (WHERE status = 'running' AND lease_until < now())::int AS lapsed,
                 count(*) FILTER (WHERE status = 'done')::int AS done,
                 count(*) FILTER (WHERE status = 'failed')::int AS failed FROM jobs`,
    );
    return { pending: r.pending, running: r.running, lapsed: r.lapsed, done: r.done, failed: r.failed };
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

  /**
   * Store a song and mark its job done, in one transaction — only while `worker` still holds the job (false,
   * and nothing written, when another worker took it over). Retried through a dropped connection: a commit
   * that went through before the connection broke is recognised, not reported as lost.
   */
  async complete(
    job: Job,
    worker: string,
    song: PgSong,
    vector: ArrayLike<number>,
    config: ModelConfig,
    frames?: { embedding: Float32Array; timestamps: Float64Array; size: number },
  ): Promise<boolean> {
    assertFinite(`the vector of ${song.songId}`, vector);
    if (frames) assertFinite(`the frames of ${song.songId}`, frames.embedding);
    const stored = await this.retry("store", () =>
      this.sql.begin(async (tx: Sql) => {
        const [row] = await tx`SELECT status, lease_owner FROM jobs WHERE id = ${job.id} FOR UPDATE`;
        if (row?.status === "done") {
          const mine = await tx`SELECT 1 FROM songs WHERE song_id = ${song.songId} AND worker = ${worker}
                                AND content_hash = ${song.contentHash}`;
          return mine.length > 0; // this worker's commit, whose answer the broken connection lost
        }
        if (row?.status !== "running" || row.lease_owner !== worker) return false;
        const cid = await this.configId(tx, config);
        await tx`INSERT INTO songs(song_id, root, rel_path, path, duration, sample_rate, channels, format, size,
                   content_hash, tags, windows, config_id, worker)
                 VALUES (${song.songId}, ${song.root}, ${song.relPath}, ${song.path}, ${song.duration},
                   ${song.sampleRate}, ${song.channels}, ${song.format}, ${song.size}, ${song.contentHash},
                   ${song.tags ? tx.json(song.tags) : null}, ${song.windows}, ${cid}, ${worker})
                 ON CONFLICT (song_id) DO UPDATE SET content_hash = EXCLUDED.content_hash, duration = EXCLUDED.duration,
                   windows = EXCLUDED.windows, config_id = EXCLUDED.config_id, worker = EXCLUDED.worker,
                   embedded_at = now()`;
        await tx`INSERT INTO songs_vectors(song_id, vector) VALUES (${song.songId}, ${vectorToBlob(vector)})
                 ON CONFLICT (song_id) DO UPDATE SET vector = EXCLUDED.vector`;
        if (frames) {
          await tx`DELETE FROM frames WHERE song_id = ${song.songId}`;
          const n = frames.timestamps.length;
          for (let i = 0; i < n; i++) {
            const v = frames.embedding.subarray(i * frames.size, (i + 1) * frames.size);
            await tx`INSERT INTO frames(song_id, idx, timestamp, vector)
                     VALUES (${song.songId}, ${i}, ${frames.timestamps[i]}, ${vectorToBlob(v)})`;
          }
        }
        await tx`UPDATE jobs SET status = 'done', finished_at = now(), lease_owner = NULL, error = NULL,
                   windows = ${song.windows} WHERE id = ${job.id}`;
        await this.#copySongs(tx, song.contentHash); // byte-identical copies under other paths
        await tx`UPDATE workers SET done = done + 1, heartbeat_at = now() WHERE id = ${worker}`;
        await tx`DELETE FROM failures WHERE path = ${`${song.root}:${song.relPath}`}`;
        return true;
      }));
    if (!stored) await this.#dropped(worker);
    return stored;
  }

  async #dropped(worker: string): Promise<void> {
    await this.retry("record", () => this.sql`UPDATE workers SET lost = lost + 1 WHERE id = ${worker}`);
  }

  /**
   * The file of a job raised an error: back to the queue, or failed for good once the file has failed
   * `maxAttempts` times. `"lost"` (nothing recorded) when `worker` no longer holds the job: its error is
   * not counted against the file, whoever holds the job now decides.
   */
  async fail(
    job: Job,
    worker: string,
    error: string,
    maxAttempts: number,
  ): Promise<"retry" | "failed" | "lost"> {
    const outcome = await this.retry("fail", () =>
      this.sql.begin(async (tx: Sql) => {
        const [row] = await tx`UPDATE jobs SET attempts = attempts + 1 WHERE id = ${job.id}
                 AND status = 'running' AND lease_owner = ${worker} RETURNING attempts`;
        if (!row) return "lost" as const;
        const last = row.attempts >= maxAttempts;
        await tx`UPDATE jobs SET status = ${
          last ? "failed" : "pending"
        }, error = ${error}, lease_owner = NULL,
                   lease_until = NULL, finished_at = ${last ? tx`now()` : null} WHERE id = ${job.id}`;
        if (last) {
          await tx`INSERT INTO failures(path, error, at, attempts) VALUES (${`${job.root}:${job.relPath}`}, ${error}, now(), ${row.attempts})
                   ON CONFLICT (path) DO UPDATE SET error = EXCLUDED.error, at = now(), attempts = EXCLUDED.attempts`;
          await tx`UPDATE workers SET failed = failed + 1 WHERE id = ${worker}`;
        }
        return last ? "failed" as const : "retry" as const;
      }));
    if (outcome === "lost") await this.#dropped(worker);
    return outcome;
  }

  /** Give claimed jobs back (a worker stopping cleanly): pending again at once, nothing counted. */
  async release(worker: string): Promise<void> {
    await this
      .sql`UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_until = NULL
                   WHERE status = 'running' AND lease_owner = ${worker}`.catch(() => {});
  }

  /** The whole run's progress. */
  async status(): Promise<RunStatus> {
    return await this.retry("status", async () => {
      const [counts] = await this.sql`SELECT
          count(*) FILTER (WHERE status = 'pending')::int AS pending,
          count(*) FILTER (WHERE status = 'running')::int AS running,
          count(*) FILTER (WHERE status = 'running' AND lease_until < now())::int AS lapsed,
          count(*) FILTER (WHERE status = 'done')::int AS done,
          count(*) FILTER (WHERE status = 'failed')::int AS failed,
          coalesce(sum(lapses), 0)::int AS lapses,
          count(*) FILTER (WHERE status = 'done' AND finished_at > now() - interval '5 minutes')::int AS recent,
          coalesce(sum(windows) FILTER (WHERE status = 'done' AND finished_at > now() - interval '5 minutes'), 0)::float
            AS recent_windows,
          extract(epoch FROM now() - least(min(finished_at) FILTER (WHERE finished_at > now() - interval '5 minutes'), now()))::float AS span
        FROM jobs`;
      const workers = await this.sql`SELECT w.id, w.done, w.failed, w.lost, w.worst_renewal_gap,
          extract(epoch FROM now() - w.heartbeat_at)::float AS age
        FROM workers w ORDER BY w.started_at`;
      const flights = await this.sql`SELECT root, rel_path, lease_owner, lapses,
          extract(epoch FROM now() - leased_at)::float AS lease_age,
          extract(epoch FROM now() - lease_until)::float AS overdue
        FROM jobs WHERE status = 'running' ORDER BY id`;
      const failures = await this.sql`SELECT path, error, attempts FROM failures ORDER BY at DESC LIMIT 10`;
      const seconds = Math.max(counts.span, 1);
      const perMinute = counts.recent / (seconds / 60);
      const left = counts.pending + counts.running;
      const inFlight = flights.map((f: Record<string, unknown>) => ({
        songId: `${f.root}:${f.rel_path}`,
        worker: String(f.lease_owner),
        leaseAge: Number(f.lease_age),
        lapsed: Number(f.overdue) > 0,
        lapses: Number(f.lapses),
      }));
      return {
        pending: counts.pending,
        running: counts.running,
        lapsed: counts.lapsed,
        done: counts.done,
        failed: counts.failed,
        lapses: counts.lapses,
        perMinute,
        windowsPerSecond: counts.recent_windows / seconds,
        etaSeconds: perMinute > 0 ? (left / perMinute) * 60 : null,
        inFlight,
        workers: workers.map((w: Record<string, unknown>) => ({
          id: String(w.id),
          inFlight: inFlight.filter((f: { worker: string }) => f.worker === String(w.id)).length,
          done: Number(w.done),
          failed: Number(w.failed),
          lost: Number(w.lost),
          heartbeatAge: Number(w.age),
          worstRenewalGap: Number(w.worst_renewal_gap),
        })),
        failures: failures.map((f: Record<string, unknown>) => ({
          path: String(f.path),
          error: String(f.error),
          attempts: Number(f.attempts),
        })),
      };
    });
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
      () => this.sql`SELECT song_id, path, root, rel_path, duration, tags FROM songs`,
    );
    return rows.map((r: Record<string, unknown>) => ({
      songId: String(r.song_id),
      path: String(r.path),
      root: String(r.root),
      relPath: String(r.rel_path),
      duration: Number(r.duration),
      ...(r.tags ? { tags: r.tags as Record<string, string> } : {}),
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
    const rows = await this.retry(
      "read configurations",
      () =>
        this
          .sql`SELECT DISTINCT c.input_repr, c.content_type, c.embedding_size, c.weights_hash, c.hop_size, c.center,
                 c.pooling, c.weights_provenance, c.precision FROM songs s JOIN model_configs c ON c.id = s.config_id`,
    );
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

  /** The configuration key of every stored song. */
  async songConfigKeys(): Promise<Map<string, string>> {
    const rows = await this.retry(
      "read configurations",
      () => this.sql`SELECT s.song_id, c.key FROM songs s JOIN model_configs c ON c.id = s.config_id`,
    );
    return new Map(rows.map((r: Record<string, unknown>) => [String(r.song_id), String(r.key)]));
  }

  /** Close the connections. */
  async close(): Promise<void> {
    await this.sql.end({ timeout: 2 });
  }
}
