// The explorer page's shared core: its state (what the browser tests read as `globalThis.explorer`), the
// elements every part uses, the API call, the live region, the tag text helpers, and the hooks by which a
// part calls one that imports it (the URL state, the selection), so the modules form no cycle.

export const canvas = document.getElementById("map");
export const ctx = canvas.getContext("2d");
export const tooltip = document.getElementById("tooltip");
export const status = document.getElementById("status");
export const notice = document.getElementById("notice");
export const player = document.getElementById("player");
export const state = {
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
  loadStages: {},
};
globalThis.explorer = state;

export const api = async (path, init) => {
  const r = await fetch(path, init);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ?? r.statusText);
  return body;
};

/** A line in the live region (read out by screen readers); errors stay until the next message. */
export function say(text, error = false) {
  notice.textContent = text;
  notice.classList.toggle("error", error);
  notice.hidden = !text;
}

/** The row of each song id. */
export const rowOf = new Map();
export const fmt = (
  s,
) => (s === undefined ? "" : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`);
/** Tag text isolated (FSI … PDI): a bidi control in a title or artist cannot reorder what stands beside it. */
export const iso = (t) => (t ? `\u2068${t}\u2069` : t);
export const describe = (s) => [iso(s.artist), iso(s.album), fmt(s.duration)].filter(Boolean).join(" · ");

/** The dropped file's mark, as a hover target. */
export const UPLOAD = -2;

/** The playlist panel (./playlist.js), once the songs are loaded. */
export const ui = { panel: null };

/**
 * What a part calls in a part that imports it, set by its owner: `saveState` and `saveView` (url_state.js),
 * `select` (songs.js), `closeResults` (search.js).
 */
export const hooks = {
  saveState: (_push) => {},
  saveView: () => {},
  select: (_i, _options) => {},
  closeResults: () => {},
};
