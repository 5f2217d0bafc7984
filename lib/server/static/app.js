// The explorer page: the map on a canvas (points written into one ImageData per frame, so 100 000 of them
// pan and zoom smoothly, at the screen's pixel ratio), hover, click and tap through a grid index, pan and
// pinch with any pointer, a legend for every colouring, search that shows its matches on the map, the
// neighbour panel with radio (play the neighbours in turn), playlists, uploads, and the state in the URL.
// Plain JavaScript modules, one per concern, no build step: core (state, elements, api), view (drawing, fit,
// zoom, hit testing), colours (and the legend), songs (tooltip, playing, neighbours, radio), search,
// url_state, uploads, pointers (and keys), playlist (the panel and the duplicates view), and this file,
// which starts it. `globalThis.explorer` exposes state for the browser tests.

import { api, canvas, rowOf, say, state, status, ui } from "./core.js";
import { buildGrid, draw, fit, redraw, resize, toScreen } from "./view.js";
import { colourBy } from "./colours.js";
import { select } from "./songs.js";
import { applyHash, saveState } from "./url_state.js";
import { upload } from "./uploads.js";
import "./search.js";
import "./pointers.js";
import { playlistPanel } from "./playlist.js";

document.getElementById("colour").addEventListener("change", (e) => {
  colourBy(e.target.value);
  redraw();
  saveState(false);
});

globalThis.explorerUpload = upload;
/** Mean milliseconds of `frames` full redraws (for the benchmark). */
globalThis.explorerBenchRedraw = (frames) => {
  const t = performance.now();
  for (let f = 0; f < frames; f++) {
    state.view.cx += 1e-3 / state.view.scale;
    draw();
  }
  return (performance.now() - t) / frames;
};
/** Where song `i` is drawn, in CSS pixels from the canvas's corner (for the browser tests). */
globalThis.explorerScreen = (i) => toScreen(state.x[i], state.y[i]).map((v) => v / state.dpr);

/** Until the server's map is ready: its progress in the status line. */
async function waitForMap() {
  for (;;) {
    const s = await api("/api/status");
    if (s.ready) return;
    status.textContent = `computing the map: ${s.stage} ${Math.round(s.fraction * 100)}%`;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function load() {
  const t0 = performance.now();
  // how long each stage took, in ms (the benchmark reports them)
  let lap = t0;
  const stage = (name) => {
    const now = performance.now();
    state.loadStages[name] = Math.round(now - lap);
    lap = now;
  };
  await waitForMap();
  stage("map ready");
  const [songs, map] = await Promise.all([api("/api/songs"), api("/api/map")]);
  stage("songs and map fetched and parsed");
  state.songs = songs.songs;
  state.config = songs.config ?? null;
  state.x = Float32Array.from(map.x);
  state.y = Float32Array.from(map.y);
  state.cluster = map.cluster;
  state.songs.forEach((s, i) => rowOf.set(s.id, i));
  stage("indexed");
  ui.panel = playlistPanel({ state, api, say, select, redraw, toScreen, rowOf, saveState });
  colourBy(document.getElementById("colour").value);
  stage("coloured");
  buildGrid();
  stage("hit grid");
  resize();
  fit();
  applyHash();
  draw();
  stage("drawn");
  state.loadMs = performance.now() - t0;
  state.ready = true;
  const n = state.songs.length;
  status.textContent = `${n.toLocaleString()} songs`;
  canvas.setAttribute(
    "aria-label",
    `Map of ${n.toLocaleString()} songs, similar songs close together. Arrow keys pan, + and - zoom, 0 fits, ` +
      `Enter plays the song nearest the centre.`,
  );
  if (state.config?.provenance === "untrained") {
    document.getElementById("untrained").hidden = false;
  }
  document.getElementById("method").textContent = `Map: ${map.method}.`;
  ui.panel.loadDuplicates();
}
load().catch((e) => {
  status.textContent = "could not load";
  say(`could not load the collection: ${e.message}`, true);
});
