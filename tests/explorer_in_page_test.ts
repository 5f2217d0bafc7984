/// <reference lib="dom" />
// deno-lint-ignore-file no-explicit-any
/**
 * The explorer embeds a dropped file in the page (the browser build on
 * WebGPU — SwiftShader here) when the browser has WebGPU: only the vector
 * goes to the server, and the neighbours and position are those of the
 * server's own embedding of the same file. The model route answers 304 to
 * its ETag; `/api/place` refuses vectors that are not the songs' kind.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { assert, slowTest } from "./helpers.ts";
import { explorerFixture } from "./explorer_fixture.ts";
import { launchChromium } from "./browser.ts";
import { buildWeb } from "../tools/build_web.ts";
import { run as serve } from "../serve.ts";

interface Placed {
  neighbours: { id: string; score: number }[];
  position: [number, number];
}

slowTest(
  "explorer: a dropped file is embedded in the page on WebGPU, ranked as the server ranks it",
  async () => {
    const fx = await explorerFixture("openl3-in-page-");
    const web = join(fx.root, "web");
    await buildWeb(web);
    const running = await serve({
      db: fx.db,
      port: 0,
      verbose: false,
      webDir: pathToFileURL(`${web}/`),
      model: { weights: fx.weights, modelsDir: fx.modelsDir, backend: "native", device: "cpu" },
    });
    const browser = await launchChromium({ webgpu: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      await page.goto(running.url);
      await page.waitForFunction(() => (globalThis as any).explorer?.ready === true, null, {
        timeout: 20_000,
      });
      const inPage = await page.evaluate(() => (globalThis as any).explorerInPage());
      assert.ok(inPage.ok, `in-page embedding offered: ${JSON.stringify(inPage)}`);

      const songs = await page.evaluate(() => (globalThis as any).explorer.songs) as {
        id: string;
        title: string;
      }[];
      const source = songs.find((s) => s.title === "pink_noise")!;
      const audio = await (await fetch(`${running.url}api/audio/${encodeURIComponent(source.id)}`)).bytes();
      await page.evaluate(async (bytes) => {
        await (globalThis as any).explorerUpload(new File([new Uint8Array(bytes)], "dropped.wav"));
      }, Array.from(audio));
      const status = await page.textContent("#upload-status") ?? "";
      assert.match(status, /dropped\.wav: placed at the mean position .*; embedded in this page/, status);
      const mine = await page.evaluate(() => (globalThis as any).explorer.upload) as Placed;
      assert.equal(mine.neighbours[0].id, source.id, "a copy of a stored song finds it first");

      // the server's own embedding of the same file: the same ranking, the same scores and place
      const r = await fetch(`${running.url}api/embed`, {
        method: "POST",
        body: audio,
        headers: { "x-filename": "dropped.wav" },
      });
      const lines = (await r.text()).trim().split("\n").map((l) => JSON.parse(l));
      const theirs = lines.find((l) => l.result)!.result as Placed;
      assert.deepEqual(mine.neighbours.map((n) => n.id), theirs.neighbours.map((n) => n.id));
      for (const [i, n] of mine.neighbours.entries()) {
        assert.ok(
          Math.abs(n.score - theirs.neighbours[i].score) <= 1e-5,
          `score ${i}: ${n.score} vs ${theirs.neighbours[i].score}`,
        );
      }
      assert.ok(
        Math.hypot(mine.position[0] - theirs.position[0], mine.position[1] - theirs.position[1]) <= 1e-3,
      );

      // the model is fetched once per version: its ETag answers 304
      const first = await fetch(`${running.url}api/model.onnx`);
      await first.body?.cancel();
      const etag = first.headers.get("etag")!;
      assert.ok(etag);
      const again = await fetch(`${running.url}api/model.onnx`, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      await again.body?.cancel();
      // vectors that are not the songs' kind are refused in one line
      const place = async (body: string) => {
        const res = await fetch(`${running.url}api/place`, { method: "POST", body });
        return { status: res.status, error: (await res.json()).error as string };
      };
      assert.deepEqual(await place(`{"vector":[1,2,3]}`), {
        status: 400,
        error: "a vector of 3 values: the stored songs have 512",
      });
      const nan = await place(JSON.stringify({ vector: [null, ...new Array(511).fill(0.5)] }));
      assert.deepEqual(nan, { status: 400, error: "value 0 of the vector is null, not a finite number" });
      assert.equal((await place(JSON.stringify({ vector: new Array(512).fill(0) }))).status, 400);
      assert.equal((await place("not json")).status, 400);
      for (const path of ["web/nope.js", "web/..%2Fdeno.json", "web/browser.json"]) {
        const res = await fetch(`${running.url}${path}`);
        await res.body?.cancel();
        assert.equal(res.status, 404, path);
      }
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      await running.shutdown();
      await Deno.remove(fx.root, { recursive: true });
    }
  },
);
