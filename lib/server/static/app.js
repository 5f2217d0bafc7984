// The explorer page: the map on a canvas (points written into one ImageData per frame, so 100 000 of them
// pan and zoom smoothly), hover and click through a grid index, the neighbour panel, search and uploads.
// Plain JavaScript, no build step. `globalThis.explorer` exposes state for the browser tests.

const PALETTE = [
  [78, 121, 167],
  [242, 142, 43],
  [225, 87, 89],
  [118, 183, 178],
  [89, 161, 79],
  [237, 201, 72],
  [176, 122, 161],
  [255, 157, 167],
  [156, 117, 95],
  [186, 176, 172],
  [31, 119, 180],
  [148, 103, 189],
];
const GREY = [190, 190, 190];

const canvas = document.getElementById("map");
const ctx = canvas.getContext("2d");
const tooltip = document.getElementById("tooltip");
const status = document.getElementById("status");
const player = document.getElementById("player");
const state = {
  songs: [],
  x: new Float32Array(0),
  y: new Float32Array(0),
  cluster: [],
  colours: new Uint8Array(0),
  view: { cx: 0, cy: 0, scale: 1 },
  selected: -1,
  hover: -1,
  neighbours: [],
  grid: null,
  upload: null,
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

// ---- colours -------------------------------------------------------------------------------------------
function colourBy(key) {
  const n = state.songs.length;
  const out = new Uint8Array(n * 3);
  let legend;
  if (key === "cluster") {
    for (let i = 0; i < n; i++) out.set(PALETTE[state.cluster[i] % PALETTE.length], i * 3);
  } else {
    const counts = new Map();
    for (const s of state.songs) if (s[key]) counts.set(s[key], (counts.get(s[key]) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, PALETTE.length).map((e) => e[0]);
    const index = new Map(top.map((v, i) => [v, i]));
    for (let i = 0; i < n; i++) {
      const c = index.get(state.songs[i][key]);
      out.set(c === undefined ? GREY : PALETTE[c], i * 3);
    }
    legend = top;
  }
  state.colours = out;
  return legend;
}

// ---- view and drawing ----------------------------------------------------------------------------------
function fit() {
  const n = state.songs.length;
  if (!n) return;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, state.x[i]);
    x1 = Math.max(x1, state.x[i]);
    y0 = Math.min(y0, state.y[i]);
    y1 = Math.max(y1, state.y[i]);
  }
  const w = canvas.width, h = canvas.height;
  state.view = {
    cx: (x0 + x1) / 2,
    cy: (y0 + y1) / 2,
    scale: 0.9 * Math.min(w / ((x1 - x0) || 1), h / ((y1 - y0) || 1)),
  };
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
  pix.fill(0xfffbfbfb);
  const n = state.songs.length;
  const r = n > 20000 ? 1 : n > 2000 ? 2 : n > 200 ? 3 : 5; // point radius in pixels
  const { cx, cy, scale } = state.view;
  const hw = w / 2, hh = h / 2;
  for (let i = 0; i < n; i++) {
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
  // the selection, its neighbours, the hovered point and an upload, drawn on top
  const ring = (i, colour, radius) => {
    const [px, py] = toScreen(state.x[i], state.y[i]);
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.stroke();
  };
  for (const nb of state.neighbours) if (nb.row >= 0) ring(nb.row, "#333", 5);
  if (state.selected >= 0) ring(state.selected, "#d62728", 8);
  if (state.hover >= 0) ring(state.hover, "#000", 6);
  if (state.upload) {
    const [px, py] = toScreen(...state.upload.position);
    ctx.fillStyle = "#d62728";
    ctx.beginPath();
    ctx.moveTo(px, py - 10);
    ctx.lineTo(px + 8, py + 6);
    ctx.lineTo(px - 8, py + 6);
    ctx.fill();
  }
}
const redraw = () => {
  if (!frame) frame = requestAnimationFrame(draw);
};

function resize() {
  const rect = canvas.getBoundingClientRect();
  canvas.width = Math.max(1, Math.round(rect.width));
  canvas.height = Math.max(1, Math.round(rect.height));
  redraw();
}

// ---- hit testing: a uniform grid over the data -------------------------------------------------------
function buildGrid() {
  const n = state.songs.length;
  const cells = Math.max(1, Math.round(Math.sqrt(n / 4)));
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, state.x[i]);
    x1 = Math.max(x1, state.x[i]);
    y0 = Math.min(y0, state.y[i]);
    y1 = Math.max(y1, state.y[i]);
  }
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

/** The point nearest to a screen position, within `radius` pixels, or -1. */
function pick(px, py, radius = 8) {
  const g = state.grid;
  if (!g) return -1;
  const [dx, dy] = toData(px, py);
  const rd = radius / state.view.scale;
  const [a0, b0] = g.cellOf(dx - rd, dy - rd), [a1, b1] = g.cellOf(dx + rd, dy + rd);
  let best = -1, bestD = rd * rd;
  for (let b = Math.max(0, b0); b <= Math.min(g.cells - 1, b1); b++) {
    for (let a = Math.max(0, a0); a <= Math.min(g.cells - 1, a1); a++) {
      for (const i of g.buckets[b * g.cells + a]) {
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

// ---- songs, playing, neighbours ------------------------------------------------------------------------
const rowOf = new Map();
const fmt = (
  s,
) => (s === undefined ? "" : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`);
const describe = (s) => [s.artist, s.album, fmt(s.duration)].filter(Boolean).join(" · ");

function showTooltip(i, px, py) {
  if (i < 0) {
    tooltip.hidden = true;
    return;
  }
  const s = state.songs[i];
  tooltip.replaceChildren();
  const t = document.createElement("b");
  t.textContent = s.title;
  tooltip.append(t);
  const meta = describe(s);
  if (meta) {
    const m = document.createElement("div");
    m.textContent = meta;
    tooltip.append(m);
  }
  if (s.path) {
    const p = document.createElement("div");
    p.className = "path";
    p.textContent = s.path;
    tooltip.append(p);
  }
  tooltip.style.left = `${px + 14}px`;
  tooltip.style.top = `${py + 14}px`;
  tooltip.hidden = false;
}

function listNeighbours(neighbours) {
  const ol = document.getElementById("neighbours");
  ol.replaceChildren();
  state.neighbours = neighbours.map((nb) => ({ ...nb, row: rowOf.get(nb.id) ?? -1 }));
  for (const nb of state.neighbours) {
    const li = document.createElement("li");
    li.dataset.id = nb.id;
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = nb.title;
    const sc = document.createElement("span");
    sc.className = "s";
    sc.textContent = ` ${nb.score.toFixed(4)}`;
    li.append(t, sc);
    const meta = describe(nb);
    if (meta) {
      const m = document.createElement("div");
      m.className = "s";
      m.textContent = meta;
      li.append(m);
    }
    li.addEventListener("click", () => {
      if (nb.row >= 0) select(nb.row, true);
    });
    ol.append(li);
  }
  document.getElementById("neighbours-box").hidden = false;
  redraw();
}

async function select(i, centre = false) {
  const s = state.songs[i];
  state.selected = i;
  document.getElementById("hint").hidden = true;
  document.getElementById("now").hidden = false;
  document.getElementById("now-title").textContent = s.title;
  document.getElementById("now-meta").textContent = [
    describe(s),
    s.path ?? "audio unavailable: the database stores no file for this song (vectors only)",
  ].filter(Boolean).join(" — ");
  if (s.path) {
    player.hidden = false;
    player.src = `/api/audio/${encodeURIComponent(s.id)}`;
    player.play().catch(() => {}); // a browser may wait for a gesture
  } else {
    player.pause();
    player.removeAttribute("src");
    player.hidden = true;
  }
  if (centre) {
    state.view.cx = state.x[i];
    state.view.cy = state.y[i];
  }
  redraw();
  try {
    const { neighbours } = await api(`/api/similar/${encodeURIComponent(s.id)}?k=10`);
    if (state.selected === i) listNeighbours(neighbours);
  } catch (e) {
    status.textContent = e.message;
  }
}

// ---- interaction ---------------------------------------------------------------------------------------
let drag = null;
canvas.addEventListener("mousedown", (e) => {
  drag = { x: e.offsetX, y: e.offsetY, moved: false };
});
addEventListener("mouseup", (e) => {
  if (drag && !drag.moved && e.target === canvas) {
    const i = pick(e.offsetX, e.offsetY);
    if (i >= 0) select(i);
  }
  drag = null;
  canvas.classList.remove("dragging");
});
canvas.addEventListener("mousemove", (e) => {
  if (drag && (drag.moved || Math.abs(e.offsetX - drag.x) + Math.abs(e.offsetY - drag.y) > 3)) {
    drag.moved = true;
    canvas.classList.add("dragging");
    state.view.cx -= (e.offsetX - drag.x) / state.view.scale;
    state.view.cy -= (e.offsetY - drag.y) / state.view.scale;
    drag.x = e.offsetX;
    drag.y = e.offsetY;
    tooltip.hidden = true;
    redraw();
    return;
  }
  const i = pick(e.offsetX, e.offsetY);
  if (i !== state.hover) {
    state.hover = i;
    redraw();
  }
  showTooltip(i, e.offsetX, e.offsetY);
});
canvas.addEventListener("mouseleave", () => {
  state.hover = -1;
  tooltip.hidden = true;
  redraw();
});
canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  const [dx, dy] = toData(e.offsetX, e.offsetY);
  const f = Math.exp(-e.deltaY * 0.0015);
  state.view.scale *= f;
  state.view.cx = dx - (dx - state.view.cx) / f;
  state.view.cy = dy - (dy - state.view.cy) / f;
  redraw();
}, { passive: false });
addEventListener("resize", resize);
document.getElementById("colour").addEventListener("change", (e) => {
  colourBy(e.target.value);
  redraw();
});

// search: title, artist, album and path, case-insensitive; the first 30 matches
const search = document.getElementById("search");
const results = document.getElementById("results");
search.addEventListener("input", () => {
  const q = search.value.trim().toLowerCase();
  results.replaceChildren();
  if (!q) {
    results.hidden = true;
    return;
  }
  const found = [];
  for (let i = 0; i < state.songs.length && found.length < 30; i++) {
    const s = state.songs[i];
    if ([s.title, s.artist, s.album, s.path ?? s.id].some((v) => v && v.toLowerCase().includes(q))) {
      found.push(i);
    }
  }
  for (const i of found) {
    const li = document.createElement("li");
    li.dataset.id = state.songs[i].id;
    li.textContent = [state.songs[i].title, state.songs[i].artist].filter(Boolean).join(" — ");
    li.addEventListener("click", () => {
      results.hidden = true;
      select(i, true);
    });
    results.append(li);
  }
  if (!found.length) {
    const li = document.createElement("li");
    li.textContent = "no match";
    results.append(li);
  }
  results.hidden = false;
});

// uploads: drop a file, watch it embed, see where it lands and what is near
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
  const say = (text) => {
    box.textContent = `${file.name}: ${text} (${((performance.now() - started) / 1000).toFixed(1)} s)`;
  };
  const stage = (text) => {
    box.dataset.stage = text;
    say(text);
  };
  stage("preparing");
  const timer = setInterval(() => say(box.dataset.stage ?? "uploading"), 250);
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
    state.upload = { name: file.name, ...result };
    box.dataset.where = result.where;
    box.dataset.stage = `placed at the ${result.placement}${result.storedId ? "; stored" : ""}; ` +
      `${result.where}${note}`;
    state.selected = -1;
    listNeighbours(result.neighbours);
    state.view.cx = result.position[0];
    state.view.cy = result.position[1];
  } catch (e) {
    box.dataset.stage = `failed: ${e.message}`;
  } finally {
    clearInterval(timer);
    say(box.dataset.stage);
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
/** Where song `i` is drawn, in canvas pixels (for the browser tests). */
globalThis.explorerScreen = (i) => toScreen(state.x[i], state.y[i]);

// ---- start ---------------------------------------------------------------------------------------------
async function load() {
  const t0 = performance.now();
  const [songs, map] = await Promise.all([api("/api/songs"), api("/api/map")]);
  state.songs = songs.songs;
  state.x = Float32Array.from(map.x);
  state.y = Float32Array.from(map.y);
  state.cluster = map.cluster;
  state.songs.forEach((s, i) => rowOf.set(s.id, i));
  colourBy(document.getElementById("colour").value);
  buildGrid();
  resize();
  fit();
  draw();
  state.loadMs = performance.now() - t0;
  state.ready = true;
  status.textContent = `${state.songs.length.toLocaleString()} songs`;
  document.getElementById("method").textContent = `Map: ${map.method}.`;
}
load().catch((e) => {
  status.textContent = `could not load: ${e.message}`;
});
