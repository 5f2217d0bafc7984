/// <reference lib="dom" />
// deno-lint-ignore-file no-explicit-any
/**
 * The explorer in a real browser (headless Chromium): the map shows every
 * song, hovering shows its title, clicking plays it and lists `similar`'s
 * neighbours, search finds a song, a dropped file is embedded and placed,
 * a path outside the database is a 404.
 */
import { assert } from "./helpers.ts";
import { explorerFixture } from "./explorer_fixture.ts";
import { launchChromium } from "./browser.ts";
import { run as serve } from "../serve.ts";
import { run as similar } from "../similar.ts";

Deno.test("explorer in Chromium: points, hover, play, neighbours, search, upload, 404", async () => {
  const fx = await explorerFixture("openl3-browser-");
  const running = await serve({
    db: fx.db,
    port: 0,
    verbose: false,
    model: { weights: fx.weights, modelsDir: fx.modelsDir, backend: "native", device: "cpu" },
  });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(running.url);
    await page.waitForFunction(() => (globalThis as any).explorer?.ready === true, null, { timeout: 20_000 });
    const count = await page.evaluate(() => (globalThis as any).explorer.songs.length);
    assert.equal(count, fx.files.length);
    assert.match(await page.textContent("#status") ?? "", new RegExp(`^${fx.files.length} songs`));
    // every point is drawn: the canvas holds pixels of several colours besides the background
    const colours = await page.evaluate(() => {
      const c = document.getElementById("map") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return seen.size;
    });
    assert.ok(colours >= 2, `colours on the canvas: ${colours}`);

    // hover a point: its title
    const box = (await page.locator("#map").boundingBox())!;
    const at = async (i: number) => {
      const [x, y] = await page.evaluate((i) => (globalThis as any).explorerScreen(i), i);
      return [box.x + x, box.y + y] as const;
    };
    const songs = await page.evaluate(() => (globalThis as any).explorer.songs) as {
      id: string;
      title: string;
    }[];
    const target = songs.findIndex((s) => s.title === "bell_sound");
    const [hx, hy] = await at(target);
    await page.mouse.move(hx, hy);
    await page.waitForSelector("#tooltip:not([hidden])");
    assert.match(await page.textContent("#tooltip") ?? "", /bell_sound/);

    // click: it plays (currentTime advances) and its neighbours are listed as `similar` ranks them
    await page.mouse.click(hx, hy);
    await page.waitForFunction(
      () => (document.getElementById("player") as HTMLAudioElement).currentTime > 0.3,
      null,
      {
        timeout: 15_000,
      },
    );
    await page.waitForFunction(() => document.querySelectorAll("#neighbours li").length > 0);
    const listed = await page.$$eval(
      "#neighbours li",
      (lis) => lis.map((li) => (li as HTMLElement).dataset.id),
    );
    const { hits } = await similar({ query: songs[target].id, k: 10, db: fx.db, verbose: false });
    assert.deepEqual(listed, hits.map((h) => h.id));

    // search
    await page.fill("#search", "c_major");
    await page.waitForSelector("#results li[data-id]");
    const found = await page.$$eval("#results li", (lis) => lis.map((li) => (li as HTMLElement).dataset.id));
    assert.deepEqual(found, songs.filter((s) => s.title.includes("c_major")).map((s) => s.id));
    await page.click("#results li[data-id]");
    await page.waitForFunction(() => document.getElementById("now-title")?.textContent === "c_major_chord");

    // upload a copy of a stored song: embedded, placed, its original first among the neighbours
    const source = songs.findIndex((s) => s.title === "pink_noise");
    await page.evaluate(async (id) => {
      const blob = await (await fetch(`/api/audio/${encodeURIComponent(id)}`)).blob();
      await (globalThis as any).explorerUpload(new File([blob], "dropped.wav"));
    }, songs[source].id);
    assert.match(await page.textContent("#upload-status") ?? "", /dropped\.wav: placed at the mean position/);
    const first = await page.$eval("#neighbours li", (li) => (li as HTMLElement).dataset.id);
    assert.equal(first, songs[source].id);

    // a path outside the database
    const status = await page.evaluate(async () => (await fetch("/api/audio/%2Fetc%2Fpasswd")).status);
    assert.equal(status, 404);
    const shot = await page.screenshot();
    assert.deepEqual(Array.from(shot.subarray(1, 4)), [0x50, 0x4e, 0x47], "a PNG screenshot");
    const out = Deno.env.get("OPENL3_SCREENSHOT");
    if (out) await Deno.writeFile(out, shot);
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await running.shutdown();
    await Deno.remove(fx.root, { recursive: true });
  }
});
