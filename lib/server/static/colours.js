// Colours and the legend: every point coloured by cluster, artist, album or genre, each colour listed with
// its count, and a group hidden or shown from the legend.

import { state } from "./core.js";
import { redraw } from "./view.js";

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

/** Colour every point by `key`; the legend lists each colour with its count, and "other" for the rest. */
export function colourBy(key) {
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

export function drawLegend() {
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
