/**
 * `serve` listens at once: while the map of a collection is computed (in a thread of its own), the page is
 * served, `/api/status` says how far the map is, the rest of the API answers 503 with Retry-After, and the
 * server answers promptly; then everything answers.
 */
import { join } from "node:path";
import { assert, slowTest } from "./helpers.ts";
import { writeSyntheticSongs } from "./synthetic_songs.ts";
import { Rng } from "../lib/util/rng.ts";
import { run as serve } from "../serve.ts";

slowTest("serve answers while its map is computed: the page, its progress, 503 for the rest", async () => {
  const root = await Deno.makeTempDir({ prefix: "openl3-start-" });
  const db = join(root, "songs.db");
  const rng = new Rng(3);
  writeSyntheticSongs(db, 0, 3000, (i, v) => { // UMAP: several seconds on two cores
    for (let j = 0; j < 512; j++) v[j] = Math.abs(rng.normal()) + (j % 30 === i % 30 ? 2 : 0);
  });
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const url = `http://127.0.0.1:${port}`;
  const starting = serve({ db, port, verbose: false, onRefused: () => {} });
  try {
    let during: { ready: boolean; stage: string; fraction: number } | null = null;
    let slowest = 0;
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      const t = performance.now();
      const r = await fetch(`${url}/api/status`).catch(() => null);
      if (!r) {
        await new Promise((res) => setTimeout(res, 20));
        continue;
      }
      const s = await r.json();
      slowest = Math.max(slowest, performance.now() - t);
      if (s.ready) break;
      during = s;
      const songs = await fetch(`${url}/api/songs`);
      assert.equal(songs.status, 503);
      assert.equal(songs.headers.get("retry-after"), "1");
      assert.match((await songs.json()).error, /map is being computed/);
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      await page.body?.cancel();
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(during, "the server answered before its map was ready");
    assert.ok(typeof during.stage === "string" && during.fraction >= 0 && during.fraction <= 1);
    assert.ok(slowest < 5000, `status answered within ${slowest.toFixed(0)} ms while mapping`);
    const running = await starting;
    const songs = await (await fetch(`${url}/api/songs`)).json();
    assert.equal(songs.count, 3000);
    await running.shutdown();
  } finally {
    await (await starting.catch(() => null))?.shutdown().catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});
