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
import { decodeAudioBytes, type DecodedAudio, toMono } from "../audio/decode.ts";
import { sourceAt48k } from "../audio/frame.ts";
import { FramePooler, type Pooling, POOLINGS } from "../model/pooling.ts";
import { configKey, type ModelConfig, type NumbersConfig } from "../store/model_config.ts";
import { pathId } from "../store/song_id.ts";
import { Store, StoreError } from "../store/sqlite_store.ts";
import { ArgumentError, AudioDecodeError, OpenL3Error, printable } from "../util/errors.ts";
import { sha256 } from "../util/hash.ts";
import { countNonFinite } from "../util/vector_math.ts";
import { InputFileError, readInputFile } from "../util/input_file.ts";
import { TOOL_VERSION } from "../util/version.ts";
import { EMBED_DEFAULTS } from "./defaults.ts";
import { AUDIO_EXTENSIONS, describePassedOver, findAudioFiles } from "./discovery.ts";
import {
  createEmbedder,
  type Embedder,
  type EmbedderOptions,
  embedSource,
  prepareModel,
} from "./embedder.ts";
import { type FrameEmbeddings, npzNames, writeEmbeddingNpz } from "./npz_export.ts";
import { Progress } from "./progress.ts";

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
  /** Files that could not be embedded (recorded in the failures table). */
  failed: number;
  /** Stored songs removed because their files are gone. */
  pruned: number;
  /** Files in the folders that were not audio this tool reads, e.g. "3 .m4a, 1 .txt". */
  passedOver: string;
  /** Stopped by Ctrl-C (or the signal) before the end. */
  interrupted: boolean;
  /** Wall-clock seconds. */
  seconds: number;
  /** Seconds of audio embedded. */
  audioSeconds: number;
}

class Interrupted extends OpenL3Error {}

/** Errors that mean "this file is bad", not "this tool is broken". */
function isInputError(e: unknown): boolean {
  return e instanceof OpenL3Error || e instanceof Deno.errors.NotFound ||
    e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.IsADirectory;
}

/** What a failure line says about a file (the error without the file name, which the line already gives). */
function problemOf(e: unknown): string {
  return e instanceof AudioDecodeError || e instanceof InputFileError ? e.problem : (e as Error).message;
}

/** A file read (and hashed), and decoded when it must be embedded. */
interface Prepared {
  path: string;
  id: string;
  bytes?: Uint8Array;
  hash?: string;
  size?: number;
  audio?: DecodedAudio;
  error?: unknown;
}

async function readFile(path: string, id: string): Promise<Prepared> {
  const p: Prepared = { path, id };
  try {
    p.bytes = await readInputFile(path, { what: "an audio file" });
    p.size = p.bytes.length;
    p.hash = await sha256(p.bytes);
  } catch (e) {
    p.error = e;
  }
  return p;
}

async function decode(p: Prepared, maxDuration: number): Promise<Prepared> {
  if (p.error || p.audio || !p.bytes) return p;
  try {
    p.audio = await decodeAudioBytes(p.bytes, p.path, { maxDuration });
  } catch (e) {
    p.error = e;
  }
  p.bytes = undefined;
  return p;
}

/** A song embedded: its vector, and its frames when they are kept. */
interface SongResult {
  vector: Float64Array;
  frames?: FrameEmbeddings;
  windows: number;
  warnings: string[];
}

/** One decoded file through the pipeline, pooled (and its frames kept when asked). */
async function embedSong(
  e: Embedder,
  audio: DecodedAudio,
  pool: Pooling,
  keepFrames: boolean,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<SongResult> {
  const pooler = new FramePooler(pool, e.size);
  let frames: FrameEmbeddings | undefined;
  const plan = await embedSource(e, sourceAt48k(toMono(audio.channels), audio.sampleRate), (b) => {
    if (signal?.aborted) throw new Interrupted("interrupted");
    if (keepFrames && b.start === 0) {
      frames = {
        embedding: new Float32Array(b.windows * e.size),
        timestamps: new Float64Array(b.windows),
        windows: b.windows,
        size: e.size,
      };
    }
    pooler.add(b.embedding, b.count);
    frames?.embedding.set(b.embedding.subarray(0, b.count * e.size), b.start * e.size);
    frames?.timestamps.set(b.timestamps, b.start);
    onProgress((b.start + b.count) / b.windows);
  });
  const vector = pooler.result();
  // a non-finite embedding is never stored: it would rank first or last against everything
  const bad = countNonFinite(vector) + (frames ? countNonFinite(frames.embedding) : 0);
  if (bad > 0) {
    throw new NonFiniteEmbeddingError(
      `the network (${e.session.backend}) gave ${bad} NaN or infinite values: not stored`,
    );
  }
  return { vector, frames, windows: plan.windows, warnings: plan.warnings };
}

/** The network gave NaN or infinite values for a file. */
export class NonFiniteEmbeddingError extends OpenL3Error {}

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
  const pool = options.pool ?? EMBED_DEFAULTS.pool;
  if (!POOLINGS.includes(pool)) {
    throw new ArgumentError(`--pool must be one of ${POOLINGS.join(", ")}; got "${pool}"`);
  }
  const quiet = options.quiet ?? false;
  const maxDuration = options.maxDuration ?? EMBED_DEFAULTS.maxDuration;
  if (!(maxDuration > 0)) {
    throw new ArgumentError(`--max-duration must be a positive number of seconds, got ${maxDuration}`);
  }
  const idOf = options.idOf ?? pathId;
  const found = await findAudioFiles(options.inputs, options.extensions);
  const files = found.files;
  const passedOver = describePassedOver(found.passedOver);
  if (files.length === 0) {
    throw new OpenL3Error(
      `no audio files to embed in ${options.inputs.join(", ")}` +
        (passedOver ? ` (passed over: ${passedOver})` : " (the folders are empty)") +
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

  const summary: CollectionSummary = {
    total: files.length,
    embedded: 0,
    skipped: 0,
    failed: 0,
    pruned: 0,
    passedOver,
    interrupted: false,
    seconds: 0,
    audioSeconds: 0,
  };
  // the options are checked and the weights loaded before the database is touched
  const prepared = await prepareModel({ ...options, verbose: options.verbose ?? !quiet });
  const numbers: NumbersConfig = {
    inputRepr: prepared.options.inputRepr,
    contentType: prepared.options.contentType,
    embeddingSize: prepared.options.embeddingSize,
    weightsHash: prepared.model.weightsHash,
    hopSize: prepared.options.hopSize,
    center: prepared.options.center,
    pooling: pool,
  };
  const key = configKey(numbers);
  const ids = files.map(idOf);
  const npz = options.outputDir ? await npzNames(ids, options.suffix ?? "") : undefined;
  for (const stem of npz?.clashes ?? []) {
    say(`note: several files are named ${stem}: their .npz names carry a hash`);
  }
  const store = Store.open(options.db);
  let embedder: Embedder | undefined;
  let config: ModelConfig | undefined;
  try {
    if (options.prune) {
      const gone: string[] = [];
      for (const input of options.inputs) {
        for (const s of store.songPaths(pathId(input))) {
          try {
            await Deno.stat(s.path);
          } catch {
            gone.push(s.songId);
          }
        }
      }
      store.remove(gone);
      summary.pruned = gone.length;
      if (gone.length) say(`pruned ${gone.length} songs whose files are gone`);
    }
    if (options.outputDir) await Deno.mkdir(options.outputDir, { recursive: true });
    const npzOf = (id: string) => join(options.outputDir!, npz!.names.get(id)!);
    const npzMissing = async (id: string) =>
      options.outputDir !== undefined && !(await Deno.stat(npzOf(id)).then(() => true, () => false));

    let next: Promise<Prepared> | undefined = readFile(files[0], ids[0]);
    for (let i = 0; i < files.length; i++) {
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const p = await next!;
      const stored = p.error ? undefined : store.song(p.id);
      const unchanged = !options.force && stored?.contentHash === p.hash && stored?.configKey === key;
      if (unchanged && !(await npzMissing(p.id))) {
        summary.skipped++;
        say(`- ${printable(p.id)}: unchanged, skipped`);
        progress?.finish();
        next = i + 1 < files.length ? readFile(files[i + 1], ids[i + 1]) : undefined;
        continue;
      }
      await decode(p, maxDuration);
      // read and decode the next file while this one is in the network
      next = i + 1 < files.length
        ? readFile(files[i + 1], ids[i + 1]).then((n) => decode(n, maxDuration))
        : undefined;
      const duration = p.audio ? p.audio.channels[0].length / p.audio.sampleRate : 0;
      progress?.start(p.path, duration);
      try {
        if (p.error) throw p.error;
        if (!embedder) {
          progress?.clear();
          embedder = await createEmbedder(options, prepared);
        }
        config ??= {
          ...numbers,
          weightsProvenance: embedder.model.provenance,
          frontend: embedder.frontend.kind,
          backend: embedder.session.backend,
          toolVersion: TOOL_VERSION,
        };
        const audio = p.audio!;
        p.audio = undefined;
        const song = await embedSong(
          embedder,
          audio,
          pool,
          !!(options.frames || options.outputDir),
          (f) => progress?.update(f),
          options.signal,
        );
        store.putSong(
          {
            songId: p.id,
            path: pathId(p.path),
            duration,
            sampleRate: audio.sampleRate,
            channels: audio.channelCount,
            format: audio.format,
            size: p.size!,
            contentHash: p.hash!,
            tags: Object.keys(audio.tags).length ? audio.tags as Record<string, string> : undefined,
            windows: song.windows,
          },
          song.vector,
          config,
          options.frames ? song.frames : undefined,
        );
        if (options.outputDir) await writeEmbeddingNpz(npzOf(p.id), song.frames!);
        summary.embedded++;
        summary.audioSeconds += duration;
        const notes = [...audio.warnings, ...song.warnings];
        say(
          `✓ ${printable(p.id)}: (${embedder.size},) from ${song.windows} windows${
            notes.length ? ` [${notes.join("; ")}]` : ""
          }`,
        );
        progress?.finish(duration);
      } catch (err) {
        if (err instanceof Interrupted) {
          summary.interrupted = true;
          say(`… ${printable(p.id)}: interrupted, not stored`);
          break;
        }
        // the database itself, or a bug: stop; bad input: record and go on
        if (err instanceof StoreError || !isInputError(err)) throw err;
        summary.failed++;
        // a stored vector of content the file no longer has must not outlive it
        const stale = stored && p.hash !== undefined && stored.contentHash !== p.hash ? p.id : undefined;
        store.putFailure(pathId(p.path), (err as Error).message, stale);
        say(`✗ ${printable(p.id)}: ${problemOf(err)}`);
        progress?.finish();
      }
    }
  } finally {
    progress?.clear();
    await embedder?.close();
    store.close();
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** The summary in one line. */
export function formatSummary(s: CollectionSummary): string {
  const parts = [`${s.embedded} embedded`, `${s.skipped} skipped`, `${s.failed} failed`];
  if (s.pruned) parts.push(`${s.pruned} pruned`);
  return `${parts.join(", ")} of ${s.total} files in ${s.seconds.toFixed(1)} s` +
    (s.audioSeconds > 0 ? ` (${(s.audioSeconds / s.seconds).toFixed(1)} s of audio per second)` : "") +
    (s.interrupted ? "; INTERRUPTED" : "");
}
