/**
 * The explorer against a careless or hostile client: a chunked body with no length is counted as it streams
 * and cut at the limit (413), the server's memory bounded; `Origin: null` and other origins may not write;
 * every answer carries the security headers; a vector of huge finite values is placed by its direction; tag
 * text is isolated against bidi controls.
 */
import { assert } from "./helpers.ts";
import { explorerFixture } from "./explorer_fixture.ts";
import { run as serve } from "../serve.ts";

const fx = await explorerFixture("openl3-trust-");
const running = await serve({
  db: fx.db,
  port: 0,
  verbose: false,
  webDir: new URL("file:///nonexistent/"),
  model: { weights: fx.weights, modelsDir: fx.modelsDir, backend: "native", device: "cpu" },
});
const url = (p: string) => new URL(p, running.url);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;

Deno.test("a chunked body with no Content-Length is cut at the limit (413) as it streams in", async () => {
  let sent = 0;
  const before = rss();
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      // 64 MiB of "[1,1,1,…" offered: the server must stop reading long before
      if (sent >= 64 << 20) return c.close();
      const chunk = new TextEncoder().encode(
        sent === 0 ? '{"vector":[' + "1,".repeat(32767) : "1,".repeat(32768),
      );
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
  const r = await fetch(url("/api/place"), {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  assert.equal(r.status, 413);
  assert.match((await r.json()).error, /the vector is over 1 MiB/);
  assert.ok(rss() - before < 200 << 20, `memory grew by ${((rss() - before) / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(sent < 16 << 20, `the server read on to ${(sent / 2 ** 20).toFixed(0)} MiB instead of stopping`);
});

Deno.test("writes: Origin null and other origins are refused; the page's own origin and no Origin (curl) pass", async () => {
  const vector = JSON.stringify({ vector: Array.from({ length: 512 }, (_, i) => Math.sin(i)) });
  const post = (origin?: string) =>
    fetch(url("/api/place"), { method: "POST", body: vector, headers: origin ? { origin } : {} });
  for (const origin of ["null", "http://evil.example", "https://127.0.0.1:1", "garbage"]) {
    const r = await post(origin);
    assert.equal(r.status, 403, origin);
    assert.match((await r.json()).error, /a page of another site may not write/);
  }
  const own = running.url.replace(/\/$/, "");
  for (const origin of [own, undefined]) {
    const r = await post(origin);
    assert.equal(r.status, 200, String(origin));
    await r.body?.cancel();
  }
});

Deno.test("every answer carries the content security policy, nosniff and frame-ancestors 'none'", async () => {
  for (const path of ["/", "/app.js", "/api/songs", "/api/nothing", "/api/status"]) {
    const r = await fetch(url(path));
    await r.body?.cancel();
    assert.match(
      r.headers.get("content-security-policy") ?? "",
      /default-src 'self'.*frame-ancestors 'none'/,
      path,
    );
    assert.equal(r.headers.get("x-content-type-options"), "nosniff", path);
  }
});

Deno.test("/api/place: a vector of huge (or tiny) finite values is placed by its direction", async () => {
  const base = Array.from({ length: 512 }, (_, i) => 1 + Math.cos(i / 7));
  const place = async (scale: number) => {
    const r = await fetch(url("/api/place"), {
      method: "POST",
      body: JSON.stringify({ vector: base.map((v) => v * scale) }),
    });
    assert.equal(r.status, 200);
    return (await r.json()).result;
  };
  const plain = await place(1), huge = await place(1e306), tiny = await place(1e-300);
  assert.ok(plain.neighbours[0].score > 0.1);
  assert.deepEqual(
    huge.neighbours.map((n: { id: string }) => n.id),
    plain.neighbours.map((n: { id: string }) => n.id),
  );
  assert.deepEqual(
    huge.neighbours.map((n: { score: number }) => n.score),
    plain.neighbours.map((n: { score: number }) => n.score),
  );
  assert.deepEqual(tiny.position, plain.position);
});

Deno.test("tag text is isolated: bidi controls in a title cannot reorder the score beside it", async () => {
  const css = await (await fetch(url("/style.css"))).text();
  assert.match(css, /#neighbours \.t,[\s\S]*unicode-bidi: isolate/);
  const js = await (await fetch(url("/core.js"))).text();
  assert.match(js, /const iso = \(t\) => \(t \? `\\u2068\$\{t\}\\u2069` : t\)/);
});

Deno.test("trust: cleanup", async () => {
  await running.shutdown();
  await Deno.remove(fx.root, { recursive: true });
});
