/**
 * An embedding worker on a shared PostgreSQL run: registers the files it is
 * given as jobs (content hash, path under a named root), then claims jobs a
 * few at a time, embeds them and stores each result in one transaction while
 * a heartbeat renews its leases. Any number of workers, on any machines
 * that mount the roots, share the run; a killed worker's jobs return to the
 * queue when their lease expires.
 *
 * @module
 */

import { resolve } from "node:path";
import { hostname } from "node:os";
import { ArgumentError, ConfigMismatchError, OpenL3Error, printable } from "../util/errors.ts";
import { TOOL_VERSION } from "../util/version.ts";
import { checkPooling, type Pooling } from "../model/pooling.ts";
import { configKey, type ModelConfig } from "../store/model_config.ts";
import { PgQueue, type RunStatus } from "../store/pg_queue.ts";
import { parseRoots, underRoot } from "../store/named_roots.ts";
import { redactUrl, StoreError } from "../store/store.ts";
import { EMBED_DEFAULTS } from "./defaults.ts";
import { findAudioFiles } from "./discovery.ts";
import {
  createEmbedder,
  type Embedder,
  type EmbedderOptions,
  numbersOf,
  type PreparedModel,
  prepareModel,
} from "./embedder.ts";
import { checkRange, resolveEmbedderOptions } from "./embed_options.ts";
import { adoptStoredConfig, knownSettings, refuseOtherConfig } from "./stored_config.ts";
import { embedSong } from "./embed_song.ts";
import { FeedPool } from "./feed_pool.ts";
import { defaultWorkers } from "./collection.ts";
import { hashFile } from "./file_feed.ts";
import { LeaseKeeper } from "./lease_keeper.ts";

/** Options of {@linkcode runPgWorker}. */
export interface PgWorkerOptions extends EmbedderOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Named roots, `NAME=PATH`: every input file must lie under one. */
  roots: string[];
  /** Files and folders to register (none: only work on what is registered). */
  inputs: string[];
  /**
   * File extensions registered from folders (lower case, with the dot).
   * @default {AUDIO_EXTENSIONS}
   */
  extensions?: string[];
  /**
   * Frame embeddings → one vector per song.
   * @default {"max"}
   */
  pool?: Pooling;
  /** Also store every frame embedding. */
  frames?: boolean;
  /**
   * Seconds a claimed job is leased; renewed every third of it.
   * @default {60}
   */
  leaseSeconds?: number;
  /**
   * Errors a file may raise before it is recorded as failed (a lapsed lease is not one: work lost that
   * way is retried without limit).
   * @default {3}
   */
  maxAttempts?: number;
  /**
   * Jobs claimed at a time.
   * @default {2}
   */
  claimSize?: number;
  /**
   * Longest audio accepted per file, in seconds.
   * @default {14400}
   */
  maxDuration?: number;
  /**
   * Seconds to keep retrying while the database cannot be reached.
   * @default {120}
   */
  retryFor?: number;
  /** One line per file and per retry; default stdout (files) and stderr (retries). */
  onLine?: (line: string) => void;
  /** No per-file lines. */
  quiet?: boolean;
  /** Stop after the current job. */
  signal?: AbortSignal;
  /**
   * Threads that decode, resample and frame the claimed files ahead of the network.
   * @default {defaultWorkers()}
   */
  workers?: number;
}

/** What a worker did, and the state of the run when it left. */
export interface PgWorkerSummary {
  /** This worker's id. */
  worker: string;
  /** Jobs this worker registered that were new. */
  registered: number;
  /** Songs it stored. */
  embedded: number;
  /** Errors raised by files it worked on (each counts toward `--max-attempts`). */
  failed: number;
  /** Results it dropped because its lease had lapsed and another worker held the job. */
  lost: number;
  /** The worst gap between two renewals of its leases, in seconds. */
  worstRenewalGap: number;
  /** Its inputs that could not be read (folders, missing paths): registered nothing, said once each. */
  unreadable: number;
  /** The run as this worker left it: null when it was interrupted before the run was over. */
  run: { done: number; failed: number } | null;
}

/** Run one worker until the run has no job left. */
export async function runPgWorker(options: PgWorkerOptions): Promise<PgWorkerSummary> {
  checkPooling(options.pool);
  resolveEmbedderOptions(options); // every model option checked before the database is touched
  const lease = options.leaseSeconds ?? 60;
  if (!(lease >= 1)) throw new ArgumentError(`--lease must be at least 1 second, got ${lease}`);
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ArgumentError(`--max-attempts must be a whole number ≥ 1, got ${maxAttempts}`);
  }
  checkRange("lease", lease);
  checkRange("max-attempts", maxAttempts);
  checkRange("max-duration", options.maxDuration);
  checkRange("workers", options.workers);
  const roots = await parseRoots(options.roots);
  if (options.inputs.length && roots.size === 0) {
    throw new ArgumentError(
      "a PostgreSQL run needs --root NAME=PATH: paths are stored relative to a named root",
    );
  }
  const line = options.onLine ?? ((l: string) => console.log(l));
  const say = (l: string) => {
    if (!options.quiet) line(l);
  };
  const warn = options.onLine ?? ((l: string) => console.error(l));
  const store = await PgQueue.connect(options.url, { retryFor: options.retryFor, onRetry: warn });
  // one configuration per database: what is unset comes from the stored songs (their weights found again by
  // hash); a worker that differs is refused by the claim below, before it writes anything
  let choice: PgWorkerOptions, prepared: PreparedModel;
  try {
    const existing = await store.store.storedConfigs();
    choice = await adoptStoredConfig(
      options,
      existing.length === 1 ? existing[0] : undefined,
      redactUrl(options.url),
    );
    refuseOtherConfig(redactUrl(options.url), existing, knownSettings(choice)); // before the model is loaded
    prepared = await prepareModel({ ...choice, verbose: options.verbose ?? !options.quiet });
  } catch (e) {
    await store.close();
    throw e;
  }
  const pool = choice.pool ?? EMBED_DEFAULTS.pool;
  const numbers = numbersOf(prepared, pool);
  const key = configKey(numbers);
  const worker = `${hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
  const summary: PgWorkerSummary = {
    worker,
    registered: 0,
    embedded: 0,
    failed: 0,
    lost: 0,
    worstRenewalGap: 0,
    unreadable: 0,
    run: null,
  };
  let embedder: Embedder | undefined;
  let keeper: LeaseKeeper | undefined;
  let feed: FeedPool | undefined;
  try {
    // the first worker to claim the database's configuration holds it (atomically): one started together
    // with another configuration refuses here, before it writes anything
    refuseOtherConfig(
      redactUrl(options.url),
      await store.store.claimConfig({ ...numbers, weightsProvenance: prepared.model.provenance }),
      numbers,
    );
    await store.registerWorker(worker, key);
    if (options.inputs.length) {
      const found = await findAudioFiles(options.inputs, options.extensions);
      for (const u of found.unreadable) warn(`✗ ${printable(u.path)}: ${u.problem}`);
      for (const l of found.linksSkipped) {
        warn(`note: passed over the link ${printable(l.path)} → ${printable(l.target)}: ${l.why}`);
      }
      summary.unreadable = found.unreadable.length;
      const rows = [];
      for (const file of found.files) {
        const real = await Deno.realPath(file);
        const where = underRoot(real, roots);
        if (!where) {
          throw new ArgumentError(
            `${printable(file)} is under no --root (${[...roots.values()].join(", ")})`,
          );
        }
        const h = await hashFile(file);
        rows.push({ contentHash: h.sha256, size: h.size, ...where, path: real });
      }
      summary.registered = await store.registerJobs(rows);
    }
    // leases are renewed from a thread of their own: the work below may keep this one busy for seconds
    keeper = await LeaseKeeper.start({
      url: options.url,
      worker,
      leaseSeconds: lease,
      retryFor: options.retryFor,
      onLine: warn,
    });
    let config: ModelConfig | undefined;
    const workers = options.workers ?? defaultWorkers();
    // the feed decodes, resamples and frames the claimed files ahead of the network (worker threads, as an
    // embed into SQLite does); a file is embedded only when its bytes are still the registered content
    const expected = new Map<number, string>();
    let next = 0;
    for (;;) {
      if (options.signal?.aborted) break;
      const jobs = await store.claim(worker, options.claimSize ?? Math.max(2, workers + 1), lease);
      if (jobs.length === 0) {
        // the run is over only when nothing waits and nothing is in flight; a lease held by another worker
        // may still lapse (its worker killed or paused), and then this worker takes the job over
        const c = await store.counts();
        if (c.pending + c.running === 0) {
          summary.run = { done: c.done, failed: c.failed };
          break;
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, (lease * 1000) / 4)));
        continue;
      }
      embedder ??= await createEmbedder(choice, prepared);
      const e = embedder;
      feed ??= new FeedPool({
        workers,
        hopSize: numbers.hopSize,
        center: numbers.center,
        batchSize: e.batchSize,
        maxDuration: options.maxDuration ?? EMBED_DEFAULTS.maxDuration,
        repr: e.frontend.kind === "cpu" ? numbers.inputRepr : null,
        timeline: true,
      }, (id, hash) => hash.sha256 === expected.get(id));
      const pool0 = feed;
      const feeds = jobs.map((job) => {
        const rootPath = roots.get(job.root);
        if (!rootPath) return null;
        const id = next++;
        expected.set(id, job.contentHash);
        return pool0.submit(id, resolve(rootPath, ...job.relPath.split("/")));
      });
      for (let j = 0; j < jobs.length; j++) {
        const job = jobs[j];
        if (options.signal?.aborted) break;
        const rootPath = roots.get(job.root);
        const label = `${job.root}:${job.relPath}`;
        try {
          if (!rootPath || !feeds[j]) {
            throw new OpenL3Error(`root "${job.root}" is not given to this worker (--root ${job.root}=PATH)`);
          }
          const path = resolve(rootPath, ...job.relPath.split("/"));
          const fj = feeds[j]!;
          config ??= {
            ...numbers,
            weightsProvenance: embedder.model.provenance,
            frontend: embedder.frontend.kind,
            backend: embedder.session.backend,
            toolVersion: TOOL_VERSION,
          };
          const h = await fj.hashed();
          if (!(await fj.decision())) {
            throw new OpenL3Error(`${printable(path)} changed since it was registered`);
          }
          const { info } = await fj.info();
          const embedded = await embedSong(embedder, fj, { pool, keepFrames: !!options.frames });
          const result = fj.result!;
          const song = {
            ...embedded,
            duration: result.frames / result.sampleRate,
            sampleRate: result.sampleRate,
            channels: info.channelCount,
            format: info.format,
            tags: Object.keys(info.tags).length ? info.tags as Record<string, string> : undefined,
            timeline: result.timeline,
          };
          const stored = await store.complete(
            job,
            worker,
            {
              songId: label,
              root: job.root,
              relPath: job.relPath,
              path,
              duration: song.duration,
              sampleRate: song.sampleRate,
              channels: song.channels,
              format: song.format,
              size: h.size,
              contentHash: h.sha256,
              tags: song.tags,
              windows: song.windows,
            },
            song.vector!,
            config,
            song.frames,
            song.timeline,
          );
          if (stored) {
            summary.embedded++;
            say(`✓ ${printable(label)}: (${embedder.size},) from ${song.windows} windows`);
          } else {
            summary.lost++;
            warn(
              `- ${
                printable(label)
              }: its lease lapsed and another worker holds it; result dropped, not stored`,
            );
          }
        } catch (e) {
          if (e instanceof StoreError || e instanceof ConfigMismatchError) throw e;
          if (!(e instanceof OpenL3Error) && !(e instanceof Deno.errors.NotFound)) {
            await store.release(worker);
            throw e;
          }
          const outcome = await store.fail(job, worker, (e as Error).message, maxAttempts);
          if (outcome === "lost") {
            summary.lost++;
            warn(
              `- ${printable(label)}: its lease lapsed and another worker holds it; its error not counted`,
            );
            continue;
          }
          summary.failed++;
          say(
            `✗ ${printable(label)}: ${(e as Error).message}${
              outcome === "retry" ? " (back in the queue)" : ""
            }`,
          );
        }
      }
    }
  } finally {
    feed?.close();
    if (keeper) summary.worstRenewalGap = (await keeper.stop()).worstGap;
    if (options.signal?.aborted) await store.release(worker);
    await embedder?.close();
    await store.close();
  }
  return summary;
}

/** The worker's last line: what the run it saw looks like, and its exit status (0 finished, 1 failed files). */
export function finalLine(s: PgWorkerSummary): { line: string; code: number } {
  const mine =
    `worker ${s.worker}: registered ${s.registered} new, stored ${s.embedded}, ${s.failed} file errors` +
    (s.lost ? `, ${s.lost} results dropped (lease lapsed)` : "") +
    `, worst lease renewal gap ${s.worstRenewalGap.toFixed(2)} s`;
  if (!s.run) {
    return {
      line: `${mine}
stopped before the run was over: the rest stays queued`,
      code: 130,
    };
  }
  if (s.run.failed > 0) {
    return {
      line: `${mine}
run finished with failed files: ${s.run.done} stored, ${s.run.failed} failed ` +
        `(deno task embed --status --db … lists them)`,
      code: 1,
    };
  }
  if (s.unreadable > 0) {
    return {
      line: `${mine}
run finished: all ${s.run.done} files stored, but ${s.unreadable} of this worker's inputs could not be read`,
      code: 1,
    };
  }
  return {
    line: `${mine}
run finished: all ${s.run.done} files stored`,
    code: 0,
  };
}

/** The run's progress as lines for `embed --status`. */
export async function statusLines(url: string): Promise<string[]> {
  const store = await PgQueue.connect(url, { retryFor: 0 });
  try {
    return formatStatus(redactUrl(url), await store.status());
  } finally {
    await store.close();
  }
}

/** `embed --status`'s lines for a run's status. */
export function formatStatus(label: string, s: RunStatus): string[] {
  const total = s.pending + s.running + s.done + s.failed;
  const eta = s.etaSeconds === null ? "—" : `${Math.round(s.etaSeconds)} s`;
  const lines = [
    `${label}: ${s.done} of ${total} stored, ${s.running} in flight` +
    (s.lapsed ? ` (${s.lapsed} with a lapsed lease)` : "") + `, ${s.pending} waiting, ${s.failed} failed`,
    `rate ${s.perMinute.toFixed(1)} songs/min, ${
      s.windowsPerSecond.toFixed(1)
    } windows/s (last 5 min) · ETA ${eta}` +
    ` · ${s.lapses} leases lapsed and taken over`,
  ];
  for (const w of s.workers) {
    lines.push(
      `  worker ${w.id}: ${w.done} stored, ${w.failed} failed, ${w.inFlight} in flight, ` +
        (w.lost ? `${w.lost} results dropped, ` : "") +
        `heartbeat ${w.heartbeatAge.toFixed(0)} s ago, worst renewal gap ${w.worstRenewalGap.toFixed(2)} s`,
    );
    for (const f of s.inFlight.filter((f) => f.worker === w.id)) {
      lines.push(
        `    ${printable(f.songId)}: ${f.lapsed ? "LEASE LAPSED, " : ""}renewed ${
          f.leaseAge.toFixed(1)
        } s ago` +
          (f.lapses ? `, taken over ${f.lapses} times` : ""),
      );
    }
  }
  for (const f of s.failures) lines.push(`  ✗ ${f.path}: ${f.error} (${f.attempts} attempts)`);
  return lines;
}
