/**
 * The explorer's front door (`lib/server/guarded_server.ts`) in a child process with a low open-file limit:
 * a flood of idle connections neither kills it nor locks anyone out (the longest-idle make room), a server
 * whose descriptors run out goes on, idle connections are closed while a request in flight never is, and at
 * the cap with every connection busy a new one is refused without harm.
 */
import { assert, slowTest } from "./helpers.ts";

/** Start `tests/guarded_child.ts` under `ulimit -n files`; its port and a way to stop it. */
async function child(files: number, cap: number, idleMs: number) {
  const proc = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n ${files}; exec "$0" run -A tests/guarded_child.ts ${cap} ${idleMs}`,
      Deno.execPath(),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value!.trim());
  reader.releaseLock();
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    // a pooled keep-alive connection may be closed by the idle limit as it is reused: one retry
    stats: async () => {
      try {
        return await (await fetch(`${url}/stats`)).json();
      } catch {
        return await (await fetch(`${url}/stats`)).json();
      }
    },
    async stop() {
      proc.kill("SIGTERM");
      const status = await proc.status;
      await proc.stdout.cancel().catch(() => {});
      return status;
    },
  };
}

slowTest("front door: 400 idle connections under a 128-file limit: still answering, never dead", async () => {
  const c = await child(128, 0, 60_000);
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 400; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port: c.port }));
    await new Promise((r) => setTimeout(r, 300));
    // during the flood: a real request is answered (idle connections made room for it)
    const during = await c.stats();
    assert.ok(during.evicted > 0, JSON.stringify(during));
    assert.ok(during.open <= during.max + 1, JSON.stringify(during));
    for (const conn of conns) conn.close();
    conns.length = 0;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await (await fetch(`${c.url}/`)).text(), "ok");
  } finally {
    for (const conn of conns) conn.close();
    const status = await c.stop();
    assert.equal(status.code, 0, "it was still running, and stopped cleanly");
  }
});

slowTest(
  "front door: idle connections closed, a request in flight kept, a full house refuses without harm",
  async () => {
    const c = await child(1024, 2, 400);
    try {
      // a connection that says nothing is closed (well after 400 ms, before 10 s even on a loaded machine)
      const silent = await Deno.connect({ hostname: "127.0.0.1", port: c.port });
      const t = performance.now();
      const n = await silent.read(new Uint8Array(16));
      const waited = performance.now() - t;
      silent.close();
      assert.equal(n, null);
      assert.ok(waited >= 350 && waited < 10_000, `closed after ${waited.toFixed(0)} ms`);
      // two requests in flight for 3 s (longer than the idle limit): both answered
      const slow = [fetch(`${c.url}/slow`), fetch(`${c.url}/slow`)];
      await new Promise((r) => setTimeout(r, 600));
      // the cap is 2 and neither is idle: a third is refused at once
      const third = await fetch(`${c.url}/`).then((r) => r.text(), (e) => `refused: ${e.message}`);
      assert.match(third, /^refused/);
      for (const r of await Promise.all(slow)) assert.equal(await r.text(), "ok");
      const s = await c.stats();
      assert.ok(s.refused >= 1 && s.idleClosed >= 1, JSON.stringify(s));
    } finally {
      await c.stop();
    }
  },
);
