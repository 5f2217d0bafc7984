/**
 * `computeMap` in a worker thread (`map_worker.ts`), so that a server computing a map of 100 000 songs
 * (about a minute of UMAP on 2 cores) still answers every request meanwhile.
 *
 * @module
 */

import { WebWorker } from "../util/web_worker.ts";
import type { CollectionMap, MapOptions } from "./collection_map.ts";
import type { VectorIndex } from "./vector_index.ts";

/**
 * Compute the map of `index` in a thread of its own; progress is reported as `computeMap` reports it.
 *
 * @throws {Error} with the thread's message when the computation fails.
 */
export function computeMapInThread(index: VectorIndex, options: MapOptions = {}): Promise<CollectionMap> {
  const worker = new WebWorker(new URL("./map_worker.ts", import.meta.url).href, { type: "module" });
  return new Promise<CollectionMap>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent) => {
      const m = e.data;
      if (m.progress) return options.onProgress?.(m.progress.stage, m.progress.fraction);
      worker.terminate();
      if (m.error) reject(new Error(`the map: ${m.error}`));
      else resolve(m.map as CollectionMap);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      worker.terminate();
      reject(new Error(`the map's thread failed: ${e.message}`));
    };
    // copies, not transfers: the index stays in use here
    worker.postMessage({
      ids: index.ids,
      dim: index.dim,
      unit: index.unit,
      norms: index.norms,
      seed: options.seed,
    });
  });
}
