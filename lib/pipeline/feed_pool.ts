/**
 * The feed: files go to worker threads (`feed_worker.ts`) that hash, decode,
 * mix down, resample, frame and run the CPU frontend, several files in
 * flight; the main thread takes the batches file by file, in order, and runs
 * the network. Each file may run ahead of the network by a few batches only
 * (credits), so memory stays bounded however long the tracks; whether a file
 * is needed at all (already stored?) is decided as soon as its hash is known,
 * so skipped files cost one read.
 *
 * With `workers: 0` the same jobs run in the calling thread, one after the
 * other (for library use, and where workers cannot start).
 *
 * Jobs share workers in turn, so take them in the order they were
 * submitted: a job's batches are produced only as the earlier ones on its
 * worker are taken.
 *
 * @module
 */

import { WebWorker } from "../util/web_worker.ts";
import type { AudioInfo } from "../audio/audio_stream.ts";
import { AudioDecodeError, OpenL3Error } from "../util/errors.ts";
import { InputFileError } from "../util/input_file.ts";
import { type FeedBatch, FileFeed, type FileFeedOptions, hashFile } from "./file_feed.ts";
import type { WireError } from "./feed_worker.ts";
import type { Timeline } from "../frontend/timeline.ts";

/** Options of {@linkcode FeedPool}. */
export interface FeedPoolOptions extends FileFeedOptions {
  /** Worker threads; 0 runs the feed in this thread. */
  workers: number;
  /**
   * Batches a file may run ahead of the network.
   * @default {2}
   */
  credits?: number;
}

/** What a file turned out to be, once streamed. */
export interface FeedResult {
  /** Frames (per channel) decoded. */
  frames: number;
  /** The file's sample rate. */
  sampleRate: number;
  /** Windows embedded. */
  windows: number;
  /** The decoder's and OpenL3's warnings. */
  warnings: string[];
  /** The song's timeline (when the feed builds them). */
  timeline?: Timeline;
}

/** What to do with a hashed file: embed it (`true`), leave it (`false`), or read it for its timeline only. */
export type FeedDecision = boolean | "timeline";

/** Whether a hashed file is to be embedded (it may be stored already). */
export type Decide = (
  id: number,
  hash: { sha256: string; size: number },
) => Promise<FeedDecision> | FeedDecision;

/** The error a worker reported, as the class it was. */
export function fromWire(w: WireError): Error {
  if (w.kind === "AudioDecodeError") return new AudioDecodeError(w.file!, w.problem!);
  if (w.kind === "InputFileError") return new InputFileError(w.file!, w.problem!);
  if (w.kind === "OpenL3Error") return new OpenL3Error(w.message);
  const e = new Error(`feed worker: ${w.message}`);
  if (w.stack) e.stack = w.stack;
  return e;
}

type Event =
  | { type: "hashed"; sha256: string; size: number }
  | { type: "info"; info: AudioInfo; expectedWindows?: number }
  | { type: "batch"; batch: FeedBatch }
  | { type: "done"; result: FeedResult }
  | { type: "error"; error: Error };

/** One file in the feed: its events, in order. */
export class FeedJob {
  /** Its place in the run. */
  readonly id: number;
  /** The file. */
  readonly path: string;
  #events: Event[] = [];
  #waiter?: () => void;
  #credit: (n: number) => void;
  #cancel: () => void;
  /** The file's hash (and size), when it has arrived. */
  hash?: { sha256: string; size: number };
  #decision?: Promise<FeedDecision>;
  #decided?: () => void;

  /** @internal */
  decide(go: Promise<FeedDecision>): void {
    this.#decision = go;
    this.#decided?.();
  }

  /** Whether the file is to be embedded (or read for its timeline only), as decided when its hash arrived. */
  async decision(): Promise<FeedDecision> {
    while (!this.#decision) await new Promise<void>((r) => (this.#decided = r));
    return await this.#decision;
  }

  /** @internal */
  constructor(id: number, path: string, credit: (n: number) => void, cancel: () => void) {
    this.id = id;
    this.path = path;
    this.#credit = credit;
    this.#cancel = cancel;
  }

  /** Batches that have arrived and wait to be taken (never more than the credits allow). */
  get buffered(): number {
    return this.#events.filter((e) => e.type === "batch").length;
  }

  /** @internal */
  push(e: Event): void {
    this.#events.push(e);
    this.#waiter?.();
  }

  async #take(): Promise<Event> {
    while (this.#events.length === 0) await new Promise<void>((r) => (this.#waiter = r));
    return this.#events.shift()!;
  }

  async #expect<T extends Event["type"]>(type: T): Promise<Extract<Event, { type: T }>> {
    let e = await this.#take();
    if (e.type === "hashed" && type !== "hashed") e = await this.#take(); // its hash is kept on the job

    if (e.type === "error") throw e.error;
    if (e.type !== type) throw new Error(`feed: expected ${type}, got ${e.type}`);
    return e as Extract<Event, { type: T }>;
  }

  /** The file's SHA-256 and size. */
  async hashed(): Promise<{ sha256: string; size: number }> {
    const e = await this.#expect("hashed");
    return { sha256: e.sha256, size: e.size };
  }

  /** The file's header, once it is opened (after a decision to embed it). */
  async info(): Promise<{ info: AudioInfo; expectedWindows?: number }> {
    const e = await this.#expect("info");
    return { info: e.info, expectedWindows: e.expectedWindows };
  }

  /** The next batch, or null when the file is done ({@linkcode result} then says what it was). */
  async next(): Promise<FeedBatch | null> {
    let e = await this.#take();
    if (e.type === "hashed") e = await this.#take();
    if (e.type === "error") throw e.error;
    if (e.type === "done") {
      this.result = e.result;
      return null;
    }
    if (e.type !== "batch") throw new Error(`feed: expected a batch, got ${e.type}`);
    this.#credit(1);
    return e.batch;
  }

  /** What the file turned out to be, after {@linkcode next} returned null. */
  result?: FeedResult;

  /** Stop streaming this file (between batches). */
  cancel(): void {
    this.#cancel();
  }
}

/** A pool of feed workers (or the calling thread). */
export class FeedPool {
  /** What each file becomes, and how many workers. */
  readonly options: FeedPoolOptions;
  readonly #workers: Worker[] = [];
  readonly #jobs = new Map<number, FeedJob>();
  readonly #decide: Decide;
  #next = 0;

  /**
   * Start the workers.
   * @param options What each file becomes, and how many workers.
   * @param decide Called with each file's hash: embed it or not.
   */
  constructor(options: FeedPoolOptions, decide: Decide) {
    this.options = options;
    this.#decide = decide;
    for (let w = 0; w < options.workers; w++) {
      const worker = new WebWorker(new URL("./feed_worker.ts", import.meta.url).href, {
        type: "module",
        name: `openl3-feed-${w}`,
      });
      worker.postMessage({ type: "init", options: { ...options, workers: undefined } });
      worker.onmessage = (event: MessageEvent) => this.#receive(worker, event.data);
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        for (const job of this.#jobs.values()) {
          job.push({ type: "error", error: new Error(`feed worker failed: ${event.message}`) });
        }
      };
      this.#workers.push(worker);
    }
  }

  /** Queue a file; its events arrive on the returned job. */
  submit(id: number, path: string): FeedJob {
    const credits = this.options.credits ?? 2;
    if (this.options.workers === 0) return this.#inline(id, path, credits);
    const worker = this.#workers[this.#next++ % this.#workers.length];
    const job = new FeedJob(
      id,
      path,
      (n) => worker.postMessage({ type: "credit", id, n }),
      () => worker.postMessage({ type: "cancel", id }),
    );
    this.#jobs.set(id, job);
    worker.postMessage({ type: "job", id, path, credits });
    return job;
  }

  #receive(worker: Worker, m: Record<string, unknown>) {
    const id = m.id as number;
    const job = this.#jobs.get(id);
    if (!job) return;
    switch (m.type) {
      case "hashed": {
        const hash = { sha256: m.sha256 as string, size: m.size as number };
        job.hash = hash;
        job.push({ type: "hashed", ...hash });
        const go = Promise.resolve(this.#decide(id, hash));
        job.decide(go);
        go.then(
          (go) => worker.postMessage({ type: "decision", id, go }),
          () => worker.postMessage({ type: "decision", id, go: false }),
        );
        break;
      }
      case "info":
        job.push({ type: "info", info: m.info as AudioInfo, expectedWindows: m.expectedWindows as number });
        break;
      case "batch":
        job.push({ type: "batch", batch: m.batch as FeedBatch });
        break;
      case "done":
        this.#jobs.delete(id);
        job.push({ type: "done", result: m as unknown as FeedResult });
        break;
      case "error":
        this.#jobs.delete(id);
        job.push({ type: "error", error: fromWire(m.error as WireError) });
        break;
    }
  }

  /** The same job in this thread: hash, decide, then stream batch by batch as they are asked for. */
  #inline(id: number, path: string, credits: number): FeedJob {
    let cancelled = false;
    let wake: (() => void) | undefined;
    let budget = credits;
    const job = new FeedJob(id, path, (n) => {
      budget += n;
      wake?.();
    }, () => {
      cancelled = true;
      wake?.();
    });
    (async () => {
      let feed: FileFeed | undefined;
      try {
        const hash = await hashFile(path);
        job.hash = hash;
        job.push({ type: "hashed", ...hash });
        const go = Promise.resolve(this.#decide(id, hash));
        job.decide(go);
        const decided = await go;
        if (!decided || cancelled) return;
        feed = await FileFeed.open(
          path,
          decided === "timeline" ? { ...this.options, timeline: true, windows: false } : this.options,
        );
        job.push({ type: "info", info: feed.info, expectedWindows: feed.expectedWindows });
        for (;;) {
          const b = await feed.next();
          if (!b) break;
          while (budget <= 0 && !cancelled) await new Promise<void>((r) => (wake = r));
          if (cancelled) return;
          budget--;
          job.push({ type: "batch", batch: b });
        }
        job.push({
          type: "done",
          result: {
            frames: feed.frames,
            sampleRate: feed.info.sampleRate,
            windows: feed.plan!.windows,
            warnings: [...feed.warnings, ...feed.plan!.warnings],
            timeline: feed.timeline(),
          },
        });
      } catch (e) {
        job.push({ type: "error", error: e as Error });
      } finally {
        feed?.close();
      }
    })();
    return job;
  }

  /** Stop every worker (the jobs in flight are dropped). */
  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers.length = 0;
    this.#jobs.clear();
  }
}
