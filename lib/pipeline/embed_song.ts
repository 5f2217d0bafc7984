/**
 * One song through the network, the one way every caller embeds a file: the
 * collection, the PostgreSQL worker, `similar FILE`, the explorer's uploads
 * and `parity`. Batches come from the feed (a worker thread's {@linkcode
 * FeedJob} or a {@linkcode FileFeed} in this thread), go through the
 * network, are pooled into one vector and, when asked, kept as frames; a
 * result holding NaN or infinite values is refused here, once.
 *
 * @module
 */

import { FramePooler, type Pooling } from "../model/pooling.ts";
import { OpenL3Error } from "../util/errors.ts";
import { countNonFinite } from "../util/vector_math.ts";
import { EMBED_DEFAULTS } from "./defaults.ts";
import { embedBatch, type Embedder, type Embeddings } from "./embedder.ts";
import { type FeedBatch, FileFeed } from "./file_feed.ts";
import type { FrameEmbeddings } from "./npz_export.ts";
import type { Timeline } from "../frontend/timeline.ts";

/** Where batches come from: a feed job or a file feed. */
export interface BatchSource {
  /** The next batch, or null at the end. */
  next(): Promise<FeedBatch | null>;
  /** Stop producing (interrupted). */
  cancel?(): void;
}

/** Options of {@linkcode embedSong}. */
export interface EmbedSongOptions {
  /** Pool the frames into one vector this way; none: no vector. */
  pool?: Pooling;
  /** Keep every frame embedding. */
  keepFrames?: boolean;
  /** Windows the file is expected to give (for progress). */
  expectedWindows?: number;
  /** Told the fraction done after each batch (when the windows expected are known). */
  onProgress?: (fraction: number) => void;
  /** Stop between batches. */
  signal?: AbortSignal;
}

/** A song through the network. */
export interface SongEmbedding {
  /** The pooled vector (when a pooling was given). */
  vector?: Float64Array;
  /** Every frame (when kept). */
  frames?: FrameEmbeddings;
  /** Windows embedded. */
  windows: number;
}

/** The network gave NaN or infinite values, or an all-zero vector, for a file: nothing of it is stored. */
export class NonFiniteEmbeddingError extends OpenL3Error {}

/** Stopped between batches by the signal. */
export class EmbedInterrupted extends OpenL3Error {}

/**
 * Every batch of `source` through the network: pooled, kept, checked.
 *
 * @throws {NonFiniteEmbeddingError} when the vector or a kept frame holds NaN or infinite values.
 * @throws {EmbedInterrupted} when `signal` is aborted between batches.
 */
export async function embedSong(
  e: Embedder,
  source: BatchSource,
  options: EmbedSongOptions,
): Promise<SongEmbedding> {
  const pooler = options.pool ? new FramePooler(options.pool, e.size) : undefined;
  const kept: { embedding: Float32Array; timestamps: Float64Array; start: number }[] = [];
  let windows = 0;
  for (let b; (b = await source.next()) !== null;) {
    if (options.signal?.aborted) {
      source.cancel?.();
      throw new EmbedInterrupted("interrupted");
    }
    const embedding = await embedBatch(e, b);
    pooler?.add(embedding, b.count);
    if (options.keepFrames) {
      kept.push({
        embedding: embedding.slice(0, b.count * e.size),
        timestamps: b.timestamps,
        start: b.start,
      });
    }
    windows += b.count;
    if (options.expectedWindows) options.onProgress?.(Math.min(1, windows / options.expectedWindows));
  }
  let frames: FrameEmbeddings | undefined;
  if (options.keepFrames) {
    frames = {
      embedding: new Float32Array(windows * e.size),
      timestamps: new Float64Array(windows),
      windows,
      size: e.size,
    };
    for (const k of kept) {
      frames.embedding.set(k.embedding, k.start * e.size);
      frames.timestamps.set(k.timestamps, k.start);
    }
  }
  const vector = pooler?.result();
  // a non-finite embedding is never stored nor ranked: it would come first or last against everything
  const bad = (vector ? countNonFinite(vector) : 0) + (frames ? countNonFinite(frames.embedding) : 0);
  if (bad > 0) {
    throw new NonFiniteEmbeddingError(
      `the network (${e.session.backend}) gave ${bad} NaN or infinite values: not stored`,
    );
  }
  // nor an all-zero vector: it has no direction, and a broken model or calibration gives one for every song
  if (vector && vector.every((x) => x === 0)) {
    throw new NonFiniteEmbeddingError(
      `the network (${e.session.backend}) gave an all-zero vector (a broken model or int8 calibration?): not stored`,
    );
  }
  return { vector, frames, windows };
}

/** A file embedded in this thread, with what its decoder found. */
export interface FileEmbedding extends SongEmbedding {
  /** Seconds of audio. */
  duration: number;
  /** The file's sample rate. */
  sampleRate: number;
  /** The file's channels. */
  channels: number;
  /** Detected format. */
  format: string;
  /** Tags the file carries (none: undefined). */
  tags?: Record<string, string>;
  /** Warnings of the decoder and of OpenL3's framing. */
  warnings: string[];
  /** The song's timeline (when asked for). */
  timeline?: Timeline;
}

/** Decode a file in this thread and embed it (streamed: memory is a batch, whatever its length). */
export async function embedFileSong(
  e: Embedder,
  path: string,
  options: EmbedSongOptions & { maxDuration?: number; timeline?: boolean },
): Promise<FileEmbedding> {
  const feed = await FileFeed.open(path, {
    hopSize: e.options.hopSize,
    center: e.options.center,
    batchSize: e.batchSize,
    maxDuration: options.maxDuration ?? EMBED_DEFAULTS.maxDuration,
    repr: e.frontend.kind === "cpu" ? e.options.inputRepr : null,
    timeline: options.timeline,
  });
  try {
    const song = await embedSong(e, feed, {
      ...options,
      expectedWindows: options.expectedWindows ?? feed.expectedWindows,
    });
    const tags = Object.keys(feed.info.tags).length ? feed.info.tags as Record<string, string> : undefined;
    return {
      ...song,
      duration: feed.frames / feed.info.sampleRate,
      sampleRate: feed.info.sampleRate,
      channels: feed.info.channelCount,
      format: feed.info.format,
      tags,
      warnings: [...feed.warnings, ...(feed.plan?.warnings ?? [])],
      timeline: feed.timeline(),
    };
  } finally {
    feed.close();
  }
}

/** Every window's embedding of a file, with timestamps (as openl3's `get_audio_embedding` gives them). */
export async function embedFile(
  e: Embedder,
  path: string,
  maxDuration = EMBED_DEFAULTS.maxDuration,
): Promise<Embeddings> {
  const song = await embedFileSong(e, path, { keepFrames: true, maxDuration });
  return { ...song.frames!, warnings: song.warnings };
}
