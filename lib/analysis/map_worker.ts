/**
 * The collection map computed in a thread of its own (see `map_thread.ts`): the explorer's server keeps
 * answering — the page shows how far the map is — while t-SNE or UMAP runs.
 *
 * @module
 */

import { computeMap } from "./collection_map.ts";
import { VectorIndex } from "./vector_index.ts";

/** What the thread is given. */
export interface MapRequest {
  /** Song ids, one per row. */
  ids: string[];
  /** Values per vector. */
  dim: number;
  /** Unit rows. */
  unit: Float32Array;
  /** Norms. */
  norms: Float32Array;
  /** Seed. */
  seed?: number;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<MapRequest>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
};

scope.onmessage = async (e) => {
  const r = e.data;
  try {
    const index = VectorIndex.fromParts(r.ids, r.dim, r.unit, r.norms);
    const map = await computeMap(index, {
      seed: r.seed,
      onProgress: (stage, fraction) => scope.postMessage({ progress: { stage, fraction } }),
    });
    scope.postMessage({ map });
  } catch (err) {
    scope.postMessage({ error: (err as Error).message });
  }
};
