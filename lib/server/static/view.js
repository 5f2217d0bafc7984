// The map's view and drawing: the points written into one ImageData per frame (device pixels inside, CSS
// pixels in events), fit and zoom within limits, and hit testing through a uniform grid over the data.

import { canvas, ctx, hooks, state, ui, UPLOAD } from "./core.js";

const BACKGROUND = 0xfffbfbfb;
/** Zoom limits, relative to the scale that fits every point. */
export const ZOOM_OUT = 0.25, ZOOM_IN = 5000;

export function bounds() {
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
export function fitScaleNow() {
  const { x0, x1, y0, y1 } = bounds();
  if (!Number.isFinite(x0)) return 1;
  return 0.9 * Math.min(canvas.width / ((x1 - x0) || 1), canvas.height / ((y1 - y0) || 1));
}

/** Show every point (the Fit button, the 0 key, and any resize before the user moved the view). */
export function fit() {
  const { x0, x1, y0, y1 } = bounds();
  if (!Number.isFinite(x0)) return;
  state.fitScale = fitScaleNow();
  state.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, scale: state.fitScale };
  state.moved = false;
  redraw();
  hooks.saveView();
}

/** Set the scale within the limits, keeping data point (dx, dy) under the same screen point. */
export function zoomAt(factor, dx = state.view.cx, dy = state.view.cy) {
  const v = state.view;
  const scale = Math.min(state.fitScale * ZOOM_IN, Math.max(state.fitScale * ZOOM_OUT, v.scale * factor));
  const f = scale / v.scale;
  v.scale = scale;
  v.cx = dx - (dx - v.cx) / f;
  v.cy = dy - (dy - v.cy) / f;
  state.moved = true;
  redraw();
  hooks.saveView();
}

/** Centre on song `i`, zooming in on a crowded map (up to 4× the fit; a small collection stays whole). */
export function zoomTo(i) {
  state.view.cx = state.x[i];
  state.view.cy = state.y[i];
  const crowd = Math.min(4, Math.max(1, Math.sqrt(state.songs.length) / 8));
  state.view.scale = Math.max(state.view.scale, state.fitScale * crowd);
  state.moved = true;
  redraw();
  hooks.saveView();
}

export const toScreen = (x, y) => [
  (x - state.view.cx) * state.view.scale + canvas.width / 2,
  (y - state.view.cy) * state.view.scale + canvas.height / 2,
];
export const toData = (px, py) => [
  (px - canvas.width / 2) / state.view.scale + state.view.cx,
  (py - canvas.height / 2) / state.view.scale + state.view.cy,
];

let image = null;
let frame = 0;
export function draw() {
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
  ui.panel?.draw(ctx, toScreen, d);
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
export const redraw = () => {
  if (!frame) frame = requestAnimationFrame(draw);
};

/** Size the canvas to its box at the screen's pixel ratio; keep what was shown (refit if never moved). */
export function resize() {
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

export function buildGrid() {
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

/** The point nearest to a screen position (CSS pixels), within `radius` CSS pixels: a row, UPLOAD, or -1. */
export function pick(cssX, cssY, radius = 8) {
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
