/**
 * `deno task bench-explorer`: the explorer at collection scale. A database
 * of N synthetic songs (512-d vectors around 40 centres, with artist, album
 * and genre tags) is written once; then measured: the map (computed, then
 * from its cache), a neighbour query server-side and over HTTP, the page in
 * headless Chromium until every point is drawn, and the map's update when a
 * song is added.
 *
 *     deno task bench-explorer [--songs 100000] [--screenshot docs/explorer_100k.png]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeSyntheticSongs } from "../tests/synthetic_songs.ts";
import { Rng } from "../lib/util/rng.ts";
import { run as serve } from "../serve.ts";
import { launchChromium } from "../tests/browser.ts";

const { values } = parseArgs({ options: { songs: { type: "string" }, screenshot: { type: "string" } } });
const n = Number(values.songs ?? 100_000);
const dir = await Deno.makeTempDir({ prefix: "openl3-bench-explorer-" });
const db = join(dir, "songs.db");
const GENRES = ["rock", "jazz", "classical", "electronic", "hip hop", "folk", "metal", "ambient"];

try {
  let t = performance.now();
  const rng = new Rng(5);
  const centres = Array.from(
    { length: 40 },
    () => Float64Array.from({ length: 512 }, () => Math.abs(rng.normal())),
  );
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
  console.log(`wrote ${n} songs in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  t = performance.now();
  let running = await serve({ db, port: 0, verbose: true });
  const mapSeconds = (performance.now() - t) / 1000;
  await running.shutdown();
  t = performance.now();
  running = await serve({ db, port: 0, verbose: false });
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

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  t = performance.now();
  await page.goto(running.url);
  // deno-lint-ignore no-explicit-any
  await page.waitForFunction(() => (globalThis as any).explorer?.ready === true, null, { timeout: 120_000 });
  const pageSeconds = (performance.now() - t) / 1000;
  // a pan: mean time of 20 redraws of every point
  // deno-lint-ignore no-explicit-any
  const frameMs = await page.evaluate(() => (globalThis as any).explorerBenchRedraw(20));
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
    ["map computed (UMAP), with progress", `${mapSeconds.toFixed(1)} s`],
    ["map from its cache (server start)", `${cachedSeconds.toFixed(2)} s`],
    [`neighbour query, server-side (top 10, ${search})`, `${serverMs.toFixed(1)} ms`],
    ["neighbour query over HTTP", `${httpMs.toFixed(1)} ms`],
    ["page load until every point is drawn (Chromium)", `${pageSeconds.toFixed(2)} s`],
    ["redraw of every point (pan/zoom frame)", `${frameMs.toFixed(1)} ms`],
    ["a song added: vectors reloaded, map kept, song placed", `${addSeconds.toFixed(2)} s`],
  ];
  console.log(`\nexplorer, ${n} songs (${navigator.hardwareConcurrency} cores)\n`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(62)} | ${v.padStart(9)} |`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
