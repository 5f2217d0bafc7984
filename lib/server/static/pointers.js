// Pointers and keys: pan with one pointer, pinch with two, a tap or click selects; hover shows the tooltip
// (and, when ticked, a preview); the wheel zooms; the keyboard pans, zooms, fits, plays and steps the radio.

import { canvas, hooks, player, state, tooltip, UPLOAD } from "./core.js";
import { fit, pick, redraw, resize, toData, zoomAt } from "./view.js";
import { select, showTooltip, step } from "./songs.js";
import { search } from "./search.js";
import { showUpload } from "./uploads.js";

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
    hooks.saveView();
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
  hooks.saveView();
});
// anywhere outside a text field: n / p step the radio, / goes to search, Escape closes lists
addEventListener("keydown", (e) => {
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === "Escape") {
    hooks.closeResults();
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
