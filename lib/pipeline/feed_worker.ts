/**
 * The feed worker (a Deno Worker): for each file it is given, it hashes the
 * file, waits for the main thread to say whether the file is needed (it may
 * be stored already), then streams it — decode, mix down, resample, frame,
 * CPU frontend — and posts the batches, never more than its credits allow
 * ahead of the network (back-pressure: memory stays bounded).
 *
 * Messages in: `init` (options), `job` (id, path), `decision` (id, go),
 * `credit` (id, n), `cancel` (id). Messages out: `hashed`, `info`, `batch`
 * (its buffers transferred), `done`, `error`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { FileFeed, type FileFeedOptions, hashFile } from "./file_feed.ts";
import { AudioDecodeError, OpenL3Error } from "../util/errors.ts";
import { InputFileError } from "../util/input_file.ts";

/** An error as it crosses to the main thread. */
export interface WireError {
  /** The class: AudioDecodeError, InputFileError, OpenL3Error, or anything else (a bug). */
  kind: "AudioDecodeError" | "InputFileError" | "OpenL3Error" | "Error";
  /** What went wrong. */
  message: string;
  /** The file, for file errors. */
  file?: string;
  /** The problem without the file's name, for file errors. */
  problem?: string;
  /** Where a bug happened. */
  stack?: string;
}

/** The wire form of an error. */
export function toWire(e: unknown): WireError {
  if (e instanceof AudioDecodeError || e instanceof InputFileError) {
    return {
      kind: e.constructor.name as WireError["kind"],
      message: e.message,
      file: e.file,
      problem: e.problem,
    };
  }
  if (e instanceof OpenL3Error) return { kind: "OpenL3Error", message: e.message };
  return { kind: "Error", message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack };
}

interface Job {
  id: number;
  path: string;
  credits: number;
  cancelled: boolean;
  decision?: (go: boolean | "timeline") => void;
  wake?: () => void;
}

let options: FileFeedOptions | undefined;
const jobs = new Map<number, Job>();
let queue: Promise<void> = Promise.resolve();

function post(message: Record<string, unknown>, transfer: Transferable[] = []) {
  self.postMessage(message, transfer);
}

async function run(job: Job): Promise<void> {
  let feed: FileFeed | undefined;
  try {
    const { sha256, size } = await hashFile(job.path);
    post({ type: "hashed", id: job.id, sha256, size });
    const go = await new Promise<boolean | "timeline">((resolve) => (job.decision = resolve));
    if (!go || job.cancelled) return;
    feed = await FileFeed.open(
      job.path,
      go === "timeline" ? { ...options!, timeline: true, windows: false } : options!,
    );
    post({ type: "info", id: job.id, info: feed.info, expectedWindows: feed.expectedWindows });
    for (;;) {
      // compute the next batch, then wait for a credit to send it: the end of a file is known at once
      const b = await feed.next();
      if (!b) break;
      while (job.credits <= 0 && !job.cancelled) await new Promise<void>((resolve) => (job.wake = resolve));
      if (job.cancelled) return;
      job.credits--;
      const data = b.patches ?? b.samples!;
      post({ type: "batch", id: job.id, batch: b }, [
        data.buffer as ArrayBuffer,
        b.timestamps.buffer as ArrayBuffer,
      ]);
    }
    const timeline = feed.timeline();
    post({
      type: "done",
      id: job.id,
      frames: feed.frames,
      sampleRate: feed.info.sampleRate,
      windows: feed.plan!.windows,
      warnings: [...feed.warnings, ...feed.plan!.warnings],
      timeline,
    }, timeline ? [timeline.codes.buffer as ArrayBuffer] : []);
  } catch (e) {
    post({ type: "error", id: job.id, error: toWire(e) });
  } finally {
    feed?.close();
    jobs.delete(job.id);
  }
}

self.onmessage = (event: MessageEvent) => {
  const m = event.data;
  if (m.type === "init") options = m.options;
  else if (m.type === "job") {
    const job: Job = { id: m.id, path: m.path, credits: m.credits, cancelled: false };
    jobs.set(job.id, job);
    // one file at a time per worker: jobs queue up behind each other
    queue = queue.then(() => run(job));
  } else {
    const job = jobs.get(m.id);
    if (!job) return;
    if (m.type === "decision") job.decision?.(m.go);
    else if (m.type === "credit") {
      job.credits += m.n;
      job.wake?.();
    } else if (m.type === "cancel") {
      job.cancelled = true;
      job.decision?.(false);
      job.wake?.();
    }
  }
};
