// The explorer's playlist panel and duplicates view: a radio from the selected song or a path to a second
// song (chosen on the map or by search), made by /api/playlist as `deno task playlist` makes it; the path
// drawn on the map through its songs; the list played in order (the next starts when one ends), a song
// removed or skipped, the list saved as M3U8; the copies of one recording marked, with a view of their own.
// The playlist's request (and the songs removed from it) is part of the URL.

const $ = (id) => document.getElementById(id);

/**
 * The panel, wired to the page (`app` gives what it needs of the page: its state, api, say, select, redraw,
 * toScreen, rowOf, saveState, play).
 */
export function playlistPanel(app) {
  const list = $("pl-list");
  const status = $("pl-status");
  const pl = {
    request: null, // { mode: "radio" | "path", seed, to, n }
    songs: [], // [{ id, title, artist, duration, path, step, row }]
    removed: new Set(),
    at: -1, // the song playing, or -1
    pickingEnd: false,
    copies: new Map(), // song id → { best, kind }
  };
  app.state.playlist = pl;

  const say = (text) => (status.textContent = text);
  const selectedId = () => (app.state.selected >= 0 ? app.state.songs[app.state.selected].id : null);
  const count = () => {
    const n = Number($("pl-n").value);
    return Number.isInteger(n) && n >= 2 && n <= 200 ? n : 20;
  };

  async function make(request, { push = true } = {}) {
    const q = new URLSearchParams({ seed: request.seed, n: String(request.n) });
    if (request.mode === "path") q.set("to", request.to);
    say(request.mode === "path" ? "making the path…" : "making the radio…");
    try {
      const r = await app.api(`/api/playlist?${q}`);
      pl.request = request;
      pl.songs = r.songs.filter((s) => !pl.removed.has(s.id)).map((s) => ({
        ...s,
        row: app.rowOf.get(s.id) ?? -1,
      }));
      pl.at = -1;
      render();
      const worst = r.steps ? `; worst step ${r.steps.path.worst.toFixed(3)}` : "";
      say(
        `${r.mode === "path" ? "path" : "radio"} of ${pl.songs.length} songs${worst}` +
          (r.complete ? "" : ` — ${r.shortfall}`),
      );
      if (push) app.saveState(true);
      app.redraw();
    } catch (e) {
      say(`no playlist: ${e.message}`);
    }
  }

  function render() {
    list.replaceChildren();
    $("pl-save").disabled = pl.songs.length === 0;
    $("pl-clear").disabled = pl.songs.length === 0;
    for (const [k, s] of pl.songs.entries()) {
      const li = document.createElement("li");
      li.dataset.id = s.id;
      if (k === pl.at) li.setAttribute("aria-current", "true");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      // each piece of tag text isolated: a bidi control in one cannot reorder the other
      b.textContent = s.artist ? `\u2068${s.artist}\u2069 – \u2068${s.title}\u2069` : s.title;
      b.addEventListener("click", () => playAt(k));
      const copy = pl.copies.get(s.id);
      li.append(b);
      if (copy) li.append(badge(copy));
      if (s.step !== null) {
        const st = document.createElement("span");
        st.className = "s";
        st.textContent = ` ${s.step.toFixed(3)}`;
        li.append(st);
      }
      const rm = document.createElement("button");
      rm.type = "button";
      rm.className = "small";
      rm.textContent = "Remove";
      rm.setAttribute("aria-label", `Remove ${b.textContent} from the playlist`);
      rm.addEventListener("click", () => remove(k));
      li.append(" ", rm);
      list.append(li);
    }
    $("playlist-songs").hidden = pl.songs.length === 0;
  }

  function playAt(k) {
    if (k < 0 || k >= pl.songs.length) return;
    pl.at = k;
    const s = pl.songs[k];
    if (s.row >= 0) {
      app.select(s.row, { centre: true, keepNeighbours: true, push: false, fromPlaylist: true });
    }
    render();
  }

  function remove(k) {
    const [gone] = pl.songs.splice(k, 1);
    pl.removed.add(gone.id);
    if (pl.at === k) pl.at = k - 1;
    else if (pl.at > k) pl.at--;
    render();
    app.saveState(true);
    app.redraw();
    say(`removed ${gone.title}; ${pl.songs.length} songs left`);
    list.querySelector("li button")?.focus();
  }

  function clear() {
    pl.request = null;
    pl.songs = [];
    pl.removed.clear();
    pl.at = -1;
    render();
    app.saveState(true);
    app.redraw();
    say("");
  }

  /** The next song of the list (true when there was one). */
  function next() {
    if (pl.songs.length === 0 || pl.at + 1 >= pl.songs.length) return false;
    playAt(pl.at + 1);
    return true;
  }

  function saveM3u() {
    const lines = ["#EXTM3U"];
    for (const s of pl.songs) {
      lines.push(
        `#EXTINF:${s.duration ? Math.round(s.duration) : -1},${s.artist ? `${s.artist} - ` : ""}${s.title}`,
      );
      lines.push(s.path);
    }
    const blob = new Blob([lines.join("\n") + "\n"], { type: "audio/x-mpegurl" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${pl.request?.mode ?? "playlist"}.m3u8`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    say(`saved ${pl.songs.length} songs as ${a.download}`);
  }

  $("pl-radio").addEventListener("click", () => {
    const id = selectedId();
    if (!id) return say("select a song first (click it on the map, or search)");
    pl.removed.clear();
    make({ mode: "radio", seed: id, n: count() });
  });
  $("pl-path").addEventListener("click", () => {
    if (!selectedId()) return say("select the song to start from first");
    pl.pickingEnd = selectedId();
    say("now choose the song to end at: click it on the map, or search for it");
  });
  $("pl-next").addEventListener("click", () => next());
  $("pl-save").addEventListener("click", saveM3u);
  $("pl-clear").addEventListener("click", clear);

  // ---- duplicates ----
  function badge(copy) {
    const s = document.createElement("span");
    s.className = "badge copy";
    s.textContent = copy.kind === "copies" ? (copy.best ? "best copy" : "copy") : "version";
    s.title = copy.kind === "copies"
      ? "another file of this recording is stored too (see Duplicates)"
      : "another version of this song is stored (see Duplicates)";
    return s;
  }

  async function loadDuplicates() {
    try {
      const { groups } = await app.api("/api/duplicates");
      pl.copies.clear();
      for (const g of groups) {
        for (const s of g.songs) pl.copies.set(s.id, { kind: g.kind, best: s.id === g.best });
      }
      renderDuplicates(groups);
      render();
      return groups;
    } catch (e) {
      $("dups-status").textContent = `duplicates unavailable: ${e.message}`;
      return [];
    }
  }

  function renderDuplicates(groups) {
    const ol = $("dups-list");
    ol.replaceChildren();
    const copies = groups.filter((g) => g.kind === "copies").length;
    $("dups-status").textContent = groups.length
      ? `${copies} recordings stored more than once, ${groups.length - copies} songs with other versions`
      : "no song is stored twice";
    for (const g of groups) {
      const li = document.createElement("li");
      const h = document.createElement("div");
      h.textContent = g.kind === "copies"
        ? `Copies of one recording — keep the best: ${g.why}`
        : "Versions of one song";
      li.append(h);
      const ul = document.createElement("ul");
      for (const s of g.songs) {
        const item = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "link";
        const row = app.rowOf.get(s.id) ?? -1;
        b.textContent = `${row >= 0 ? app.state.songs[row].title : s.id} (${s.format ?? "?"})`;
        b.addEventListener("click", () => row >= 0 && app.select(row, { centre: true }));
        item.append(b);
        if (g.kind === "copies" && s.id === g.best) item.append(" ", badge({ kind: "copies", best: true }));
        ul.append(item);
      }
      li.append(ul);
      ol.append(li);
    }
  }

  $("dups-show").addEventListener("click", async () => {
    const box = $("dups-view");
    box.hidden = !box.hidden;
    $("dups-show").setAttribute("aria-expanded", String(!box.hidden));
    if (!box.hidden) await loadDuplicates();
  });

  return {
    /** A song was selected (on the map, by search, from a list): the end of a path being chosen. */
    selected(i) {
      if (pl.pickingEnd && state().songs[i].id !== pl.pickingEnd) {
        const seed = pl.pickingEnd;
        pl.pickingEnd = false;
        pl.removed.clear();
        make({ mode: "path", seed, to: state().songs[i].id, n: count() });
      }
    },
    /** A song ended: the next of the list, when the list is playing (true when it took over). */
    ended: () => pl.at >= 0 && next(),
    /** Draw the list on the map: a line through its songs, in order. */
    draw(ctx, toScreen, dpr) {
      const pts = pl.songs.filter((s) => s.row >= 0).map((s) => toScreen(state().x[s.row], state().y[s.row]));
      if (pts.length < 2) return;
      ctx.beginPath();
      ctx.moveTo(...pts[0]);
      for (const p of pts.slice(1)) ctx.lineTo(...p);
      ctx.strokeStyle = "rgba(31, 58, 120, 0.8)";
      ctx.lineWidth = 2 * dpr;
      ctx.stroke();
    },
    /** The playlist's part of the URL. */
    hash(p) {
      if (!pl.request) return;
      p.set(
        "pl",
        pl.request.mode === "path" ? `path:${pl.request.seed}>${pl.request.to}` : `radio:${pl.request.seed}`,
      );
      p.set("pln", String(pl.request.n));
      if (pl.removed.size) p.set("plx", [...pl.removed].join("\n"));
    },
    /** Restore the playlist from the URL. */
    apply(p) {
      const spec = p.get("pl");
      if (!spec) {
        if (pl.request) clear();
        return;
      }
      const n = Number(p.get("pln") ?? 20);
      const m = /^(radio|path):(.*)$/s.exec(spec);
      if (!m) return;
      const [seed, to] = m[1] === "path" ? m[2].split(">") : [m[2], undefined];
      const request = { mode: m[1], seed, to, n: Number.isInteger(n) ? n : 20 };
      const removed = (p.get("plx") ?? "").split("\n").filter(Boolean);
      if (JSON.stringify(request) === JSON.stringify(pl.request) && removed.length === pl.removed.size) {
        return;
      }
      $("pl-n").value = String(request.n);
      pl.removed = new Set(removed);
      make(request, { push: false });
    },
    /** Mark the copies (once the page has loaded). */
    loadDuplicates,
  };

  function state() {
    return app.state;
  }
}
