/**
 * `deno task bench-explorer`: the explorer at collection scale. A database
 * of N synthetic songs (512-d vectors around 40 centres, with artist, album
 * and genre tags) is written once; then measured: the map (computed, then
 * from its cache), a neighbour query server-side and over HTTP, the page in
 * headless Chromium until every point is drawn, and the map's update when a
 * song is added.
 *
 *     deno task bench-explorer [--songs 100000] [--screenshot docs/explorer_100k.png] [--layout umap|given]
 *
 * `--layout given` (for 1 000 000 songs, where UMAP on two cores would take most of an hour) writes the map
 * cache from the synthetic centres instead of computing it, and the report says so: the page, the server
 * start, the queries and the tab's memory are measured as they are; the layout is not.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeSyntheticSongs } from "../tests/synthetic_songs.ts";
import { Rng } from "../lib/util/rng.ts";
import { run as serve } from "../serve.ts";
import { launchChromium } from "../tests/browser.ts";
import { openStore } from "../lib/store/store.ts";
import { loadIndex } from "../lib/analysis/vector_index.ts";
import { encodeMap } from "../lib/analysis/collection_map.ts";

const { values } = parseArgs({
  options: {
    songs: { type: "string" },
    screenshot: { type: "string" },
    layout: { type: "string" },
    keep: { type: "string" },
  },
});
const layout = values.layout ?? "umap";
if (layout !== "umap" && layout !== "given") throw new Error(`--layout is umap or given, got ${layout}`);
const n = Number(values.songs ?? 100_000);
// --keep DIR: the database is kept there and used again by a later run of the same size (1M songs take ~11 min
// to write on two cores)
const dir = values.keep ?? await Deno.makeTempDir({ prefix: "openl3-bench-explorer-" });
await Deno.mkdir(dir, { recursive: true });
const db = join(dir, "songs.db");
const written = join(dir, "songs.count");
const kept = values.keep !== undefined &&
  await Deno.readTextFile(written).then((t) => Number(t) === n, () => false);
const GENRES = ["rock", "jazz", "classical", "electronic", "hip hop", "folk", "metal", "ambient"];

try {
  let t = performance.now();
  const rng = new Rng(5);
  const centres = Array.from(
    { length: 40 },
    () => Float64Array.from({ length: 512 }, () => Math.abs(rng.normal())),
  );
  if (!kept) {
    await Deno.remove(db).catch(() => {});
    writeSyntheticSongs(db, 0, n, (i, v) => {
      const c = i % 40;
      for (let j = 0; j < 512; j++) v[j] = Math.max(0, centres[c][j] + rng.normal() * 0.35);
    }, (i) => {
      const c = i % 40, artist = `Artist ${c}-${i % 7}`;
      return {
        path: `/music/${artist}/song_${i}.mp3`,
        tags: { title: `Song ${i}`, artist, album: `Album ${c}`, genre: GENRES[c % GENRES.length] },
      };
    });
    await Deno.writeTextFile(written, String(n));
    console.log(`wrote ${n} songs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } else console.log(`${n} songs kept in ${db}`);

  let mapSeconds = NaN;
  if (layout === "given") {
    // the map cache the server would write, from the centres the songs were drawn around (row order: the index's)
    const store = await openStore(db, { readOnly: true });
    const { index } = await loadIndex(store);
    const identity = await store.identity();
    await store.close();
    const m = index.ids.length, xy = new Float32Array(2 * m), clusters = new Int32Array(m);
    const place = new Rng(9);
    index.ids.forEach((id, r) => {
      const i = Number(/song_(\d+)\.mp3$/.exec(id)![1]), c = i % 40;
      xy[2 * r] = 10 * Math.cos(c * 0.157) * (1 + (c % 5) / 5) + place.normal() * 0.6;
      xy[2 * r + 1] = 10 * Math.sin(c * 0.157) * (1 + (c % 5) / 5) + place.normal() * 0.6;
      clusters[r] = c % 8;
    });
    const map = { xy, clusters, method: "given (bench: the synthetic centres, not laid out)", placed: 0 };
    await Deno.writeFile(`${db}.map-cache`, encodeMap(map, { ...identity!, rows: m }));
  } else {
    t = performance.now();
    const first = await serve({ db, port: 0, verbose: true });
    mapSeconds = (performance.now() - t) / 1000;
    await first.shutdown();
  }
  t = performance.now();
  const running = await serve({ db, port: 0, verbose: false });
  const cachedSeconds = (performance.now() - t) / 1000;

  const ids = running.explorer.songs.map((s) => s.id);
  const search = running.explorer.neighbourSearch === "exact" ? "exact cosine" : "int8 scan + exact re-rank";
  const queries = 200;
  t = performance.now();
  for (let q = 0; q < queries; q++) running.explorer.similar(ids[(q * 7919) % ids.length], 10);
  const serverMs = (performance.now() - t) / queries;
  t = performance.now();
  for (let q = 0; q < 50; q++) {
    await (await fetch(
      `${running.url}api/similar/${encodeURIComponent(ids[(q * 104729) % ids.length])}?k=10`,
    )).json();
  }
  const httpMs = (performance.now() - t) / 50;

  // the first answer of each list the page loads is serialised, hashed and gzipped once (then cached); fetch
  // undoes the gzip, so the size counted is the JSON's
  const firstBytes: Record<string, number> = {};
  t = performance.now();
  for (const path of ["api/songs", "api/map"]) {
    const r = await fetch(`${running.url}${path}`, { headers: { "accept-encoding": "gzip" } });
    firstBytes[path] = (await r.arrayBuffer()).byteLength;
  }
  const firstSeconds = (performance.now() - t) / 1000;
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  t = performance.now();
  await page.goto(running.url);
  // deno-lint-ignore no-explicit-any
  await page.waitForFunction(() => (globalThis as any).explorer?.ready === true, null, { timeout: 900_000 });
  const pageSeconds = (performance.now() - t) / 1000;
  // deno-lint-ignore no-explicit-any
  const stages = await page.evaluate(() => (globalThis as any).explorer.loadStages);
  console.log(`page stages (ms): ${JSON.stringify(stages)}`);
  // a pan: mean time of 20 redraws of every point
  // deno-lint-ignore no-explicit-any
  const frameMs = await page.evaluate(() => (globalThis as any).explorerBenchRedraw(20));
  // the tab's memory, as Chromium's DevTools protocol counts it, after a garbage collection
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = await cdp.send("Runtime.getHeapUsage") as Record<string, number>;
  // the JavaScript heap, the page's DOM objects and the typed arrays' storage (the points' positions, colours)
  const heapMiB = (heap.usedSize + (heap.embedderHeapUsedSize ?? 0) + (heap.backingStorageSize ?? 0)) /
    2 ** 20;
  if (values.screenshot) {
    await page.selectOption("#colour", "genre");
    await page.screenshot({ path: values.screenshot });
  }
  await browser.close();

  // a song added while the server runs (what --store does after an upload): the map is kept and the new song
  // placed by its nearest, not laid out again
  writeSyntheticSongs(db, n, n + 1, (_, v) => {
    for (let j = 0; j < 512; j++) v[j] = Math.max(0, centres[3][j] + rng.normal() * 0.35);
  }, () => ({ path: "/music/added.mp3", tags: { title: "Added" } }));
  t = performance.now();
  const updated = await (await fetch(`${running.url}api/map`)).json();
  const addSeconds = (performance.now() - t) / 1000;
  if (updated.count !== n + 1 || !/added since/.test(updated.method)) {
    throw new Error(`the added song was not placed: ${updated.count} songs, "${updated.method}"`);
  }
  await running.shutdown();

  const rows = [
    layout === "umap"
      ? ["map computed (UMAP), with progress", `${mapSeconds.toFixed(1)} s`]
      : ["map computed", "not run (--layout given)"],
    ["map from its cache (server start)", `${cachedSeconds.toFixed(2)} s`],
    [`neighbour query, server-side (top 10, ${search})`, `${serverMs.toFixed(1)} ms`],
    ["neighbour query over HTTP", `${httpMs.toFixed(1)} ms`],
    [
      `songs and map lists made once (${
        ((firstBytes["api/songs"] + firstBytes["api/map"]) / 2 ** 20).toFixed(0)
      } MiB of JSON)`,
      `${firstSeconds.toFixed(2)} s`,
    ],
    ["page load until every point is drawn (Chromium)", `${pageSeconds.toFixed(2)} s`],
    ["redraw of every point (pan/zoom frame)", `${frameMs.toFixed(1)} ms`],
    ["the tab's memory: JS heap, DOM, typed arrays (all drawn)", `${heapMiB.toFixed(0)} MiB`],
    ["a song added: vectors reloaded, map kept, song placed", `${addSeconds.toFixed(2)} s`],
  ];
  console.log(`\nexplorer, ${n} songs (${navigator.hardwareConcurrency} cores)\n`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(62)} | ${v.padStart(9)} |`);
} finally {
  if (values.keep === undefined) await Deno.remove(dir, { recursive: true });
  else {
    // the song added above goes again, so that the kept database is the one written
    const store = await openStore(db);
    await store.remove(["/music/added.mp3"]);
    await store.close();
  }
}
