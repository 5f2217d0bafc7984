/**
 * Keeps a PostgreSQL worker's leases alive from a thread of its own
 * (`lease_keeper_worker.ts`): renewals every third of the lease, whatever
 * the main thread is doing, and the worst gap between two renewals measured
 * (and recorded in the `workers` table for `embed --status`).
 *
 * @module
 */

import { WebWorker } from "../util/web_worker.ts";
import { OpenL3Error } from "../util/errors.ts";
import type { KeeperStart } from "./lease_keeper_worker.ts";

/** Options of {@linkcode LeaseKeeper.start}. */
export interface LeaseKeeperOptions {
  /** The run's database. */
  url: string;
  /** The worker whose leases are renewed. */
  worker: string;
  /** Seconds each renewal grants. */
  leaseSeconds: number;
  /**
   * Milliseconds between renewals.
   * @default {leaseSeconds * 1000 / 3}
   */
  periodMs?: number;
  /** Seconds to retry while the database cannot be reached. */
  retryFor?: number;
  /** Told about retries and failed renewals (one line each). */
  onLine?: (line: string) => void;
}

/**
 * A running lease keeper.
 *
 * @example
 * ```ts ignore
 * const keeper = await LeaseKeeper.start({ url, worker: "w1", leaseSeconds: 60 });
 * // … claim, embed, store …
 * const { worstGap } = await keeper.stop();
 * ```
 */
export class LeaseKeeper {
  readonly #thread: Worker;
  readonly #options: LeaseKeeperOptions;
  #worst = 0;
  #renewals = 0;
  #stopped?: Promise<number>;

  private constructor(thread: Worker, options: LeaseKeeperOptions) {
    this.#thread = thread;
    this.#options = options;
  }

  /** Start the thread; resolves once its connection is open. */
  static async start(options: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const thread = new WebWorker(new URL("./lease_keeper_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const keeper = new LeaseKeeper(thread, options);
    await new Promise<void>((resolve, reject) => {
      thread.onmessage = (event: MessageEvent) => {
        const m = event.data;
        if (m.type === "ready") resolve();
        else if (m.type === "renewed") {
          keeper.#renewals++;
          keeper.#worst = Math.max(keeper.#worst, m.gap);
        } else if (m.type === "error" && m.fatal) reject(new OpenL3Error(m.message));
        else if (m.type === "error" || m.type === "retry") options.onLine?.(m.message);
      };
      thread.onerror = (e) => {
        e.preventDefault();
        reject(new OpenL3Error(`lease keeper: ${e.message}`));
      };
      const start: KeeperStart = {
        url: options.url,
        worker: options.worker,
        leaseSeconds: options.leaseSeconds,
        periodMs: options.periodMs ?? (options.leaseSeconds * 1000) / 3,
        retryFor: options.retryFor,
      };
      thread.postMessage({ type: "start", options: start });
    }).catch((e) => {
      thread.terminate();
      throw e;
    });
    return keeper;
  }

  /** The worst gap between two renewals so far, in seconds. */
  get worstGap(): number {
    return this.#worst;
  }

  /** Renewals so far. */
  get renewals(): number {
    return this.#renewals;
  }

  /** Stop renewing (the last worst gap is written to the database); resolves with the worst gap. */
  stop(): Promise<{ worstGap: number }> {
    this.#stopped ??= new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        this.#thread.terminate();
        resolve(this.#worst);
      }, 5000);
      const previous = this.#thread.onmessage;
      this.#thread.onmessage = (event: MessageEvent) => {
        if (event.data.type === "stopped") {
          clearTimeout(timer);
          this.#worst = Math.max(this.#worst, event.data.worst);
          this.#thread.terminate();
          resolve(this.#worst);
        } else previous?.call(this.#thread, event);
      };
      this.#thread.postMessage({
        type: "stop",
        worker: this.#options.worker,
        leaseSeconds: this.#options.leaseSeconds,
      });
    });
    return this.#stopped.then((worstGap) => ({ worstGap }));
  }
}
