/**
 * Embedding a collection: find the audio files, skip what is already stored
 * with the same content and model configuration, embed the rest (decoding the
 * next file while the network works on the current one), pool the frame
 * embeddings into one vector per song, and store each song in one transaction.
 * Failures are recorded and the run goes on; Ctrl-C stops between batches.
 *
 * @module
 */

import { extname, join, relative } from "node:path";
import { pathId } from "../store/song_id.ts";

export { pathId, stemId } from "../store/song_id.ts";
import { decodeAudioBytes, type DecodedAudio, toMono } from "../audio/decode.ts";
import { ArgumentError, OpenL3Error } from "../util/errors.ts";
import { createEmbedder, type Embedder, type EmbedderOptions, embedSource } from "./embedder.ts";
import { planFrames, sourceAt48k } from "../audio/frame.ts";
import { encodeNpz } from "../util/npz.ts";
import { sha256 } from "../util/hash.ts";
import { configKey, type ModelConfig, Store, StoreError } from "../store/sqlite_store.ts";
import { TOOL_VERSION } from "../util/version.ts";

/** File extensions picked up when walking folders (explicit files are always tried). */
export const AUDIO_EXTENSIONS = [".mp3", ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus"];

/** How frame embeddings become one vector per song. */
export type Pooling = "max" | "mean";

/** Options of {@linkcode embedCollection}. */
export interface CollectionOptions extends EmbedderOptions {
  /** Files and folders (walked recursively). */
  inputs: string[];
  /** SQLite database path. */
  db: string;
  /** default `max` (the original project's choice). */
  pool?: Pooling;
  /** Also store every frame embedding with its timestamp. */
  frames?: boolean;
  /** Write one OpenL3-style `.npz` (embedding, timestamps) per file here. */
  outputDir?: string;
  /** Recompute even when stored with the same content and configuration. */
  force?: boolean;
  /** Remove stored songs under the input folders whose files are gone. */
  prune?: boolean;
  /** Extensions to pick up in folders; default {@linkcode AUDIO_EXTENSIONS}. */
  extensions?: string[];
  /** Song id of a file: default its real absolute path (unique and stable across runs). */
  idOf?: (path: string) => string;
  /** Stop between batches when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** One line per file (✓/✗/skip); default: printed to stdout. */
  onFile?: (line: string) => void;
  /** Progress line (count, rate, ETA); default: stderr unless quiet. */
  onProgress?: (line: string) => void;
  /** No per-file lines, no progress. */
  quiet?: boolean;
}

/** What a run did. */
export interface CollectionSummary {
  total: number;
  embedded: number;
  skipped: number;
  failed: number;
  pruned: number;
  interrupted: boolean;
  /** Wall-clock seconds. */
  seconds: number;
  /** Seconds of audio embedded. */
  audioSeconds: number;
}

/** Every audio file under the inputs, sorted, each once. */
export async function findAudioFiles(inputs: string[], extensions = AUDIO_EXTENSIONS): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (dir: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && extensions.includes(extname(e.name).toLowerCase())) found.add(p);
    }
  };
  for (const input of inputs) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(input);
    } catch {
      throw new ArgumentError(`input not found: ${input}`);
    }
    if (info.isDirectory) await walk(input);
    else found.add(input);
  }
  return [...found];
}

class Interrupted extends OpenL3Error {}

/** Errors that mean "this file is bad", not "this tool is broken". */
function isInputError(e: unknown): boolean {
  return e instanceof OpenL3Error || e instanceof Deno.errors.NotFound ||
    e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.IsADirectory;
}

interface Prepared {
  path: string;
  id: string;
  bytes?: Uint8Array;
  hash?: string;
  size?: number;
  audio?: DecodedAudio;
  error?: Error;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60), h = Math.floor(m / 60);
  return h > 0
    ? `${h}h${String(m % 60).padStart(2, "0")}m`
    : m > 0
    ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`
    : `${s.toFixed(0)}s`;
}

/**
 * Embed every audio file of the inputs into the database.
 *
 * @example
 * ```ts ignore
 * import { embedCollection } from "./collection.ts";
 * const summary = await embedCollection({ inputs: ["music/"], db: "metadata/songs.db", weights: "w.h5" });
 * ```
 */
export async function embedCollection(options: CollectionOptions): Promise<CollectionSummary> {
  const started = performance.now();
  const pool = options.pool ?? "max";
  if (pool !== "max" && pool !== "mean") throw new ArgumentError(`--pool must be max or mean, got "${pool}"`);
  const quiet = options.quiet ?? false;
  const say = options.onFile ?? ((line: string) => console.log(line));
  const progress = options.onProgress ?? ((line: string) => console.error(line));
  const idOf = options.idOf ?? pathId;
  const files = await findAudioFiles(options.inputs, options.extensions);
  const store = Store.open(options.db);
  const summary: CollectionSummary = {
    total: files.length,
    embedded: 0,
    skipped: 0,
    failed: 0,
    pruned: 0,
    interrupted: false,
    seconds: 0,
    audioSeconds: 0,
  };
  let embedder: Embedder | undefined;
  let config: ModelConfig | undefined;
  try {
    if (options.prune) {
      const gone: string[] = [];
      for (const input of options.inputs) {
        const root = pathId(input);
        for (const s of store.songPaths(root)) {
          try {
            await Deno.stat(s.path);
          } catch {
            gone.push(s.songId);
          }
        }
      }
      store.remove(gone);
      summary.pruned = gone.length;
      if (!quiet && gone.length) say(`pruned ${gone.length} songs whose files are gone`);
    }
    if (options.outputDir) await Deno.mkdir(options.outputDir, { recursive: true });

    // The skip check needs the weights' hash, which the model store gives when the model is loaded, so the
    // embedder is created before the first file is checked (once per run).
    const ensureEmbedder = async () => {
      if (embedder) return embedder;
      embedder = await createEmbedder({ ...options, verbose: !quiet });
      config = {
        inputRepr: embedder.model.repr,
        contentType: embedder.model.content,
        embeddingSize: embedder.size,
        weightsHash: embedder.model.weightsHash,
        hopSize: embedder.hopSize,
        center: embedder.center,
        pooling: pool,
        frontend: embedder.frontend.kind,
        backend: embedder.session.backend,
        toolVersion: TOOL_VERSION,
      };
      return embedder;
    };

    const prepare = async (path: string): Promise<Prepared> => {
      const p: Prepared = { path, id: idOf(path) };
      try {
        p.bytes = await Deno.readFile(path);
        p.size = p.bytes.length;
        p.hash = await sha256(p.bytes);
      } catch (e) {
        p.error = e as Error;
      }
      return p;
    };
    const decode = async (p: Prepared) => {
      if (p.error || p.audio) return;
      try {
        p.audio = await decodeAudioBytes(p.bytes!, p.path);
      } catch (e) {
        p.error = e as Error;
      }
      p.bytes = undefined;
    };

    let next: Promise<Prepared> | undefined = files.length ? prepare(files[0]) : undefined;
    for (let i = 0; i < files.length; i++) {
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const p = await next!;
      const e = await ensureEmbedder();
      const stored = p.error ? undefined : store.song(p.id);
      if (
        !options.force && stored && stored.contentHash === p.hash && stored.configKey === configKey(config!)
      ) {
        summary.skipped++;
        if (!quiet) say(`- ${p.id}: unchanged, skipped`);
        next = i + 1 < files.length ? prepare(files[i + 1]) : undefined;
        continue;
      }
      await decode(p);
      // start reading and decoding the next file while this one is in the network
      next = i + 1 < files.length ? prepare(files[i + 1]).then(async (n) => (await decode(n), n)) : undefined;
      try {
        if (p.error) throw p.error;
        const audio = p.audio!;
        p.audio = undefined;
        const mono = toMono(audio.channels);
        const source = sourceAt48k(mono, audio.sampleRate);
        const plan = planFrames(source.length, { hopSize: e.hopSize, center: e.center });
        const vector = new Float64Array(e.size).fill(pool === "max" ? -Infinity : 0);
        const keep = options.frames || options.outputDir;
        const frameEmb = keep ? new Float32Array(plan.windows * e.size) : undefined;
        const stamps = new Float64Array(plan.windows);
        await embedSource(e, source, (b) => {
          if (options.signal?.aborted) throw new Interrupted("interrupted");
          for (let k = 0; k < b.count; k++) {
            const row = b.embedding.subarray(k * e.size, (k + 1) * e.size);
            if (pool === "max") { for (let d = 0; d < e.size; d++) vector[d] = Math.max(vector[d], row[d]); }
            else for (let d = 0; d < e.size; d++) vector[d] += row[d];
          }
          frameEmb?.set(b.embedding.subarray(0, b.count * e.size), b.start * e.size);
          stamps.set(b.timestamps, b.start);
        });
        if (pool === "mean") { for (let d = 0; d < e.size; d++) vector[d] /= plan.windows; }
        const duration = mono.length / audio.sampleRate;
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
            windows: plan.windows,
          },
          vector,
          config!,
          options.frames ? { embedding: frameEmb!, timestamps: stamps, size: e.size } : undefined,
        );
        if (options.outputDir) {
          const out = join(
            options.outputDir,
            `${relative(".", p.path).replace(/[\\/]/g, "__").replace(/\.[^.]+$/, "")}.npz`,
          );
          const tmp = `${out}.part`;
          await Deno.writeFile(
            tmp,
            encodeNpz({
              embedding: { data: frameEmb!, shape: [plan.windows, e.size] },
              timestamps: { data: stamps, shape: [plan.windows] },
            }),
          );
          await Deno.rename(tmp, out);
        }
        summary.embedded++;
        summary.audioSeconds += duration;
        const notes = [...audio.warnings, ...plan.warnings];
        if (!quiet) {
          say(
            `✓ ${p.id}: (${e.size},) from ${plan.windows} windows${
              notes.length ? ` [${notes.join("; ")}]` : ""
            }`,
          );
        }
      } catch (err) {
        if (err instanceof Interrupted) {
          summary.interrupted = true;
          if (!quiet) say(`… ${p.id}: interrupted, not stored`);
          break;
        }
        // the database itself, or a bug: stop; bad input: record and go on
        if (err instanceof StoreError || !isInputError(err)) throw err;
        const message = (err as Error).message;
        summary.failed++;
        store.putFailure(pathId(p.path), message);
        if (!quiet) say(`✗ ${p.id}: ${message}`);
      }
      if (!quiet) {
        const elapsed = (performance.now() - started) / 1000;
        const done = i + 1;
        const rate = done / elapsed;
        const eta = (files.length - done) / rate;
        progress(
          `[${done}/${files.length}] ${rate.toFixed(2)} files/s, ${
            (summary.audioSeconds / elapsed).toFixed(1)
          } s of audio/s, ETA ${formatDuration(eta)}`,
        );
      }
    }
  } finally {
    await (embedder as Embedder | undefined)?.close();
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
