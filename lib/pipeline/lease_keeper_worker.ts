/**
 * The lease keeper's thread (a Deno Worker): it renews a PostgreSQL
 * worker's leases on its own event loop and its own connection, so that a
 * main thread busy decoding, computing spectrograms or waiting on the
 * network never lets a lease lapse by starving a timer.
 *
 * Messages in: `start` ({@linkcode KeeperStart}), `stop`. Messages out:
 * `renewed` (the gap since the previous renewal, seconds, and the jobs
 * renewed), `retry` and `error` (a line for the log), `stopped`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { PgQueue } from "../store/pg_queue.ts";

/** What the thread is told to keep. */
export interface KeeperStart {
  /** The run's database. */
  url: string;
  /** The worker whose leases are renewed. */
  worker: string;
  /** Seconds each renewal grants. */
  leaseSeconds: number;
  /** Milliseconds between renewals. */
  periodMs: number;
  /** Seconds to retry while the database cannot be reached. */
  retryFor?: number;
}

let store: PgQueue | undefined;
let stopping = false;
let wake: (() => void) | undefined;
let worst = 0;
let loop: Promise<void> = Promise.resolve();

async function keep(o: KeeperStart): Promise<void> {
  let previous = performance.now();
  while (!stopping) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, o.periodMs);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });
    if (stopping) break;
    try {
      const renewed = await store!.heartbeat(o.worker, o.leaseSeconds, worst);
      const now = performance.now();
      const gap = (now - previous) / 1000;
      previous = now;
      worst = Math.max(worst, gap);
      self.postMessage({ type: "renewed", gap, jobs: renewed });
    } catch (e) {
      self.postMessage({ type: "error", message: `lease renewal: ${(e as Error).message}` });
    }
  }
}

self.onmessage = async (event: MessageEvent) => {
  const m = event.data;
  if (m.type === "start") {
    const o = m.options as KeeperStart;
    try {
      store = await PgQueue.connect(o.url, {
        max: 1,
        retryFor: o.retryFor,
        onRetry: (line) => self.postMessage({ type: "retry", message: line }),
      });
    } catch (e) {
      self.postMessage({ type: "error", message: (e as Error).message, fatal: true });
      return;
    }
    self.postMessage({ type: "ready" });
    loop = keep(o);
  } else if (m.type === "stop") {
    stopping = true;
    wake?.();
    await loop;
    // the worst gap seen since the last renewal reached the database
    if (store && m.worker) {
      await store.heartbeat(m.worker, m.leaseSeconds, worst).catch(() => {});
    }
    await store?.close().catch(() => {});
    self.postMessage({ type: "stopped", worst });
    self.close();
  }
};
