/**
 * Saturate the CPU from inside a test, so that what must hold on a busy
 * machine is tested on one: `n` shell busy loops (two by default, one per
 * core of the 2-core machines the tests run on), each ended by `timeout`
 * after at most `seconds` whatever happens to the test process.
 */

/** Running busy loops. */
export interface BusyLoops {
  /** Their process ids. */
  pids: number[];
  /** Kill them and wait for them. */
  stop(): Promise<void>;
}

/** Start `n` busy loops (bounded to `seconds`). */
export function startBusyLoops(n = 2, seconds = 600): BusyLoops {
  const children = Array.from({ length: n }, () =>
    new Deno.Command("timeout", {
      args: [String(seconds), "sh", "-c", "while :; do :; done"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn());
  return {
    pids: children.map((c) => c.pid),
    async stop() {
      for (const c of children) {
        try {
          c.kill("SIGTERM"); // timeout passes it on to its loop
        } catch { /* already gone */ }
      }
      await Promise.all(children.map((c) => c.status));
    },
  };
}
