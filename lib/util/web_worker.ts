/**
 * The runtime's own Web Worker constructor, kept as it was when this module
 * was first evaluated: onnxruntime-web's Node build replaces
 * `globalThis.Worker` with `node:worker_threads`' once it is loaded (its
 * WASM threads), and a module worker must still be a Web Worker after that.
 *
 * @module
 */

/** Deno's Web Worker, whatever `globalThis.Worker` has become since. */
export const WebWorker: typeof Worker = globalThis.Worker;
