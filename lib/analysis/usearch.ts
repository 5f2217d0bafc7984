/**
 * usearch's exact SIMD scan (`exactSearch`, on every core), loaded when first needed: the one door through
 * which the analysis reaches the native library.
 *
 * @module
 */

/** The part of usearch this project calls. */
export interface Usearch {
  /** The `count` rows of `dataset` nearest each query (for the inner product metric: distance 1 − dot). */
  exactSearch(
    dataset: Int8Array | Float32Array,
    queries: Int8Array | Float32Array,
    dimensions: number,
    count: number,
    metric: string,
    threads?: number,
  ): { keys: BigUint64Array; distances: Float32Array };
  /** The metrics' names. */
  MetricKind: { IP: string };
}

/** The usearch module (imported once, on first use). */
export async function loadUsearch(): Promise<Usearch> {
  const mod = await import("usearch");
  return ((mod as { default?: unknown }).default ?? mod) as Usearch;
}
