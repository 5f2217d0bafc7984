/**
 * The native network in a worker thread of its own (`native_thread.ts`):
 * onnxruntime-node's `run` holds its JavaScript thread for the whole batch,
 * so a server runs it here and keeps answering on its own thread.
 *
 * Messages in: `init` (model bytes, session options), `run` (id, patches,
 * count), `release`. Messages out: `ready` (description), `result` (id,
 * embeddings or an error), `released`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { createEmbeddingSession, type EmbeddingSession } from "./inference.ts";

let session: EmbeddingSession | undefined;

self.onmessage = async (event: MessageEvent) => {
  const m = event.data;
  if (m.type === "init") {
    try {
      session = await createEmbeddingSession(m.model, {
        ...m.options,
        backend: "native",
        thread: false,
        gpu: null,
      });
      self.postMessage({ type: "ready", description: session.description });
    } catch (e) {
      self.postMessage({ type: "ready", error: (e as Error).message });
    }
  } else if (m.type === "run") {
    try {
      const out = await session!.run(m.patches, m.count);
      self.postMessage({ type: "result", id: m.id, out }, [out.buffer as ArrayBuffer]);
    } catch (e) {
      self.postMessage({ type: "result", id: m.id, error: (e as Error).message });
    }
  } else if (m.type === "release") {
    await session?.release();
    self.postMessage({ type: "released" });
    self.close();
  }
};
