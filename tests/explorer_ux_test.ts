/// <reference lib="dom" />
// deno-lint-ignore-file no-explicit-any
/**
 * The explorer as people keep it open, in headless Chromium: on a phone (map first, no sideways scroll,
 * a sharp canvas, tap and pinch), a legend that shows and hides groups, a view that cannot get lost (zoom
 * limits, Fit, refit on resize), search from the keyboard with its matches on the map, radio, the dropped
 * file as a point, the state in the URL (a link restores it, Back goes back), the untrained label, and
 * axe-core finding no serious or critical violation.
 */
import { assert, slowTest } from "./helpers.ts";
import { explorerFixture } from "./explorer_fixture.ts";
import { launchChromium } from "./browser.ts";
import { run as serve } from "../serve.ts";

const AXE = new URL("../node_modules/axe-core/axe.min.js", import.meta.url);

slowTest(
  "explorer UX: phone, legend, view limits, keyboard search, radio, upload point, URL state, axe",
  async () => {
    const fx = await explorerFixture("openl3-ux-");
    const running = await serve({
      db: fx.db,
      port: 0,
      verbose: false,
      webDir: new URL("file:///nonexistent/"), // no browser build: uploads go to the server
      model: { weights: fx.weights, modelsDir: fx.modelsDir, backend: "native", device: "cpu" },
    });
    const browser = await launchChromium();
    const ready = (page: any) =>
      page.waitForFunction(() => (globalThis as any).explorer?.ready === true, null, { timeout: 20_000 });
    try {
      // ---- a phone: 390×844 at 3× ----------------------------------------------------------------------
      const phone = await browser.newPage({
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 3,
        isMobile: true,
        hasTouch: true,
      });
      const errors: string[] = [];
      phone.on("pageerror", (e: Error) => errors.push(e.message));
      await phone.goto(running.url);
      await ready(phone);
      const layout = await phone.evaluate(() => {
        const box = (id: string) => document.getElementById(id)!.getBoundingClientRect();
        const c = document.getElementById("map") as HTMLCanvasElement;
        return {
          scroll: document.scrollingElement!.scrollWidth,
          map: box("map"),
          panel: box("panel"),
          colour: box("colour"),
          backing: [c.width, c.height],
        };
      });
      assert.ok(layout.scroll <= 390, `no sideways scroll: ${layout.scroll}`);
      assert.ok(
        layout.map.width >= 380 && layout.map.height >= 300,
        `map ${layout.map.width}×${layout.map.height}`,
      );
      assert.ok(layout.map.bottom <= layout.panel.top + 1, "the map first, the panel below");
      assert.ok(layout.colour.right <= 390, "the colour menu on screen");
      assert.equal(layout.backing[0], Math.round(layout.map.width * 3), "canvas at the pixel ratio");
      assert.ok(await phone.isVisible("#untrained"), "the untrained label where the database says so");

      // a tap selects a song and leaves no tooltip behind
      const songs = await phone.evaluate(() => (globalThis as any).explorer.songs) as {
        id: string;
        title: string;
      }[];
      const mapBox = (await phone.locator("#map").boundingBox())!;
      const screenOf = async (page: any, i: number, box = mapBox) => {
        const [x, y] = await page.evaluate((i: number) => (globalThis as any).explorerScreen(i), i);
        return [box.x + x, box.y + y] as const;
      };
      const bell = songs.findIndex((s) => s.title === "bell_sound");
      await phone.touchscreen.tap(...await screenOf(phone, bell));
      await phone.waitForFunction(() => document.getElementById("now-title")?.textContent === "bell_sound");
      assert.ok(await phone.isHidden("#tooltip"));
      // a pinch (two pointers moving apart) zooms in around them
      const pinched = await phone.evaluate(() => {
        const c = document.getElementById("map")!;
        const s0 = (globalThis as any).explorer.view.scale;
        const ev = (type: string, id: number, x: number) =>
          c.dispatchEvent(
            new PointerEvent(type, {
              pointerId: id,
              clientX: x,
              clientY: 200,
              pointerType: "touch",
              bubbles: true,
            }),
          );
        ev("pointerdown", 11, 150);
        ev("pointerdown", 12, 210);
        ev("pointermove", 11, 100);
        ev("pointermove", 12, 260);
        ev("pointerup", 11, 100);
        ev("pointerup", 12, 260);
        return (globalThis as any).explorer.view.scale / s0;
      });
      assert.ok(pinched > 2 && pinched < 3.5, `pinch from 60 to 160 px zooms ×${pinched.toFixed(2)}`);
      await phone.close();

      // ---- a desktop window --------------------------------------------------------------------------
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, bypassCSP: true }); // axe is injected inline
      page.on("pageerror", (e: Error) => errors.push(e.message));
      await page.goto(running.url);
      await ready(page);
      const box = (await page.locator("#map").boundingBox())!;

      // legend: every cluster listed with its count; hiding one leaves its points undrawn
      const legend = await page.$$eval("#legend button", (bs) => bs.map((b) => b.textContent));
      assert.ok(legend.length >= 2, `legend: ${legend.join(", ")}`);
      const total = legend.reduce((n, t) => n + Number(t!.match(/\((\d+)\)$/)![1]), 0);
      assert.equal(total, songs.length, "the legend's counts cover every song");
      const cluster0 = await page.evaluate(() => (globalThis as any).explorer.group.indexOf(0));
      const pixelAt = (i: number) =>
        page.evaluate((i: number) => {
          const c = document.getElementById("map") as HTMLCanvasElement;
          const [x, y] = (globalThis as any).explorerScreen(i).map((v: number) =>
            Math.round(v * devicePixelRatio)
          );
          return Array.from(c.getContext("2d")!.getImageData(x, y, 1, 1).data.slice(0, 3));
        }, i);
      assert.notDeepEqual(await pixelAt(cluster0), [251, 251, 251]);
      await page.click("#legend li:first-child button");
      assert.equal(await page.getAttribute("#legend li:first-child button", "aria-pressed"), "false");
      // wait for the state checked (the next frame may come late on a busy machine), never a fixed time
      for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
        if ((await pixelAt(cluster0)).join() === "251,251,251") break;
        await page.waitForTimeout(20);
      }
      assert.deepEqual(await pixelAt(cluster0), [251, 251, 251], "a hidden group is not drawn");
      await page.click("#legend li:first-child button");

      // the view: zoom limits both ways, Fit brings every point back, a resize keeps them in view
      const zoom = () =>
        page.evaluate(() => (globalThis as any).explorer.view.scale / (globalThis as any).explorer.fitScale);
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (let k = 0; k < 60; k++) await page.mouse.wheel(0, -500);
      assert.ok(await zoom() <= 5000 + 1e-6, `zoomed in ×${await zoom()}`);
      for (let k = 0; k < 80; k++) await page.mouse.wheel(0, 500);
      assert.ok(await zoom() >= 0.25 - 1e-9, `zoomed out ×${await zoom()}`);
      await page.click("#fit");
      assert.ok(Math.abs(await zoom() - 1) < 1e-9);
      const allOnScreen = () =>
        page.evaluate(() => {
          const c = document.getElementById("map") as HTMLCanvasElement;
          const e = (globalThis as any).explorer;
          return e.songs.every((_: unknown, i: number) => {
            const [x, y] = (globalThis as any).explorerScreen(i);
            return x >= 0 && y >= 0 && x <= c.clientWidth && y <= c.clientHeight;
          });
        });
      const canvasWidth = (w: number) =>
        page.waitForFunction((w) =>
          document.getElementById("map")!.clientWidth <= w &&
          (globalThis as any).explorer.view.scale > 0, w);
      await page.setViewportSize({ width: 700, height: 500 });
      await canvasWidth(700);
      for (const deadline = Date.now() + 15_000; !(await allOnScreen()) && Date.now() < deadline;) {
        await page.waitForTimeout(20);
      }
      assert.ok(await allOnScreen(), "after a resize every point is still in view");
      await page.setViewportSize({ width: 1200, height: 800 });
      await page.waitForFunction(() => document.getElementById("map")!.clientWidth > 700);

      // search from the keyboard: the count, the matches ringed, arrows and Enter, Escape
      await page.focus("#search");
      await page.keyboard.type("noise");
      const expected = songs.filter((s) => s.title.includes("noise")).length;
      assert.match(await page.textContent("#search-count") ?? "", new RegExp(`^${expected} match`));
      assert.equal(await page.evaluate(() => (globalThis as any).explorer.matches.length), expected);
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("ArrowDown");
      const second = await page.$eval(
        "#results li[aria-selected=true]",
        (li) => (li as HTMLElement).dataset.id,
      );
      await page.keyboard.press("Enter");
      const chosen = songs.find((s) => s.id === second)!;
      await page.waitForFunction(
        (t) => document.getElementById("now-title")?.textContent === t,
        chosen.title,
      );
      assert.ok(await page.isHidden("#results"));
      const centred = await page.evaluate((id) => {
        const e = (globalThis as any).explorer;
        const i = e.songs.findIndex((s: { id: string }) => s.id === id);
        return [e.view.cx - e.x[i], e.view.cy - e.y[i]];
      }, second);
      assert.deepEqual(centred, [0, 0], "the chosen song centred");
      await page.locator("#map").focus();
      await page.focus("#search"); // back in the search box: its matches again
      assert.ok(await page.isVisible("#results"));
      await page.keyboard.press("Escape"); // closes the list (and, in a search field, clears it)
      assert.ok(await page.isHidden("#results"));

      // radio: Next plays the neighbours in turn
      await page.waitForFunction(() => document.querySelectorAll("#neighbours li").length > 0);
      const neighbours = await page.$$eval(
        "#neighbours li",
        (lis) => lis.map((li) => (li as HTMLElement).dataset.id),
      );
      await page.click("#next");
      const first = songs.find((s) => s.id === neighbours[0])!;
      await page.waitForFunction((t) => document.getElementById("now-title")?.textContent === t, first.title);
      await page.locator("#map").focus();
      await page.keyboard.press("n");
      const next = songs.find((s) => s.id === neighbours[1])!;
      await page.waitForFunction((t) => document.getElementById("now-title")?.textContent === t, next.title);
      // the neighbour list is kept while the radio plays it
      assert.deepEqual(
        await page.$$eval("#neighbours li", (lis) => lis.map((li) => (li as HTMLElement).dataset.id)),
        neighbours,
      );

      // the state is in the URL: a link restores the song, the colour, the search; Back goes back
      await page.fill("#search", "noise");
      await page.selectOption("#colour", "artist");
      await page.waitForFunction(() =>
        /c=artist/.test(location.hash) && /song=/.test(location.hash) && /q=noise/.test(location.hash)
      );
      const link = page.url();
      assert.match(link, /#.*song=/);
      assert.match(link, /c=artist/);
      const other = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await other.goto(link);
      await ready(other);
      assert.equal(await other.textContent("#now-title"), next.title);
      assert.equal(await other.inputValue("#colour"), "artist");
      assert.equal(await other.inputValue("#search"), "noise");
      await other.close();
      await page.goBack();
      await page.waitForFunction((t) => document.getElementById("now-title")?.textContent === t, first.title);

      // preview on hover, when ticked: a few seconds of the song the mouse rests on
      await page.check("#preview");
      await page.click("#fit");
      const [px, py] = await screenOf(page, bell, box);
      await page.mouse.move(px, py);
      await page.waitForFunction(
        () => {
          const p = (globalThis as any).explorerPreview as HTMLAudioElement;
          return p.src.includes("bell_sound") && !p.paused && p.currentTime > 0.2;
        },
        null,
        { timeout: 15_000 },
      );
      await page.mouse.move(box.x + 2, box.y + 2);
      await page.waitForFunction(() => ((globalThis as any).explorerPreview as HTMLAudioElement).paused);
      await page.uncheck("#preview");

      // the dropped file is a point: hovered, clicked, played from the page's own copy
      const source = songs.findIndex((s) => s.title === "pink_noise");
      await page.evaluate(async (id) => {
        const blob = await (await fetch(`/api/audio/${encodeURIComponent(id)}`)).blob();
        await (globalThis as any).explorerUpload(new File([blob], "dropped.wav"));
      }, songs[source].id);
      assert.match(await page.textContent("#upload-status") ?? "", /embedded by the server/);
      const [ux, uy] = await page.evaluate(() => {
        const e = (globalThis as any).explorer;
        const c = document.getElementById("map") as HTMLCanvasElement;
        const s = e.view.scale, d = devicePixelRatio;
        return [
          ((e.upload.position[0] - e.view.cx) * s + c.width / 2) / d,
          ((e.upload.position[1] - e.view.cy) * s + c.height / 2) / d,
        ];
      });
      await page.mouse.move(box.x + ux, box.y + uy);
      await page.waitForSelector("#tooltip:not([hidden])");
      assert.match(await page.textContent("#tooltip") ?? "", /dropped\.wav/);
      await page.mouse.click(box.x + ux, box.y + uy);
      await page.waitForFunction(() => document.getElementById("now-title")?.textContent === "dropped.wav");
      assert.match(await page.getAttribute("#player", "src") ?? "", /^blob:/);

      // accessibility: no serious or critical violation (axe-core)
      await page.addScriptTag({ content: await Deno.readTextFile(AXE) });
      const violations = await page.evaluate(async () => {
        const r = await (globalThis as any).axe.run(document, { resultTypes: ["violations"] });
        return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
      const serious = violations.filter((v: any) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(serious, [], JSON.stringify(violations));
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await running.shutdown();
      await Deno.remove(fx.root, { recursive: true });
    }
  },
);
