// The explorer page: the map on a canvas (points written into one ImageData per frame, so 100 000 of them
// pan and zoom smoothly, at the screen's pixel ratio), hover, click and tap through a grid index, pan and
// pinch with any pointer, a legend for every colouring, search that shows its matches on the map, the
// neighbour panel with radio (play the neighbours in turn), uploads, and the state in the URL.
// Plain JavaScript, no build step. `globalThis.explorer` exposes state for the browser tests.

// 12 colours, each at least 3.8:1 against the map's background (WCAG's 3:1 for graphics), and the rest
const PALETTE = [
  [31, 119, 180],
  [201, 98, 0],
  [35, 131, 35],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [196, 72, 160],
  [122, 122, 0],
  [0, 128, 128],
  [31, 58, 120],
  [170, 0, 120],
  [150, 105, 0],
];
const OTHER = [128, 128, 128];
const BACKGROUND = 0xfffbfbfb;
/** Zoom limits, relative to the scale that fits every point. */
const ZOOM_OUT = 0.25, ZOOM_IN = 5000;

import { playlistPanel } from "./playlist.js";

const canvas = document.getElementById("map");
const ctx = canvas.getContext("2d");
const tooltip = document.getElementById("tooltip");
const status = document.getElementById("status");
const notice = document.getElementById("notice");
const player = document.getElementById("player");
const state = {
  songs: [],
  x: new Float32Array(0),
  y: new Float32Array(0),
  cluster: [],
  colours: new Uint8Array(0),
  group: new Int32Array(0),
  legend: [],
  hiddenGroups: new Set(),
  view: { cx: 0, cy: 0, scale: 1 },
  fitScale: 1,
  moved: false,
  dpr: 1,
  selected: -1,
  hover: -1,
  neighbours: [],
  matches: [],
  grid: null,
  upload: null,
  radio: false,
  config: null,
  ready: false,
  loadMs: 0,
};
globalThis.explorer = state;

const api = async (path, init) => {
  const r = await fetch(path, init);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ?? r.statusText);
  return body;
};

/** A line in the live region (read out by screen readers); errors stay until the next message. */
function say(text, error = false) {
  notice.textContent = text;
  notice.classList.toggle("error", error);
  notice.hidden = !text;
}

// ---- colours and the legend ----------------------------------------------------------------------------
/** Colour every point by `key`; the legend lists each colour with its count, and "other" for the rest. */
function colourBy(key) {
  const n = state.songs.length;
  const out = new Uint8Array(n * 3);
  const group = new Int32Array(n).fill(-1);
  let labels;
  if (key === "cluster") {
    let k = 1; // a loop, not Math.max(...): a million arguments overflow the stack
    for (const c of state.cluster) if (c + 1 > k) k = c + 1;
    labels = Array.from({ length: Math.min(k, PALETTE.length) }, (_, c) => `cluster ${c + 1}`);
    for (let i = 0; i < n; i++) group[i] = state.cluster[i] < PALETTE.length ? state.cluster[i] : -1;
  } else {
    const counts = new Map();
    for (const s of state.songs) if (s[key]) counts.set(s[key], (counts.get(s[key]) ?? 0) + 1);
    labels = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, PALETTE.length).map((e) => e[0]);
    const index = new Map(labels.map((v, i) => [v, i]));
    for (let i = 0; i < n; i++) group[i] = index.get(state.songs[i][key]) ?? -1;
  }
  const counts = new Array(labels.length).fill(0);
  let other = 0;
  for (let i = 0; i < n; i++) {
    const g = group[i];
    out.set(g < 0 ? OTHER : PALETTE[g], i * 3);
    if (g < 0) other++;
    else counts[g]++;
  }
  state.colours = out;
  state.group = group;
  state.hiddenGroups = new Set();
  state.legend = labels.map((label, g) => ({ label, colour: PALETTE[g], count: counts[g], group: g }));
  if (other) {
    const what = key === "cluster" ? "other clusters" : `other or no ${key}`;
    state.legend.push({ label: what, colour: OTHER, count: other, group: -1 });
  }
  drawLegend();
}

function drawLegend() {
  const ul = document.getElementById("legend");
  ul.replaceChildren();
  for (const entry of state.legend) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("aria-pressed", String(!state.hiddenGroups.has(entry.group)));
    b.title = "show or hide these songs on the map";
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = `rgb(${entry.colour.join(",")})`;
    const label = document.createElement("span");
    label.textContent = `${entry.label} (${entry.count.toLocaleString()})`;
    b.append(sw, label);
    b.addEventListener("click", () => {
      if (state.hiddenGroups.has(entry.group)) state.hiddenGroups.delete(entry.group);
      else state.hiddenGroups.add(entry.group);
      b.setAttribute("aria-pressed", String(!state.hiddenGroups.has(entry.group)));
      redraw();
    });
    li.append(b);
    ul.append(li);
  }
}

// ---- view and drawing (device pixels inside; CSS pixels in events) ------------------------------------
function bounds() {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < state.songs.length; i++) {
    x0 = Math.min(x0, state.x[i]);
    x1 = Math.max(x1, state.x[i]);
    y0 = Math.min(y0, state.y[i]);
    y1 = Math.max(y1, state.y[i]);
  }
  return { x0, x1, y0, y1 };
}

/** The scale that shows every point, for the canvas as it is now. */
function fitScaleNow() {
  const { x0, x1, y0, y1 } = bounds();
  if (!Number.isFinite(x0)) return 1;
  return 0.9 * Math.min(canvas.width / ((x1 - x0) || 1), canvas.height / ((y1 - y0) || 1));
}

/** Show every point (the Fit button, the 0 key, and any resize before the user moved the view). */
function fit() {
  const { x0, x1, y0, y1 } = bounds();
  if (!Number.isFinite(x0)) return;
  state.fitScale = fitScaleNow();
  state.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, scale: state.fitScale };
  state.moved = false;
  redraw();
  saveView();
}

/** Set the scale within the limits, keeping data point (dx, dy) under the same screen point. */
function zoomAt(factor, dx = state.view.cx, dy = state.view.cy) {
  const v = state.view;
  const scale = Math.min(state.fitScale * ZOOM_IN, Math.max(state.fitScale * ZOOM_OUT, v.scale * factor));
  const f = scale / v.scale;
  v.scale = scale;
  v.cx = dx - (dx - v.cx) / f;
  v.cy = dy - (dy - v.cy) / f;
  state.moved = true;
  redraw();
  saveView();
}

/** Centre on song `i`, zooming in on a crowded map (up to 4× the fit; a small collection stays whole). */
function zoomTo(i) {
  state.view.cx = state.x[i];
  state.view.cy = state.y[i];
  const crowd = Math.min(4, Math.max(1, Math.sqrt(state.songs.length) / 8));
  state.view.scale = Math.max(state.view.scale, state.fitScale * crowd);
  state.moved = true;
  redraw();
  saveView();
}

const toScreen = (x, y) => [
  (x - state.view.cx) * state.view.scale + canvas.width / 2,
  (y - state.view.cy) * state.view.scale + canvas.height / 2,
];
const toData = (px, py) => [
  (px - canvas.width / 2) / state.view.scale + state.view.cx,
  (py - canvas.height / 2) / state.view.scale + state.view.cy,
];

let image = null;
let frame = 0;
function draw() {
  frame = 0;
  const w = canvas.width, h = canvas.height;
  if (!image || image.width !== w || image.height !== h) image = ctx.createImageData(w, h);
  const pix = new Uint32Array(image.data.buffer);
  pix.fill(BACKGROUND);
  const n = state.songs.length;
  const r = Math.max(1, Math.round((n > 20000 ? 1 : n > 2000 ? 2 : n > 200 ? 3 : 5) * state.dpr));
  const { cx, cy, scale } = state.view;
  const hw = w / 2, hh = h / 2;
  const hidden = state.hiddenGroups;
  for (let i = 0; i < n; i++) {
    if (hidden.size && hidden.has(state.group[i])) continue;
    const px = Math.round((state.x[i] - cx) * scale + hw), py = Math.round((state.y[i] - cy) * scale + hh);
    if (px < r || py < r || px >= w - r || py >= h - r) continue;
    const c = 0xff000000 | (state.colours[i * 3 + 2] << 16) | (state.colours[i * 3 + 1] << 8) |
      state.colours[i * 3];
    for (let dy = -r + 1; dy < r; dy++) {
      const row = (py + dy) * w;
      for (let dx = -r + 1; dx < r; dx++) pix[row + px + dx] = c;
    }
  }
  ctx.putImageData(image, 0, 0);
  const d = state.dpr;
  const ring = (i, colour, radius, width = 2) => {
    const [px, py] = toScreen(state.x[i], state.y[i]);
    ctx.beginPath();
    ctx.arc(px, py, radius * d, 0, 2 * Math.PI);
    ctx.strokeStyle = colour;
    ctx.lineWidth = width * d;
    ctx.stroke();
  };
  // search matches, the selection, its neighbours, the hovered point and an upload, drawn on top
  for (let k = 0; k < Math.min(state.matches.length, 5000); k++) ring(state.matches[k], "#1f3a78", 7, 1.5);
  for (const nb of state.neighbours) if (nb.row >= 0) ring(nb.row, "#333", 5);
  if (state.selected >= 0) ring(state.selected, "#d62728", 8);
  if (state.hover >= 0) ring(state.hover, "#000", 6);
  panel?.draw(ctx, toScreen, d);
  if (state.upload) {
    const [px, py] = toScreen(...state.upload.position);
    ctx.fillStyle = "#d62728";
    ctx.strokeStyle = state.hover === UPLOAD ? "#000" : "#fff";
    ctx.lineWidth = 1.5 * d;
    ctx.beginPath();
    ctx.moveTo(px, py - 10 * d);
    ctx.lineTo(px + 8 * d, py + 6 * d);
    ctx.lineTo(px - 8 * d, py + 6 * d);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
  }
}
const redraw = () => {
  if (!frame) frame = requestAnimationFrame(draw);
};

/** Size the canvas to its box at the screen's pixel ratio; keep what was shown (refit if never moved). */
function resize() {
  const rect = canvas.getBoundingClientRect();
  const oldFit = state.fitScale;
  state.dpr = devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(rect.width * state.dpr));
  canvas.height = Math.max(1, Math.round(rect.height * state.dpr));
  if (!state.songs.length) return;
  if (!state.moved) return fit();
  state.fitScale = fitScaleNow();
  state.view.scale *= state.fitScale / oldFit; // the same part of the map stays in view
  redraw();
}

// ---- hit testing: a uniform grid over the data -------------------------------------------------------
function buildGrid() {
  const n = state.songs.length;
  const cells = Math.max(1, Math.round(Math.sqrt(n / 4)));
  const { x0, x1, y0, y1 } = bounds();
  const sx = cells / ((x1 - x0) || 1), sy = cells / ((y1 - y0) || 1);
  const cellOf = (
    x,
    y,
  ) => [Math.min(cells - 1, Math.floor((x - x0) * sx)), Math.min(cells - 1, Math.floor((y - y0) * sy))];
  const buckets = Array.from({ length: cells * cells }, () => []);
  for (let i = 0; i < n; i++) {
    const [a, b] = cellOf(state.x[i], state.y[i]);
    buckets[b * cells + a].push(i);
  }
  state.grid = { cells, buckets, cellOf, sx, sy };
}

/** The dropped file's mark, as a hover target. */
const UPLOAD = -2;

/** The point nearest to a screen position (CSS pixels), within `radius` CSS pixels: a row, UPLOAD, or -1. */
function pick(cssX, cssY, radius = 8) {
  const px = cssX * state.dpr, py = cssY * state.dpr;
  if (state.upload) {
    const [ux, uy] = toScreen(...state.upload.position);
    if (Math.hypot(ux - px, uy - py) <= 10 * state.dpr) return UPLOAD;
  }
  const g = state.grid;
  if (!g) return -1;
  const [dx, dy] = toData(px, py);
  const rd = (radius * state.dpr) / state.view.scale;
  const [a0, b0] = g.cellOf(dx - rd, dy - rd), [a1, b1] = g.cellOf(dx + rd, dy + rd);
  let best = -1, bestD = rd * rd;
  const hidden = state.hiddenGroups;
  for (let b = Math.max(0, b0); b <= Math.min(g.cells - 1, b1); b++) {
    for (let a = Math.max(0, a0); a <= Math.min(g.cells - 1, a1); a++) {
      for (const i of g.buckets[b * g.cells + a]) {
        if (hidden.size && hidden.has(state.group[i])) continue;
        const d = (state.x[i] - dx) ** 2 + (state.y[i] - dy) ** 2;
        if (d <= bestD) {
          bestD = d;
          best = i;
        }
      }
    }
  }
  return best;
}

// ---- songs, playing, neighbours, radio -----------------------------------------------------------------
const rowOf = new Map();
const fmt = (
  s,
) => (s === undefined ? "" : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`);
/** Tag text isolated (FSI … PDI): a bidi control in a title or artist cannot reorder what stands beside it. */
const iso = (t) => (t ? `\u2068${t}\u2069` : t);
const describe = (s) => [iso(s.artist), iso(s.album), fmt(s.duration)].filter(Boolean).join(" · ");

function showTooltip(i, cssX, cssY) {
  if (i === -1) {
    tooltip.hidden = true;
    return;
  }
  tooltip.replaceChildren();
  const t = document.createElement("b");
  const lines = [];
  if (i === UPLOAD) {
    t.textContent = state.upload.name;
    lines.push(["", "the dropped file: click to play it and list its neighbours"]);
  } else {
    const s = state.songs[i];
    t.textContent = s.title;
    lines.push(["", describe(s)], ["path", s.path ?? "audio unavailable (vectors only)"]);
  }
  tooltip.append(t);
  for (const [cls, text] of lines) {
    if (!text) continue;
    const d = document.createElement("div");
    if (cls) d.className = cls;
    d.textContent = text;
    tooltip.append(d);
  }
  const stage = document.getElementById("stage").getBoundingClientRect();
  tooltip.style.left = `${Math.min(cssX + 14, Math.max(0, stage.width - 240))}px`;
  tooltip.style.top = `${Math.min(cssY + 14, Math.max(0, stage.height - 80))}px`;
  tooltip.hidden = false;
}

function listNeighbours(neighbours) {
  const ol = document.getElementById("neighbours");
  ol.replaceChildren();
  state.neighbours = neighbours.map((nb) => ({ ...nb, row: rowOf.get(nb.id) ?? -1 }));
  for (const [k, nb] of state.neighbours.entries()) {
    const li = document.createElement("li");
    li.dataset.id = nb.id;
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = nb.title;
    const sc = document.createElement("span");
    sc.className = "s";
    sc.textContent = ` ${nb.score.toFixed(4)}`;
    b.append(t, sc);
    li.append(b);
    const meta = describe(nb);
    if (meta) {
      const m = document.createElement("div");
      m.className = "s";
      m.textContent = meta;
      li.append(m);
    }
    b.addEventListener("click", () => {
      if (nb.row >= 0) select(nb.row, { centre: true, keepNeighbours: state.radio, radioAt: k });
    });
    ol.append(li);
  }
  document.getElementById("neighbours-box").hidden = false;
  redraw();
}

/** The playlist panel (./playlist.js), once the songs are loaded. */
let panel = null;

/** The radio's seed (whose neighbours play in turn) and where it is in them. */
let radio = { seed: -1, at: -1 };

async function select(
  i,
  { centre = false, keepNeighbours = false, radioAt = -1, push = true, fromPlaylist = false } = {},
) {
  const s = state.songs[i];
  if (!fromPlaylist) panel?.selected(i);
  state.selected = i;
  document.getElementById("hint").hidden = true;
  document.getElementById("now").hidden = false;
  document.getElementById("now-title").textContent = s.title;
  document.getElementById("now-meta").textContent = [
    describe(s),
    s.path ?? "audio unavailable: the database stores no file for this song (vectors only)",
  ].filter(Boolean).join(" — ");
  play(s.path ? `/api/audio/${encodeURIComponent(s.id)}` : null);
  if (centre) zoomTo(i);
  if (push) saveState(true);
  redraw();
  if (keepNeighbours) {
    radio.at = radioAt;
    return;
  }
  radio = { seed: i, at: -1 };
  try {
    const { neighbours } = await api(`/api/similar/${encodeURIComponent(s.id)}?k=10`);
    if (state.selected === i) listNeighbours(neighbours);
  } catch (e) {
    say(`could not list the neighbours of ${s.title}: ${e.message}`, true);
  }
}

function play(src) {
  if (src) {
    player.hidden = false;
    player.src = src;
    player.play().catch(() => {}); // a browser may wait for a gesture
  } else {
    player.pause();
    player.removeAttribute("src");
    player.hidden = true;
  }
}
player.addEventListener("error", () => {
  if (player.getAttribute("src")) {
    say("this song's audio could not be played (its file is missing or unreadable)", true);
  }
});

/** Radio: the next (or previous) neighbour of the seed. */
function step(delta) {
  const list = state.neighbours.filter((nb) => nb.row >= 0);
  if (!list.length) return;
  const at = Math.max(-1, Math.min(list.length - 1, radio.at + delta));
  if (at < 0) return;
  select(list[at].row, { keepNeighbours: true, radioAt: at });
}
document.getElementById("radio").addEventListener("change", (e) => {
  state.radio = e.target.checked;
});
player.addEventListener("ended", () => {
  if (panel?.ended()) return; // a playlist playing: its next song
  if (state.radio) step(1);
});
document.getElementById("next").addEventListener("click", () => {
  state.radio = document.getElementById("radio").checked = true;
  step(1);
});
document.getElementById("prev").addEventListener("click", () => step(-1));

// ---- pointers: pan with one, pinch with two; a tap or click selects -----------------------------------
const pointers = new Map();
let gesture = null;
canvas.addEventListener("pointerdown", (e) => {
  try {
    canvas.setPointerCapture(e.pointerId);
  } catch { /* a synthetic pointer */ }
  pointers.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
  gesture = { moved: pointers.size > 1, pinch: null };
  if (pointers.size === 2) {
    const [a, b] = [...pointers.values()];
    gesture.pinch = { d: Math.hypot(a.x - b.x, a.y - b.y) || 1 };
  }
});
canvas.addEventListener("pointermove", (e) => {
  const p = pointers.get(e.pointerId);
  if (!p) {
    if (e.pointerType === "mouse") hoverAt(e.offsetX, e.offsetY);
    return;
  }
  const dx = e.offsetX - p.x, dy = e.offsetY - p.y;
  if (pointers.size === 1) {
    if (!gesture.moved && Math.abs(dx) + Math.abs(dy) <= 3) return;
    gesture.moved = true;
    canvas.classList.add("dragging");
    state.view.cx -= (dx * state.dpr) / state.view.scale;
    state.view.cy -= (dy * state.dpr) / state.view.scale;
    state.moved = true;
    tooltip.hidden = true;
    p.x = e.offsetX;
    p.y = e.offsetY;
    redraw();
    saveView();
    return;
  }
  p.x = e.offsetX;
  p.y = e.offsetY;
  if (pointers.size === 2 && gesture.pinch) {
    const [a, b] = [...pointers.values()];
    const d = Math.hypot(a.x - b.x, a.y - b.y) || 1;
    const [mx, my] = toData(((a.x + b.x) / 2) * state.dpr, ((a.y + b.y) / 2) * state.dpr);
    zoomAt(d / gesture.pinch.d, mx, my);
    gesture.pinch.d = d;
  }
});
const release = (e) => {
  if (!pointers.has(e.pointerId)) return;
  pointers.delete(e.pointerId);
  if (pointers.size === 0) {
    canvas.classList.remove("dragging");
    if (gesture && !gesture.moved && e.type === "pointerup") {
      const i = pick(e.offsetX, e.offsetY, e.pointerType === "touch" ? 16 : 8);
      if (e.pointerType !== "mouse") tooltip.hidden = true;
      if (i === UPLOAD) showUpload();
      else if (i >= 0) select(i);
    }
    gesture = null;
  }
};
canvas.addEventListener("pointerup", release);
canvas.addEventListener("pointercancel", release);
function hoverAt(x, y) {
  const i = pick(x, y);
  if (i !== state.hover) {
    state.hover = i;
    redraw();
    schedulePreview(i);
  }
  showTooltip(i, x, y);
}

// preview on hover (when ticked): after 400 ms on a point, 5 s of it from a third of the way in, quietly
const preview = new Audio();
preview.preload = "none";
preview.volume = 0.6;
let previewTimer = 0, previewStop = 0;
globalThis.explorerPreview = preview;
function schedulePreview(i) {
  clearTimeout(previewTimer);
  clearTimeout(previewStop);
  preview.pause();
  const s = i >= 0 ? state.songs[i] : null;
  if (!s?.path || !document.getElementById("preview").checked) return;
  previewTimer = setTimeout(() => {
    if (state.hover !== i) return;
    player.pause(); // one sound at a time
    preview.src = `/api/audio/${encodeURIComponent(s.id)}`;
    preview.currentTime = (s.duration ?? 0) / 3;
    preview.play().catch(() => {});
    previewStop = setTimeout(() => preview.pause(), 5000);
  }, 400);
}
canvas.addEventListener("pointerleave", (e) => {
  if (e.pointerType !== "mouse") return;
  schedulePreview(-1);
  state.hover = -1;
  tooltip.hidden = true;
  redraw();
});
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  const [dx, dy] = toData(e.offsetX * state.dpr, e.offsetY * state.dpr);
  zoomAt(Math.exp(-e.deltaY * 0.0015), dx, dy);
}, { passive: false });
addEventListener("resize", resize);
document.getElementById("fit").addEventListener("click", fit);

// the map from the keyboard: arrows pan, + and - zoom, 0 fits, Enter plays the song nearest the centre
canvas.addEventListener("keydown", (e) => {
  const stepPx = 60 * state.dpr / state.view.scale;
  const keys = {
    ArrowLeft: () => state.view.cx -= stepPx,
    ArrowRight: () => state.view.cx += stepPx,
    ArrowUp: () => state.view.cy -= stepPx,
    ArrowDown: () => state.view.cy += stepPx,
    "+": () => zoomAt(1.25),
    "=": () => zoomAt(1.25),
    "-": () => zoomAt(0.8),
    "0": fit,
    Enter: () => {
      const i = pick(canvas.width / 2 / state.dpr, canvas.height / 2 / state.dpr, 40);
      if (i >= 0) select(i);
    },
  };
  const f = keys[e.key];
  if (!f) return;
  e.preventDefault();
  f();
  state.moved = true;
  redraw();
  saveView();
});
// anywhere outside a text field: n / p step the radio, / goes to search, Escape closes lists
addEventListener("keydown", (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === "Escape") {
    closeResults();
    tooltip.hidden = true;
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "n") step(1);
  else if (e.key === "p") step(-1);
  else if (e.key === "/") {
    e.preventDefault();
    search.focus();
  }
});

document.getElementById("colour").addEventListener("change", (e) => {
  colourBy(e.target.value);
  redraw();
  saveState(false);
});

// ---- search: title, artist, album and path; every match shown on the map, the first 50 listed ----------
const search = document.getElementById("search");
const results = document.getElementById("results");
const LISTED = 50;
let active = -1;
function closeResults() {
  results.hidden = true;
  search.setAttribute("aria-expanded", "false");
  search.removeAttribute("aria-activedescendant");
}
function runSearch() {
  const q = search.value.trim().toLowerCase();
  results.replaceChildren();
  active = -1;
  state.matches = [];
  if (!q) {
    closeResults();
    document.getElementById("search-count").textContent = "";
    redraw();
    return;
  }
  for (let i = 0; i < state.songs.length; i++) {
    const s = state.songs[i];
    if ([s.title, s.artist, s.album, s.path ?? s.id].some((v) => v && v.toLowerCase().includes(q))) {
      state.matches.push(i);
    }
  }
  const n = state.matches.length;
  document.getElementById("search-count").textContent = n === 0
    ? "no match"
    : `${n.toLocaleString()} match${n === 1 ? "" : "es"}${n > LISTED ? `, the first ${LISTED} listed` : ""}`;
  // titles that repeat among the listed are told apart by their paths
  const listed = state.matches.slice(0, LISTED);
  const seen = new Map();
  for (const i of listed) seen.set(state.songs[i].title, (seen.get(state.songs[i].title) ?? 0) + 1);
  for (const [k, i] of listed.entries()) {
    const s = state.songs[i];
    const li = document.createElement("li");
    li.id = `result-${k}`;
    li.setAttribute("role", "option");
    li.dataset.id = s.id;
    li.textContent = [s.title, s.artist].filter(Boolean).join(" — ");
    if (seen.get(s.title) > 1) {
      const p = document.createElement("div");
      p.className = "path";
      p.textContent = s.path ?? s.id;
      li.append(p);
    }
    li.addEventListener("click", () => choose(k));
    results.append(li);
  }
  if (n > LISTED) {
    const li = document.createElement("li");
    li.className = "more";
    li.textContent = `… and ${(n - LISTED).toLocaleString()} more: every match is ringed on the map`;
    results.append(li);
  }
  results.hidden = n === 0;
  search.setAttribute("aria-expanded", String(n > 0));
  redraw();
}
function choose(k) {
  const i = state.matches[k];
  closeResults();
  if (i !== undefined) select(i, { centre: true });
}
function setActive(k) {
  const items = results.querySelectorAll("li[role=option]");
  if (!items.length) return;
  active = (k + items.length) % items.length;
  items.forEach((li, j) => li.setAttribute("aria-selected", String(j === active)));
  search.setAttribute("aria-activedescendant", items[active].id);
  items[active].scrollIntoView({ block: "nearest" });
}
search.addEventListener("input", () => {
  runSearch();
  saveState(false);
});
search.addEventListener("keydown", (e) => {
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    if (results.hidden && state.matches.length) results.hidden = false;
    setActive(active + (e.key === "ArrowDown" ? 1 : -1));
  } else if (e.key === "Enter") {
    e.preventDefault();
    choose(active >= 0 ? active : 0);
  } else if (e.key === "Escape") {
    closeResults();
  }
});
search.addEventListener("focus", () => {
  if (state.matches.length) {
    results.hidden = false;
    search.setAttribute("aria-expanded", "true");
  }
});
addEventListener("pointerdown", (e) => {
  if (!results.contains(e.target) && e.target !== search) closeResults();
});

// ---- the state in the URL: #song=…&c=…&q=…&v=cx,cy,zoom; a link restores it, Back goes back -------------
function stateHash() {
  const p = new URLSearchParams();
  if (state.selected >= 0) p.set("song", state.songs[state.selected].id);
  const colour = document.getElementById("colour").value;
  if (colour !== "cluster") p.set("c", colour);
  if (search.value.trim()) p.set("q", search.value.trim());
  panel?.hash(p);
  if (state.moved) {
    const v = state.view;
    p.set(
      "v",
      [v.cx.toPrecision(6), v.cy.toPrecision(6), (v.scale / state.fitScale).toPrecision(4)].join(","),
    );
  }
  const text = p.toString();
  return text ? `#${text}` : "";
}
function saveState(push) {
  if (!state.ready) return;
  const hash = stateHash();
  if (hash === location.hash || (hash === "" && location.hash === "")) return;
  const url = `${location.pathname}${location.search}${hash}`;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}
let viewTimer = 0;
function saveView() {
  clearTimeout(viewTimer);
  viewTimer = setTimeout(() => saveState(false), 300);
}
function applyHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const colour = document.getElementById("colour");
  const c = p.get("c") ?? "cluster";
  if ([...colour.options].some((o) => o.value === c) && colour.value !== c) {
    colour.value = c;
    colourBy(c);
  }
  const q = p.get("q") ?? "";
  if (search.value !== q) {
    search.value = q;
    runSearch();
    closeResults();
  }
  const v = (p.get("v") ?? "").split(",").map(Number);
  if (v.length === 3 && v.every(Number.isFinite) && v[2] > 0) {
    state.view = { cx: v[0], cy: v[1], scale: Math.min(ZOOM_IN, Math.max(ZOOM_OUT, v[2])) * state.fitScale };
    state.moved = true;
  } else {
    fit();
  }
  const row = rowOf.get(p.get("song"));
  if (row !== undefined && row !== state.selected) select(row, { push: false, fromPlaylist: true });
  panel?.apply(p);
  if (row === undefined && state.selected >= 0) {
    state.selected = -1;
    document.getElementById("now").hidden = true;
    document.getElementById("neighbours-box").hidden = true;
    state.neighbours = [];
    play(null);
  }
  redraw();
}
addEventListener("popstate", applyHash);

// ---- uploads: drop a file (or choose one), watch it embed, see where it lands and what is near -----------
const drop = document.getElementById("drop");
addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.hidden = false;
});
addEventListener("dragleave", (e) => {
  if (!e.relatedTarget) drop.hidden = true;
});
addEventListener("drop", (e) => {
  e.preventDefault();
  drop.hidden = true;
  const file = e.dataTransfer?.files?.[0];
  if (file) upload(file);
});
document.getElementById("file").addEventListener("change", (e) => {
  const file = e.target.files?.[0];
  if (file) upload(file);
  e.target.value = "";
});

/** The dropped file again: play it from the page's own copy, list its neighbours. */
function showUpload() {
  const u = state.upload;
  if (!u) return;
  state.selected = -1;
  document.getElementById("now").hidden = false;
  document.getElementById("now-title").textContent = u.name;
  document.getElementById("now-meta").textContent = `the dropped file — ${u.where}`;
  play(u.url);
  listNeighbours(u.neighbours);
}

// A dropped file is embedded in this page, on this browser's GPU (WebGPU), when the explorer offers its model
// and browser build: the page decodes it with the command line's decoders, embeds it with the stored songs'
// framing and pooling, and sends only the vector. Otherwise (no WebGPU, an explorer that keeps uploads, a
// format the page cannot decode) the file goes to the server, which embeds it the same way.
let inPage = null;
function inPageEmbedder() {
  inPage ??= (async () => {
    if (!navigator.gpu) return { why: "this browser has no WebGPU" };
    if (new URLSearchParams(location.search).get("embed") === "server") return { why: "?embed=server" };
    const info = await api("/api/in-page");
    if (!info.module || !info.config) return { why: info.why };
    const lib = await import(info.module);
    const model = await lib.loadAudioEmbeddingModel({ url: "/api/model.onnx" });
    return { lib, model, config: info.config };
  })().catch((e) => ({ why: e.message }));
  return inPage;
}
globalThis.explorerInPage = async () => {
  const e = await inPageEmbedder();
  return e.model ? { ok: true, description: e.model.description } : { ok: false, why: e.why };
};

/** Embed `file` in this page; the server ranks and places the vector. */
async function embedHere({ lib, model, config }, file, stage) {
  stage("decoding in this page");
  const clip = await lib.decodeAudio(new Uint8Array(await file.arrayBuffer()), file.name, {
    maxDuration: 1200,
  });
  stage("embedding in this page (WebGPU)");
  const e = await lib.getAudioEmbedding(clip.samples, clip.sampleRate, {
    model,
    hopSize: config.hopSize,
    center: config.center,
    onWarning: () => {},
  });
  const vector = lib.poolEmbeddings(e, config.pooling);
  stage("ranking");
  const r = await fetch("/api/place", {
    method: "POST",
    body: JSON.stringify({ vector: Array.from(vector) }),
    headers: { "content-type": "application/json" },
  });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error);
  return { ...body.result, where: "embedded in this page" };
}

/** Send `file` to the server, which embeds it; its stages are shown as they come. */
async function embedOnServer(file, stage) {
  const r = await fetch("/api/embed", { method: "POST", body: file, headers: { "x-filename": file.name } });
  if (!r.ok) throw new Error((await r.json()).error);
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const msg = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (msg.stage) stage(msg.stage);
      if (msg.error) throw new Error(msg.error);
      if (msg.result) return { ...msg.result, where: "embedded by the server" };
    }
  }
  throw new Error("the server closed the answer without a result");
}

async function upload(file) {
  const box = document.getElementById("upload-status");
  document.getElementById("upload").hidden = false;
  const started = performance.now();
  const show = (text) => {
    box.textContent = `${file.name}: ${text} (${((performance.now() - started) / 1000).toFixed(1)} s)`;
  };
  const stage = (text) => {
    box.dataset.stage = text;
    show(text);
  };
  stage("preparing");
  const timer = setInterval(() => show(box.dataset.stage ?? "uploading"), 250);
  try {
    const here = await inPageEmbedder();
    let result = null, note = "";
    if (here.model) {
      try {
        result = await embedHere(here, file, stage);
      } catch (e) {
        note = ` (in this page: ${e.message})`;
      }
    }
    if (!result) {
      stage("uploading");
      result = await embedOnServer(file, stage);
    }
    if (state.upload?.url) URL.revokeObjectURL(state.upload.url);
    state.upload = { name: file.name, url: URL.createObjectURL(file), ...result };
    box.dataset.where = result.where;
    box.dataset.stage = `placed at the ${result.placement}${result.storedId ? "; stored" : ""}; ` +
      `${result.where}${note}`;
    state.selected = -1;
    radio = { seed: -1, at: -1 };
    listNeighbours(result.neighbours);
    state.view.cx = result.position[0];
    state.view.cy = result.position[1];
    state.moved = true;
    say(`${file.name} placed on the map`);
  } catch (e) {
    box.dataset.stage = `failed: ${e.message}`;
    say(`${file.name}: ${e.message}`, true);
  } finally {
    clearInterval(timer);
    show(box.dataset.stage);
    redraw();
  }
}
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

// ---- start ---------------------------------------------------------------------------------------------
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
  await waitForMap();
  const [songs, map] = await Promise.all([api("/api/songs"), api("/api/map")]);
  state.songs = songs.songs;
  state.config = songs.config ?? null;
  state.x = Float32Array.from(map.x);
  state.y = Float32Array.from(map.y);
  state.cluster = map.cluster;
  state.songs.forEach((s, i) => rowOf.set(s.id, i));
  panel = playlistPanel({ state, api, say, select, redraw, toScreen, rowOf, saveState });
  colourBy(document.getElementById("colour").value);
  buildGrid();
  resize();
  fit();
  applyHash();
  draw();
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
  panel.loadDuplicates();
}
load().catch((e) => {
  status.textContent = "could not load";
  say(`could not load the collection: ${e.message}`, true);
});
