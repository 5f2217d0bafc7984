/**
 * The official OpenL3 weights: where they are published, their git blob ids, and the download that checks a
 * file's blob id before a byte of it is kept, with progress on stderr.
 *
 * @module
 */

import { join } from "node:path";
import { ArgumentError, OpenL3Error } from "../util/errors.ts";
import { gitBlobId } from "../util/hash.ts";
import { writeAtomic } from "./cache_files.ts";
import { statusLine } from "../util/status_line.ts";
import type { ContentType } from "./architecture.ts";
import type { InputRepr } from "../frontend/spec.ts";

/** Where the published weights live (the `models` branch of marl/openl3). */
export const OFFICIAL_BASE_URL = "https://github.com/marl/openl3/raw/models/";

/** Git blob ids of the published `.h5.gz` files (spec §4). */
export const OFFICIAL_BLOB_IDS: Record<string, string> = {
  "openl3_audio_mel256_music-v0_4_0.h5.gz": "15e483646fa3d4091a463f0affbb706e6bbbb098",
  "openl3_audio_mel256_env-v0_4_0.h5.gz": "34dbd7a91cdd2de6a3d6d036ac0a24d27d78e3cc",
  "openl3_audio_mel128_music-v0_4_0.h5.gz": "73ff29de441865318c4b3a3f98c40763c4773e7c",
  "openl3_audio_mel128_env-v0_4_0.h5.gz": "8c3dfee140f7776373841e5938a3e76c54f28942",
  "openl3_audio_linear_music-v0_4_0.h5.gz": "4e2e61beb17865481c8b8791c72eac8307e2753a",
  "openl3_audio_linear_env-v0_4_0.h5.gz": "7837407f033f3564c7e8d53fc4a4241fe160478b",
};

/** File name of the published weights of a variant. */
export function officialWeightsName(repr: InputRepr, content: ContentType): string {
  return `openl3_audio_${repr}_${content}-v0_4_0.h5.gz`;
}

/** Progress of a download. */
export interface DownloadProgress {
  /** Bytes received so far. */
  received: number;
  /** From Content-Length; undefined when the server sends none. */
  total?: number;
  /** Bytes per second so far. */
  rate: number;
}

/** Options of {@linkcode fetchOfficialWeights}. */
export interface FetchOptions {
  /** The frontend of the weights. */
  repr: InputRepr;
  /** The training set of the weights. */
  content: ContentType;
  /** Folder to store the file in. */
  modelsDir: string;
  /** Base URL; default {@linkcode OFFICIAL_BASE_URL} (tests point it at a local server). */
  baseUrl?: string;
  /** Expected blob ids by file name; default {@linkcode OFFICIAL_BLOB_IDS}. */
  blobIds?: Record<string, string>;
  /** Called as bytes arrive. */
  onProgress?: (p: DownloadProgress) => void;
}

/** A download or integrity failure; says which file to put where. */
export class ModelFetchError extends OpenL3Error {}

/**
 * Download the published weights of a variant into `modelsDir`, verifying
 * the git blob id before the file is kept. Returns its path.
 */
export async function fetchOfficialWeights(options: FetchOptions): Promise<string> {
  const name = officialWeightsName(options.repr, options.content);
  const dir = options.modelsDir;
  const url = (options.baseUrl ?? OFFICIAL_BASE_URL) + name;
  const expected = (options.blobIds ?? OFFICIAL_BLOB_IDS)[name];
  if (!expected) throw new ArgumentError(`no known blob id for ${name}`);
  const target = join(dir, name);
  const manual = `download ${url} yourself and put it at ${target}, or pass --weights PATH ` +
    `(offline, seeded untrained test weights: deno task make-test-weights --out models/random_untrained_weights.h5, then --weights models/random_untrained_weights.h5; ` +
    `the whole demo offline: deno task demo-test-weights)`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new ModelFetchError(`cannot download ${name} (${(e as Error).message}): ${manual}`, { cause: e });
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new ModelFetchError(`cannot download ${name}: HTTP ${response.status} from ${url}; ${manual}`);
  }
  const total = Number(response.headers.get("content-length")) || undefined;
  const chunks: Uint8Array[] = [];
  let received = 0;
  const start = performance.now();
  for await (const chunk of response.body) {
    chunks.push(chunk);
    received += chunk.length;
    options.onProgress?.({
      received,
      total,
      rate: received / Math.max(1e-3, (performance.now() - start) / 1000),
    });
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  const id = await gitBlobId(bytes);
  if (id !== expected) {
    throw new ModelFetchError(
      `${name} from ${url} failed the integrity check: git blob id ${id}, expected ${expected} ` +
        `(${received} bytes); nothing was stored. ${manual}`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  await writeAtomic(target, bytes);
  return target;
}

/** A progress line on stderr: bytes, percent, rate, ETA. */
export function progressPrinter(): (p: DownloadProgress) => void {
  let last = 0;
  const show = statusLine();
  return (p) => {
    const now = performance.now();
    const done = p.received === p.total;
    if (now - last < 200 && !done) return;
    last = now;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const pct = p.total ? ` ${(100 * p.received / p.total).toFixed(0)}%` : "";
    const eta = p.total && p.rate > 0 ? `, ETA ${((p.total - p.received) / p.rate).toFixed(0)} s` : "";
    const of = p.total ? `/${mb(p.total)}` : "";
    show(`  ${mb(p.received)}${of} MB${pct}, ${mb(p.rate)} MB/s${eta}`, done);
  };
}
