// Songs: the tooltip, the song playing, its neighbours, and the radio (the neighbours played in turn).

import { api, describe, hooks, player, rowOf, say, state, tooltip, ui, UPLOAD } from "./core.js";
import { redraw, zoomTo } from "./view.js";

export function showTooltip(i, cssX, cssY) {
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

export function listNeighbours(neighbours) {
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

/** The radio's seed (whose neighbours play in turn) and where it is in them. */
let radio = { seed: -1, at: -1 };

/** Forget the radio's seed (a dropped file's neighbours are listed instead). */
export function resetRadio() {
  radio = { seed: -1, at: -1 };
}

export async function select(
  i,
  { centre = false, keepNeighbours = false, radioAt = -1, push = true, fromPlaylist = false } = {},
) {
  const s = state.songs[i];
  if (!fromPlaylist) ui.panel?.selected(i);
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
  if (push) hooks.saveState(true);
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

export function play(src) {
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
export function step(delta) {
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
  if (ui.panel?.ended()) return; // a playlist playing: its next song
  if (state.radio) step(1);
});
document.getElementById("next").addEventListener("click", () => {
  state.radio = document.getElementById("radio").checked = true;
  step(1);
});
document.getElementById("prev").addEventListener("click", () => step(-1));

hooks.select = select;
