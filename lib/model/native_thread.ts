/**
 * The native backend's session run in a worker thread of its own
 * (`native_thread_worker.ts`), for callers that must keep their own thread
 * answering: onnxruntime-node's `run` holds the JavaScript thread for the
 * whole batch (measured here: 558 ms of a 561 ms batch of 8 mel256 windows).
 * The same session, the same numbers; patches and embeddings are moved, not
 * copied, across.
 *
 * @module
 */

import { WebWorker } from "../util/web_worker.ts";
import { OpenL3Error } from "../util/errors.ts";
import type { EmbeddingSession, SessionOptions } from "./session.ts";

/** Open the native session in a worker thread; resolves once the model is loaded there. */
export async function nativeSessionInThread(
  model: Uint8Array,
  options: SessionOptions,
): Promise<EmbeddingSession> {
  const worker = new WebWorker(new URL("./native_thread_worker.ts", import.meta.url).href, {
    type: "module",
    name: "openl3-network",
  });
  const pending = new Map<number, { resolve: (x: Float32Array) => void; reject: (e: Error) => void }>();
  let next = 0;
  let released: (() => void) | undefined;
  const ready = new Promise<string>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent) => {
      const m = event.data;
      if (m.type === "ready") {
        if (m.error) reject(new OpenL3Error(m.error));
        else resolve(m.description);
      } else if (m.type === "result") {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.reject(new OpenL3Error(m.error));
        else p?.resolve(m.out);
      } else if (m.type === "released") released?.();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      const error = new OpenL3Error(`network thread: ${e.message}`);
      reject(error);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
  });
  const { gpu: _gpu, ...plain } = options;
  worker.postMessage({ type: "init", model: model.slice(), options: plain });
  let description: string;
  try {
    description = await ready;
  } catch (e) {
    worker.terminate();
    throw e;
  }
  return {
    backend: "native",
    description: `${description}, in a thread of its own`,
    input: options.input,
    outputSize: options.outputSize,
    run(patches: Float32Array, count: number): Promise<Float32Array> {
      const id = next++;
      const copy = patches.slice(); // the caller keeps its buffer; the copy is moved across
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ type: "run", id, patches: copy, count }, [copy.buffer as ArrayBuffer]);
      });
    },
    async release() {
      await Promise.race([
        new Promise<void>((r) => {
          released = r;
          worker.postMessage({ type: "release" });
        }),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
      worker.terminate();
    },
  };
}
