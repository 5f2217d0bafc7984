// The state in the URL: #song=…&c=…&q=…&v=cx,cy,zoom (and the playlist's): a link restores it, Back goes back.

import { hooks, rowOf, state, ui } from "./core.js";
import { fit, redraw, ZOOM_IN, ZOOM_OUT } from "./view.js";
import { colourBy } from "./colours.js";
import { play, select } from "./songs.js";
import { closeResults, runSearch, search } from "./search.js";

export function stateHash() {
  const p = new URLSearchParams();
  if (state.selected >= 0) p.set("song", state.songs[state.selected].id);
  const colour = document.getElementById("colour").value;
  if (colour !== "cluster") p.set("c", colour);
  if (search.value.trim()) p.set("q", search.value.trim());
  ui.panel?.hash(p);
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
export function saveState(push) {
  if (!state.ready) return;
  const hash = stateHash();
  if (hash === location.hash || (hash === "" && location.hash === "")) return;
  const url = `${location.pathname}${location.search}${hash}`;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}
let viewTimer = 0;
export function saveView() {
  clearTimeout(viewTimer);
  viewTimer = setTimeout(() => saveState(false), 300);
}
export function applyHash() {
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
  ui.panel?.apply(p);
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

hooks.saveState = saveState;
hooks.saveView = saveView;
