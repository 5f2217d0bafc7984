/**
 * The work queue of a shared PostgreSQL run, beside the store
 * (`pg_store.ts`): jobs — one per distinct file content, with its path
 * relative to a named root so that machines mounting the collection in
 * different places agree — claimed with `FOR UPDATE SKIP LOCKED` under a
 * lease that the worker renews; the workers and their heartbeats; the run's
 * status. A completed job stores its song through the store's own write, in
 * the same transaction.
 *
 * @module
 */

import { hostname } from "node:os";
import type { ModelConfig } from "./model_config.ts";
import type { Timeline } from "../frontend/timeline.ts";
import { checkSong, type PgConnectOptions, type PgSong, PgStore, type Sql } from "./pg_store.ts";

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

/** The queue of a shared run, on a connected {@linkcode PgStore}. */
export class PgQueue {
  /** The store whose tables the jobs fill. */
  readonly store: PgStore;

  /** The queue of `store`'s database. */
  constructor(store: PgStore) {
    this.store = store;
  }

  /** Connect to a run's database (see {@linkcode PgStore.connect}) and open its queue. */
  static async connect(url: string, options: PgConnectOptions = {}): Promise<PgQueue> {
    return new PgQueue(await PgStore.connect(url, options));
  }

  /** The client. */
  get sql(): Sql {
    return this.store.sql;
  }

  /** {@linkcode PgStore.retry}. */
  retry<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
    return this.store.retry(what, fn);
  }

  /** Close the connections. */
  close(): Promise<void> {
    return this.store.close();
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
          for (const d of done) await this.store.copyToPaths(tx, String(d.content_hash));
          return res.length;
        }));
    }
    return added;
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
    timeline?: Timeline,
  ): Promise<boolean> {
    checkSong(song, vector, frames);
    const stored = await this.retry("store", () =>
      this.sql.begin(async (tx: Sql) => {
        const [row] = await tx`SELECT status, lease_owner FROM jobs WHERE id = ${job.id} FOR UPDATE`;
        if (row?.status === "done") {
          const mine = await tx`SELECT 1 FROM songs WHERE song_id = ${song.songId} AND worker = ${worker}
                                AND content_hash = ${song.contentHash}`;
          return mine.length > 0; // this worker's commit, whose answer the broken connection lost
        }
        if (row?.status !== "running" || row.lease_owner !== worker) return false;
        await this.store.writeSong(tx, song, vector, config, frames, worker, timeline);
        await tx`UPDATE jobs SET status = 'done', finished_at = now(), lease_owner = NULL, error = NULL,
                   windows = ${song.windows} WHERE id = ${job.id}`;
        await this.store.copyToPaths(tx, song.contentHash); // byte-identical copies under other paths
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
}
