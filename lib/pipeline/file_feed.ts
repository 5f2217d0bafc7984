/**
 * One file's way to the network, streamed: decode a chunk, mix it down (in
 * float64), resample it to 48 kHz, cut it into windows, and — on the CPU —
 * turn each batch of windows into spectrogram patches; on request, the song's
 * timeline (`frontend/timeline.ts`) is built from the same 48 kHz signal as it
 * passes. Memory is a chunk and a batch, whatever the length of the track.
 * This runs in the feed workers (`feed_worker.ts`), or in the calling thread.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type AudioInfo, type AudioStream, openAudio } from "../audio/audio_stream.ts";
import { toMono } from "../audio/decode.ts";
import {
  type FrameOptions,
  type FramePlan,
  WINDOW_SAMPLES,
  type WindowBatch,
  WindowFramer,
} from "../audio/frame.ts";
import { StreamResampler, TARGET_SR } from "../audio/resample.ts";
import { spectrogramBatch } from "../frontend/cpu_spectrogram.ts";
import { FRONTENDS, type InputRepr } from "../frontend/spec.ts";
import { type Timeline, TimelineBuilder } from "../frontend/timeline.ts";
import { InputFileError, notRegular } from "../util/input_file.ts";

/** Options of {@linkcode FileFeed.open}. */
export interface FileFeedOptions extends FrameOptions {
  /** Windows per batch. */
  batchSize: number;
  /** Longest audio accepted, in seconds. */
  maxDuration: number;
  /** Compute the patches here (CPU frontend); null: deliver the windows' samples (for a GPU frontend). */
  repr: InputRepr | null;
  /**
   * Build the song's timeline as the audio passes.
   * @default {false}
   */
  timeline?: boolean;
  /**
   * Cut windows for the network; false: only read the file for its timeline (no batch is delivered).
   * @default {true}
   */
  windows?: boolean;
}

/** A batch ready for the network: patches (CPU frontend) or window samples (GPU frontend). */
export interface FeedBatch {
  /** Index of the first window. */
  start: number;
  /** Windows in the batch. */
  count: number;
  /** (count, 1, bins, frames) float32 patches, when the frontend ran here. */
  patches?: Float32Array;
  /** count × 48000 samples, when the frontend runs elsewhere. */
  samples?: Float64Array;
  /** Seconds, one per window. */
  timestamps: Float64Array;
}

/**
 * The SHA-256 of a file and its size, read in pieces (never whole).
 *
 * @throws {InputFileError} for anything but a readable regular file.
 */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const why = await notRegular(path);
  if (why) throw new InputFileError(path, why);
  const hash = createHash("sha256");
  let size = 0;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw new InputFileError(path, `cannot be read (${(e as Error).message})`, { cause: e });
  }
  try {
    const buf = new Uint8Array(1 << 20);
    for (let n; (n = await file.read(buf)) !== null;) {
      hash.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    file.close();
  }
  return { sha256: hash.digest("hex"), size };
}

/** A file streamed to window batches. */
export class FileFeed {
  /** What the file's header says. */
  readonly info: AudioInfo;
  readonly #stream: AudioStream;
  readonly #options: FileFeedOptions;
  readonly #resampler: StreamResampler | null;
  readonly #framer: WindowFramer;
  readonly #ready: WindowBatch[] = [];
  readonly #out = new Float64Array(1 << 16);
  readonly #timeline: TimelineBuilder | null;
  #plan: FramePlan | undefined;
  #ended = false;

  private constructor(stream: AudioStream, options: FileFeedOptions) {
    this.#stream = stream;
    this.info = stream.info;
    this.#options = options;
    this.#resampler = stream.info.sampleRate === TARGET_SR
      ? null
      : new StreamResampler(stream.info.sampleRate);
    this.#framer = new WindowFramer(options, options.batchSize);
    this.#timeline = options.timeline ? new TimelineBuilder() : null;
  }

  /**
   * Open a file: its header is read and checked here.
   *
   * @throws {AudioDecodeError} naming the file and the problem.
   */
  static async open(path: string, options: FileFeedOptions): Promise<FileFeed> {
    // 64 KiB at a time: a few seconds of compressed audio, well under a second of WAV
    return new FileFeed(
      await openAudio(path, { maxDuration: options.maxDuration, chunkBytes: 1 << 16 }),
      options,
    );
  }

  /** Problems the decoder recovered from. */
  get warnings(): string[] {
    return this.#stream.warnings;
  }

  /** Frames (per channel) decoded so far: the file's length once the feed has ended. */
  get frames(): number {
    return this.#stream.frames;
  }

  /** The framing of the whole file, once the feed has ended (windows, OpenL3's warnings). */
  get plan(): FramePlan | undefined {
    return this.#plan;
  }

  /** The song's timeline, once the feed has ended (when it was asked for). */
  timeline(): Timeline | undefined {
    return this.#ended ? this.#timeline?.result() : undefined;
  }

  /** Windows to expect, from the header's declared length (for progress), when it declares one. */
  get expectedWindows(): number | undefined {
    const frames = this.info.declaredFrames;
    if (frames === undefined) return undefined;
    const n48 = Math.floor(frames * TARGET_SR / this.info.sampleRate);
    const hop = Math.trunc(this.#options.hopSize * TARGET_SR);
    const len = n48 + (this.#options.center ? WINDOW_SAMPLES / 2 : 0);
    return 1 + Math.max(0, Math.ceil((len - WINDOW_SAMPLES) / hop));
  }

  /** The next batch, or null at the end. */
  async next(): Promise<FeedBatch | null> {
    while (this.#ready.length === 0 && !this.#ended) await this.#pump();
    const b = this.#ready.shift();
    return b ? this.#finish(b) : null;
  }

  /** Release the file and the decoder. */
  close(): void {
    this.#stream.close();
  }

  async #pump(): Promise<void> {
    const chunk = await this.#stream.read();
    const r = this.#resampler;
    if (chunk === null) {
      this.#ended = true;
      if (r) {
        r.end();
        this.#drain(r);
      }
      if (this.#options.windows === false) {
        // read for the timeline only: no window
        this.#plan = {
          hopSize: this.#options.hopSize,
          length: 0,
          hop: 0,
          front: 0,
          paddedLength: 0,
          windows: 0,
          warnings: [],
        };
        return;
      }
      const { batches, plan } = this.#framer.end();
      this.#plan = plan;
      this.#ready.push(...batches);
      return;
    }
    if (chunk.length === 0 || chunk[0].length === 0) return;
    const mono = toMono(chunk);
    if (!r) this.#take(this.#cut(mono));
    else {
      r.push(mono);
      this.#drain(r);
    }
  }

  #drain(r: StreamResampler) {
    for (let n; (n = r.read(this.#out)) > 0;) this.#take(this.#cut(this.#out.subarray(0, n)));
  }

  /** 48 kHz samples: into the timeline, and cut into windows (unless only the timeline is wanted). */
  #cut(samples: Float32Array | Float64Array): WindowBatch[] {
    this.#timeline?.push(samples);
    return this.#options.windows === false ? [] : this.#framer.push(samples);
  }

  #take(batches: WindowBatch[]) {
    this.#ready.push(...batches);
  }

  #finish(b: WindowBatch): FeedBatch {
    const repr = this.#options.repr;
    if (!repr) return { start: b.start, count: b.count, samples: b.samples, timestamps: b.timestamps };
    const spec = FRONTENDS[repr];
    const patches = spectrogramBatch(
      b.samples,
      b.count,
      repr,
      new Float32Array(b.count * spec.bins * spec.frames),
    );
    return { start: b.start, count: b.count, patches, timestamps: b.timestamps };
  }
}
