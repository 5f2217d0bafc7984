// Uploads: drop a file (or choose one), watch it embed — in this page on its GPU when it can, else on the
// server — and see where it lands and what is near.

import { api, say, state } from "./core.js";
import { redraw } from "./view.js";
import { listNeighbours, play, resetRadio } from "./songs.js";

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
export function showUpload() {
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

export async function upload(file) {
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
    resetRadio();
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
