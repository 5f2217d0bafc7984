/**
 * Embedding a collection: find the audio files, skip what is already stored
 * with the same content and model configuration, embed the rest (reading and
 * decoding the next file while the network works on the current one), pool
 * the frame embeddings into one vector per song, and store each song in one
 * transaction. Failures are recorded and the run goes on; Ctrl-C stops
 * between batches.
 *
 * The steps live in their own modules: `discovery.ts` (which files),
 * `embedder.ts` (one signal through the network), `model/pooling.ts`,
 * `npz_export.ts`, `progress.ts`, and the store.
 *
 * @module
 */

import { join } from "node:path";
import { gpuDecision, openGpu } from "../gpu/device.ts";
import { isGpuBackend } from "../model/inference.ts";
import { checkPooling, type Pooling } from "../model/pooling.ts";
import { configKey, type ModelConfig } from "../store/model_config.ts";
import { pathId } from "../store/song_id.ts";
import { openStore, type SongStore, type StoredConfig, StoreError } from "../store/store.ts";
import { ArgumentError, FileError, OpenL3Error, printable } from "../util/errors.ts";
import { TOOL_VERSION } from "../util/version.ts";
import { EMBED_DEFAULTS } from "./defaults.ts";
import { AUDIO_EXTENSIONS, describePassedOver, findAudioFiles } from "./discovery.ts";
import { EmbedInterrupted, embedSong } from "./embed_song.ts";
import { createEmbedder, type Embedder, type EmbedderOptions, numbersOf, prepareModel } from "./embedder.ts";
import { checkRange } from "./embed_options.ts";
import { type FeedJob, FeedPool } from "./feed_pool.ts";
import { checkSuffix, npzNames, readNpzManifest, writeEmbeddingNpz, writeNpzManifest } from "./npz_export.ts";
import { Progress } from "./progress.ts";
import { TIMELINE_VERSION } from "../frontend/timeline.ts";
import { adoptStoredConfig, knownSettings, refuseOtherConfig } from "./stored_config.ts";

export { AUDIO_EXTENSIONS } from "./discovery.ts";

/** Options of {@linkcode embedCollection}. */
export interface CollectionOptions extends EmbedderOptions {
  /** Files and folders (walked recursively). */
  inputs: string[];
  /** SQLite database path. */
  db: string;
  /**
   * Frame embeddings → one vector per song.
   * @default {"max"}
   */
  pool?: Pooling;
  /** Also store every frame embedding with its timestamp. */
  frames?: boolean;
  /** Write one OpenL3-style `.npz` (embedding, timestamps) per file here. */
  outputDir?: string;
  /** Suffix of the `.npz` names (`<stem>_<suffix>.npz`, as openl3's `--suffix`). */
  suffix?: string;
  /** Recompute even when stored with the same content and configuration. */
  force?: boolean;
  /** Remove stored songs under the input folders whose files are gone. */
  prune?: boolean;
  /**
   * Longest audio accepted per file, in seconds (a header declaring more is refused before decoding).
   * @default {14400}
   */
  maxDuration?: number;
  /**
   * Worker threads that decode, resample and frame (and run the CPU frontend) ahead of the network;
   * 0 does it all in this thread. Default: {@linkcode defaultWorkers}.
   */
  workers?: number;
  /** Extensions to pick up in folders; default {@linkcode AUDIO_EXTENSIONS}. */
  extensions?: string[];
  /** Song id of a file: default its real absolute path (unique and stable across runs). */
  idOf?: (path: string) => string;
  /** Stop between batches when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** One line per file (✓/✗/skip); default: printed to stdout. */
  onFile?: (line: string) => void;
  /** Where progress lines go; default stderr (redrawn in place on a terminal). */
  onProgress?: (line: string) => void;
  /** No per-file lines, no progress. */
  quiet?: boolean;
}

/** What a run did. */
export interface CollectionSummary {
  /** Audio files found. */
  total: number;
  /** Files embedded and stored. */
  embedded: number;
  /** Files already stored with the same content and configuration. */
  skipped: number;
  /** Files whose bytes equal a stored song's (another path): stored as copies, not embedded again. */
  copied: number;
  /** Unchanged files read again only for the timeline they lacked (stored before timelines existed). */
  timelines: number;
  /** Files that could not be embedded (recorded in the failures table). */
  failed: number;
  /** Stored songs removed because their files are gone. */
  pruned: number;
  /** Files in the folders that were not audio this tool reads, e.g. "3 .wma, 1 .txt". */
  passedOver: string;
  /** Stopped by Ctrl-C (or the signal) before the end. */
  interrupted: boolean;
  /** Wall-clock seconds. */
  seconds: number;
  /** Seconds of audio embedded. */
  audioSeconds: number;
}

/** Errors that mean "this file is bad", not "this tool is broken". */
function isInputError(e: unknown): boolean {
  return e instanceof OpenL3Error || e instanceof Deno.errors.NotFound ||
    e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.IsADirectory;
}

/** What a failure line says about a file (the error without the file name, which the line already gives). */
function problemOf(e: unknown): string {
  return e instanceof FileError ? e.problem : (e as Error).message;
}

/**
 * Feed workers by default. On two cores or fewer, none: the feed then runs in the main thread while it
 * awaits the network (whose own threads fill both cores), which measured faster than a worker
 * competing with them (`deno task bench-embed`: 1.10 against 1.12 × the network alone). Above that,
 * one per core beyond the main thread's, at most 8; a worker with nothing to do waits for credits.
 */
export function defaultWorkers(cores = navigator.hardwareConcurrency ?? 2): number {
  return cores <= 2 ? 0 : Math.min(8, cores - 1);
}

/**
 * Embed every audio file of the inputs into the database.
 *
 * @throws {ArgumentError} for a bad option, before anything is loaded.
 * @throws {OpenL3Error} when the inputs hold no audio file this tool reads.
 *
 * @example
 * ```ts ignore
 * import { embedCollection } from "./collection.ts";
 * const summary = await embedCollection({ inputs: ["music/"], db: "metadata/songs.db", weights: "w.h5" });
 * ```
 */
export async function embedCollection(options: CollectionOptions): Promise<CollectionSummary> {
  const started = performance.now();
  checkPooling(options.pool);
  const quiet = options.quiet ?? false;
  const maxDuration = options.maxDuration ?? EMBED_DEFAULTS.maxDuration;
  if (!(maxDuration > 0)) {
    throw new ArgumentError(`--max-duration must be a positive number of seconds, got ${maxDuration}`);
  }
  checkRange("max-duration", maxDuration);
  checkSuffix(options.suffix);
  if (options.workers !== undefined) checkRange("workers", options.workers);
  const idOf = options.idOf ?? pathId;
  const found = await findAudioFiles(options.inputs, options.extensions);
  const files = found.files;
  const passedOver = describePassedOver(found.passedOver);
  // an unreadable folder or a missing input: one line each (always), the rest is embedded, the exit says 1
  for (const u of found.unreadable) console.error(`✗ ${printable(u.path)}: ${u.problem}`);
  if (files.length === 0) {
    throw new OpenL3Error(
      `no audio files to embed in ${options.inputs.join(", ")}` +
        (found.unreadable.length
          ? ` (${found.unreadable.length} unreadable: ${
            found.unreadable.map((u) => printable(u.path)).join(", ")
          })`
          : passedOver
          ? ` (passed over: ${passedOver})`
          : " (the folders are empty)") +
        `; this tool reads ${(options.extensions ?? AUDIO_EXTENSIONS).join(" ")}`,
    );
  }
  const progress = quiet ? undefined : new Progress({ total: files.length, write: options.onProgress });
  const print = options.onFile ?? ((line: string) => console.log(line));
  const say = (line: string) => {
    if (quiet) return;
    progress?.clear();
    print(line);
  };
  if (passedOver) say(`note: passed over ${passedOver} (not audio this tool reads)`);
  for (const s of found.special) say(`note: passed over ${printable(s)} (not a regular file)`);
  for (const l of found.linksSkipped) {
    say(`note: passed over the link ${printable(l.path)} → ${printable(l.target)}: ${l.why}`);
  }

  const summary: CollectionSummary = {
    total: files.length,
    embedded: 0,
    skipped: 0,
    copied: 0,
    timelines: 0,
    failed: found.unreadable.length,
    pruned: 0,
    passedOver,
    interrupted: false,
    seconds: 0,
    audioSeconds: 0,
  };
  // one configuration per database: what the caller left unset comes from the stored songs (their weights
  // found again by hash), and a run that differs is refused before any file is read
  const existing = await storedConfigsOf(options.db);
  const choice = await adoptStoredConfig(
    { ...options, pool: options.pool },
    existing.length === 1 ? existing[0] : undefined,
    options.db,
    quiet ? undefined : (line) => console.error(line),
  );
  const pool = choice.pool ?? EMBED_DEFAULTS.pool;
  // what differs is known before the model is loaded (an int8 network is calibrated then): refuse now
  refuseOtherConfig(options.db, existing, knownSettings(choice));
  const prepared = await prepareModel({ ...choice, verbose: options.verbose ?? !quiet });
  const numbers = numbersOf(prepared, pool);
  refuseOtherConfig(options.db, existing, numbers);
  const key = configKey(numbers);
  const ids = files.map(idOf);
  // the .npz names: a name an earlier run gave another song stays that song's (the folder's manifest says)
  const manifest = options.outputDir ? await readNpzManifest(options.outputDir) : {};
  const npz = options.outputDir ? await npzNames(ids, options.suffix ?? "", manifest) : undefined;
  for (const stem of npz?.clashes ?? []) {
    say(`note: several files are named ${stem}: their .npz names carry a hash`);
  }
  // where the frontend will run decides what the workers deliver: patches (CPU) or samples (GPU)
  const o = prepared.options;
  const gpu = o.device !== "cpu" || o.backend === "auto" || isGpuBackend(o.backend) ? await openGpu() : null;
  const frontendOnGpu = gpuDecision(o.device, gpu, "--device").use;
  const batchSize = o.batchSize ??
    (frontendOnGpu || (gpu && !gpu.software && o.backend !== "native" && o.backend !== "wasm")
      ? EMBED_DEFAULTS.gpuBatchSize
      : EMBED_DEFAULTS.cpuBatchSize);
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 0) {
    throw new ArgumentError(`--workers must be a whole number ≥ 0, got ${workers}`);
  }
  const store = await openStore(options.db);
  // the first run to claim the database's configuration holds it: a run started together with another
  // configuration refuses here, before anything is stored
  try {
    const held = await store.claimConfig({ ...numbers, weightsProvenance: prepared.model.provenance });
    refuseOtherConfig(options.db, held, numbers);
  } catch (e) {
    await store.close();
    throw e;
  }
  // the collection's roots: the explorer serves audio only from inside the folders (and files) given here
  await store.addRoots(
    (await Promise.all(options.inputs.map((i) => Deno.realPath(i).catch(() => null)))).filter((p) =>
      p !== null
    ),
  );
  let embedder: Embedder | undefined;
  let config: ModelConfig | undefined;
  let closeFeed: (() => void) | undefined;
  try {
    if (options.prune) {
      const gone: string[] = [];
      for (const input of options.inputs) {
        for (const s of await store.songPaths(pathId(input))) {
          try {
            await Deno.stat(s.path);
          } catch {
            gone.push(s.songId);
          }
        }
      }
      await store.remove(gone);
      summary.pruned = gone.length;
      if (gone.length) say(`pruned ${gone.length} songs whose files are gone`);
    }
    if (options.outputDir) await Deno.mkdir(options.outputDir, { recursive: true });
    const npzOf = (id: string) => join(options.outputDir!, npz!.names.get(id)!);
    // an .npz is up to date when it is there and the manifest says it holds this song, this content, this
    // configuration; otherwise the song is embedded again and the file rewritten
    const npzStale = async (id: string, sha256: string) => {
      if (options.outputDir === undefined) return false;
      const entry = manifest[npz!.names.get(id)!];
      return !(await Deno.stat(npzOf(id)).then(() => true, () => false)) || entry?.song !== id ||
        entry.sha256 !== sha256 || entry.config !== key;
    };

    const twins = new Map<number, string>(); // file index → stored song with the same bytes
    const withTimeline = await store.timelineIds(TIMELINE_VERSION);
    // the feed: workers hash, decode, resample, frame and (on the CPU) compute the patches, a few files
    // ahead; a file already stored (same content, same configuration, its .npz there) is never decoded
    const feed = new FeedPool({
      workers,
      hopSize: numbers.hopSize,
      center: numbers.center,
      batchSize,
      maxDuration,
      repr: frontendOnGpu ? null : numbers.inputRepr,
      timeline: true,
    }, async (i, hash) => {
      const stored = await store.song(ids[i]);
      const unchanged = !options.force && stored?.contentHash === hash.sha256 && stored?.configKey === key;
      // unchanged: skipped, or read again for its timeline alone when it was stored before timelines were
      if (unchanged && !(await npzStale(ids[i], hash.sha256))) {
        return withTimeline.has(ids[i]) ? false : "timeline";
      }
      // a byte-identical copy of a stored song (same configuration) is not embedded again: its vector is
      // copied (unless frames are wanted in files, which only an embedding gives)
      if (!options.force && !options.outputDir) {
        const twin = await store.songByContent(hash.sha256, key, ids[i]);
        if (twin !== undefined) {
          twins.set(i, twin);
          return false;
        }
      }
      return true;
    });
    closeFeed = () => feed.close();
    const jobs: FeedJob[] = [];
    const ahead = Math.max(1, workers) + 1;
    for (let i = 0; i < files.length; i++) {
      while (jobs.length < Math.min(files.length, i + ahead)) {
        jobs.push(feed.submit(jobs.length, files[jobs.length]));
      }
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const job = jobs[i], id = ids[i], path = files[i];
      let hash: { sha256: string; size: number } | undefined = undefined;
      try {
        hash = await job.hashed();
        const decision = await job.decision();
        if (decision === "timeline") {
          await job.info();
          await job.next(); // the whole file, for its timeline only (no window is cut)
          const timeline = job.result?.timeline;
          if (timeline) await store.putTimeline(id, timeline);
          summary.timelines++;
          summary.skipped++;
          say(`~ ${printable(id)}: unchanged; its timeline added (for duplicates)`);
          progress?.finish();
          continue;
        }
        if (!decision) {
          const twin = twins.get(i);
          if (twin !== undefined) {
            await store.copySong(twin, id, pathId(path));
            summary.copied++;
            say(`= ${printable(id)}: the same bytes as ${printable(twin)}, its vector copied`);
          } else {
            summary.skipped++;
            say(`- ${printable(id)}: unchanged, skipped`);
          }
          progress?.finish();
          continue;
        }
        const { info, expectedWindows } = await job.info();
        const declared = info.declaredFrames === undefined ? 0 : info.declaredFrames / info.sampleRate;
        progress?.start(path, declared);
        if (!embedder) {
          progress?.clear();
          embedder = await createEmbedder(choice, { ...prepared, gpu });
          config = {
            ...numbers,
            weightsProvenance: embedder.model.provenance,
            frontend: embedder.frontend.kind,
            backend: embedder.session.backend,
            toolVersion: TOOL_VERSION,
          };
        }
        const song = await embedSong(embedder, job, {
          pool,
          keepFrames: !!(options.frames || options.outputDir),
          onProgress: (f) => progress?.update(f),
          expectedWindows,
          signal: options.signal,
        });
        const result = job.result!;
        const duration = result.frames / result.sampleRate;
        await store.putSong(
          {
            songId: id,
            path: pathId(path),
            duration,
            sampleRate: result.sampleRate,
            channels: info.channelCount,
            format: info.format,
            size: hash!.size,
            contentHash: hash!.sha256,
            tags: Object.keys(info.tags).length ? info.tags as Record<string, string> : undefined,
            windows: song.windows,
          },
          song.vector!,
          config!,
          options.frames ? song.frames : undefined,
          result.timeline,
        );
        if (options.outputDir) {
          await writeEmbeddingNpz(npzOf(id), song.frames!);
          manifest[npz!.names.get(id)!] = { song: id, sha256: hash!.sha256, config: key };
          await writeNpzManifest(options.outputDir, manifest);
        }
        summary.embedded++;
        summary.audioSeconds += duration;
        say(
          `✓ ${printable(id)}: (${embedder.size},) from ${song.windows} windows${
            result.warnings.length ? ` [${result.warnings.join("; ")}]` : ""
          }`,
        );
        progress?.finish(duration);
      } catch (err) {
        if (err instanceof EmbedInterrupted) {
          summary.interrupted = true;
          say(`… ${printable(id)}: interrupted, not stored`);
          break;
        }
        // the database itself, or a bug: stop; bad input: record and go on
        if (err instanceof StoreError || !isInputError(err)) throw err;
        summary.failed++;
        // a stored vector of content the file no longer has must not outlive it
        const stored = await store.song(id);
        const stale = stored && hash !== undefined && stored.contentHash !== hash.sha256 ? id : undefined;
        await store.putFailure(pathId(path), (err as Error).message, stale);
        say(`✗ ${printable(id)}: ${problemOf(err)}`);
        progress?.finish();
      }
    }
  } finally {
    progress?.clear();
    closeFeed?.();
    await embedder?.close();
    if (!embedder) gpu?.device.destroy();
    await store.close();
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/**
 * The configurations of an existing database's songs (none for a new one). Read-only first, so that a bad
 * option refused later leaves the file untouched; another process creating the same database at this very
 * moment can make a read-only open fail, and then it is read through a writing connection, which waits.
 */
async function storedConfigsOf(db: string): Promise<StoredConfig[]> {
  if (!(await Deno.stat(db).then((s) => s.isFile, () => false))) return [];
  try {
    return await withStore(await openStore(db, { readOnly: true }), (s) => s.storedConfigs());
  } catch {
    return await withStore(await openStore(db), (s) => s.storedConfigs());
  }
}

/** Run `fn` on a store and close it, whatever happens. */
async function withStore<T>(store: SongStore, fn: (s: SongStore) => Promise<T>): Promise<T> {
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The summary in one line. */
export function formatSummary(s: CollectionSummary): string {
  const parts = [
    `${s.embedded} embedded`,
    ...(s.copied ? [`${s.copied} copies stored`] : []),
    `${s.skipped} skipped`,
    ...(s.timelines ? [`${s.timelines} read again for their timelines`] : []),
  ];
  parts.push(`${s.failed} failed`);
  if (s.pruned) parts.push(`${s.pruned} pruned`);
  return `${parts.join(", ")} of ${s.total} files in ${s.seconds.toFixed(1)} s` +
    (s.audioSeconds > 0 ? ` (${(s.audioSeconds / s.seconds).toFixed(1)} s of audio per second)` : "") +
    (s.interrupted ? "; INTERRUPTED" : "");
}
