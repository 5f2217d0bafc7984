/// <reference lib="dom" />
// deno-lint-ignore-file no-explicit-any
/**
 * The explorer's playlist panel and duplicates view in headless Chromium, on a small tagged collection
 * (one re-encoded copy, one faster live version): a radio from the selected song, drawn and played in order
 * (the next starts when one ends), a song removed, the list in the URL (a reload restores it), a path to a
 * second song chosen by search, the list saved as M3U8, the duplicates marked and listed, the API's
 * answers (/api/playlist checked as the command checks, /api/duplicates), the page's security headers, and
 * axe-core finding no serious or critical violation.
 */
import { assert, slowTest } from "./helpers.ts";
import { launchChromium } from "./browser.ts";
import { embeddedSongFolder } from "./song_folder.ts";
import { run as serve } from "../serve.ts";

const AXE = new URL("../node_modules/axe-core/axe.min.js", import.meta.url);

slowTest(
  "explorer playlists: radio, path, play in order, remove, URL state, M3U8, duplicates, axe",
  async () => {
    const root = await Deno.makeTempDir({ prefix: "openl3-explorer-playlist-" });
    const { db } = await embeddedSongFolder(root, 12);
    const running = await serve({ db, port: 0, verbose: false, webDir: new URL("file:///nonexistent/") });
    const browser = await launchChromium();
    try {
      // ---- the API, as the command checks it ----
      const get = async (path: string) => {
        const r = await fetch(new URL(path, running.url));
        return { status: r.status, headers: r.headers, body: await r.json() };
      };
      const songs = (await get("/api/songs")).body.songs as { id: string; title: string }[];
      const id = (title: string) => songs.find((s) => s.title === title)!.id;
      const radio = await get(`/api/playlist?seed=${encodeURIComponent(id("First Light"))}&n=5`);
      assert.equal(radio.status, 200);
      assert.equal(radio.body.songs.length, 5);
      assert.equal(radio.body.songs[0].id, id("First Light"));
      for (
        const [q, message] of [
          ["n=1", /-n must be a whole number ≥ 2, got "1"/],
          ["drift=3", /--drift must be from 0 to 1/],
          ["color=red", /unknown parameter "color"/],
        ] as const
      ) {
        const r = await get(`/api/playlist?seed=${encodeURIComponent(id("First Light"))}&${q}`);
        assert.equal(r.status, 400, q);
        assert.match(r.body.error, message);
      }
      const notStored = await get("/api/playlist?seed=%2Fetc%2Fpasswd");
      assert.equal(notStored.status, 400);
      assert.match(notStored.body.error, /"\/etc\/passwd" is not a stored song/);
      const dups = (await get("/api/duplicates")).body.groups;
      assert.deepEqual(dups.map((g: { kind: string }) => g.kind).sort(), ["copies", "versions"]);
      const page0 = await fetch(running.url);
      await page0.body?.cancel();
      assert.match(page0.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
      assert.equal(page0.headers.get("x-content-type-options"), "nosniff");

      // ---- the page ----
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
      const errors: string[] = [];
      page.on("pageerror", (e: Error) => errors.push(e.message));
      page.on(
        "console",
        (m: any) =>
          m.type() === "error" && !/Failed to load resource/.test(m.text()) && errors.push(m.text()),
      );
      await page.goto(running.url);
      await page.waitForFunction(
        () => (globalThis as any).explorer?.ready === true,
        null,
        { timeout: 30_000 },
      );
      const choose = async (text: string) => {
        await page.fill("#search", text);
        await page.press("#search", "ArrowDown");
        await page.press("#search", "Enter");
        await page.waitForFunction(
          (t: string) => document.getElementById("now-title")?.textContent === t,
          text,
        );
      };
      await choose("First Light");
      await page.fill("#pl-n", "5");
      await page.click("#pl-radio");
      await page.waitForFunction(() => document.querySelectorAll("#pl-list li").length === 5);
      const listed = () => page.$$eval("#pl-list li", (lis: any[]) => lis.map((li) => li.dataset.id));
      assert.equal((await listed())[0], id("First Light"));
      assert.match(decodeURIComponent(page.url()), /pl=radio:.*a1\.flac.*pln=5/);
      // played in order: the first, then the next when it ends
      await page.click("#pl-list li:nth-child(1) button.link");
      await page.evaluate(() => document.getElementById("player")!.dispatchEvent(new Event("ended")));
      const second = (await page.$$eval("#pl-list li", (lis: any[]) =>
        lis[1].querySelector("button").textContent))
        .split(" – ").at(-1).replace(/[\u2068\u2069]/g, "");
      await page.waitForFunction(
        (t: string) => document.getElementById("now-title")?.textContent === t,
        second,
      );
      // removed, then restored from the URL without it
      const third = (await listed())[2];
      await page.click("#pl-list li:nth-child(3) button.small");
      await page.waitForFunction(() => document.querySelectorAll("#pl-list li").length === 4);
      assert.ok(!(await listed()).includes(third));
      const url = page.url();
      const again = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      again.on("pageerror", (e: Error) => errors.push(e.message));
      await again.goto(url);
      await again.waitForFunction(() => document.querySelectorAll("#pl-list li").length === 4, null, {
        timeout: 30_000,
      });
      assert.deepEqual(
        await again.$$eval("#pl-list li", (lis: any[]) => lis.map((li) => li.dataset.id)),
        await listed(),
      );
      await again.close();
      // a path to a song chosen by search, drawn through its songs
      await choose("Black");
      await page.fill("#pl-n", "4");
      await page.click("#pl-path");
      await page.waitForFunction(() =>
        /now choose the song to end at/.test(document.getElementById("pl-status")!.textContent!)
      );
      await choose("Grey");
      await page.waitForFunction(() =>
        /^path of 4 songs/.test(document.getElementById("pl-status")!.textContent!)
      );
      const path = await listed();
      assert.equal(path[0], id("Black"));
      assert.equal(path[3], id("Grey"));
      const drawn = await page.evaluate(() =>
        (globalThis as any).explorer.playlist.songs.filter((s: any) => s.row >= 0).length
      );
      assert.equal(drawn, 4, "every song of the path is on the map");
      // saved as M3U8
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#pl-save")]);
      const saved = await Deno.readTextFile(await download.path());
      assert.match(saved, /^#EXTM3U\n#EXTINF:\d+,Beta - Black\n\/.*b3\.ogg\n/);
      assert.equal(saved.trim().split("\n").length, 9);
      // the duplicates, marked and listed
      await page.click("#dups-show");
      await page.waitForFunction(() => document.querySelectorAll("#dups-list > li").length === 2);
      assert.match(
        await page.textContent("#dups-status") ?? "",
        /1 recordings stored more than once, 1 songs with other versions/,
      );
      assert.match(
        await page.textContent("#dups-list") ?? "",
        /Copies of one recording — keep the best: the highest bitrate/,
      );
      // accessibility: no serious or critical violation (axe-core; injected, so past the page's CSP)
      const axePage = await browser.newPage({ viewport: { width: 1200, height: 900 }, bypassCSP: true });
      await axePage.goto(url);
      await axePage.waitForFunction(() => document.querySelectorAll("#pl-list li").length === 4, null, {
        timeout: 30_000,
      });
      await axePage.click("#dups-show");
      await axePage.waitForFunction(() => document.querySelectorAll("#dups-list > li").length === 2);
      await axePage.addScriptTag({ content: await Deno.readTextFile(AXE) });
      const violations = await axePage.evaluate(async () => {
        const r = await (globalThis as any).axe.run(document, { resultTypes: ["violations"] });
        return r.violations.filter((v: any) => v.impact === "serious" || v.impact === "critical")
          .map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(" ")).join(", ")}`);
      });
      assert.deepEqual(violations, []);
      assert.deepEqual(errors, [], "no error in the page (the security policy blocks nothing it needs)");
    } finally {
      await browser.close();
      await running.shutdown();
      await Deno.remove(root, { recursive: true });
    }
  },
);
