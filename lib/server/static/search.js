// Search: title, artist, album and path; every match ringed on the map, the first 50 listed, chosen with
// the arrows and Enter.

import { hooks, state } from "./core.js";
import { redraw } from "./view.js";
import { select } from "./songs.js";

export const search = document.getElementById("search");
const results = document.getElementById("results");
const LISTED = 50;
let active = -1;
export function closeResults() {
  results.hidden = true;
  search.setAttribute("aria-expanded", "false");
  search.removeAttribute("aria-activedescendant");
}
export function runSearch() {
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
  hooks.saveState(false);
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

hooks.closeResults = closeResults;
