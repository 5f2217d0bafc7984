/**
 * Finding weights again by the SHA-256 a database recorded: a database made
 * with `--weights W` (or by `demo-test-weights`) must not send a later
 * `similar FILE`, `embed` rerun or explorer upload to download the official
 * weights. Looked for, in order: the converted model cached in the models
 * folder under that hash (its recorded SHA-256 checked), the weights files
 * earlier runs were given (remembered in `<models>/weights_index.json`, each
 * hashed again before use), and the weights files in the models folder.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { sha256 } from "../util/hash.ts";
import type { ContentType, EmbeddingSize } from "./architecture.ts";
import type { InputRepr } from "../frontend/spec.ts";
import { readOnnxMetadata } from "./onnx_proto.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";

/** The variant and weights a converted model is cached under. */
export interface WeightsKey {
  /** Frontend. */
  inputRepr: InputRepr;
  /** Training set. */
  contentType: ContentType;
  /** Output length. */
  embeddingSize: EmbeddingSize;
  /** SHA-256 of the weights file. */
  weightsHash: string;
}

/**
 * Where the converted model of a variant and weights is cached; `int8` names the quantized model of
 * calibration version `calibration` beside it.
 */
export function cachedModelPath(dir: string, k: WeightsKey, int8?: { calibration: number }): string {
  const stem = `openl3_${k.inputRepr}_${k.contentType}_${k.embeddingSize}-${k.weightsHash.slice(0, 16)}`;
  return join(dir, int8 ? `${stem}.int8-c${int8.calibration}.onnx` : `${stem}.onnx`);
}

const INDEX = "weights_index.json";

async function readIndex(dir: string): Promise<Record<string, string[]>> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(join(dir, INDEX)));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Remember that `path` holds weights of SHA-256 `hash` (best effort: a cache, never required). */
export async function rememberWeights(dir: string, hash: string, path: string): Promise<void> {
  try {
    const index = await readIndex(dir);
    const abs = resolve(path);
    const paths = (Array.isArray(index[hash]) ? index[hash] : []).filter((p) => typeof p === "string");
    if (paths.includes(abs)) return;
    index[hash] = [abs, ...paths].slice(0, 8);
    await Deno.mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, INDEX), JSON.stringify(index, null, 1) + "\n");
  } catch { /* a read-only models folder: nothing remembered */ }
}

async function hashOf(path: string): Promise<string | null> {
  try {
    return await sha256(await Deno.readFile(path));
  } catch {
    return null;
  }
}

/**
 * A file that gives the weights of `key`: a cached converted model whose recorded SHA-256 matches and whose
 * metadata names these weights, or a weights file whose bytes hash to them; null when none is here.
 */
export async function findWeightsByHash(dir: string, key: WeightsKey): Promise<string | null> {
  const cached = cachedModelPath(dir, key);
  try {
    const onnx = await Deno.readFile(cached);
    const recorded = (await Deno.readTextFile(`${cached}.sha256`)).trim();
    if (
      recorded === await sha256(onnx) && readOnnxMetadata(onnx, cached).weights_sha256 === key.weightsHash
    ) {
      return cached;
    }
  } catch { /* not cached, or unverifiable */ }
  for (const path of (await readIndex(dir))[key.weightsHash] ?? []) {
    if (typeof path === "string" && (await hashOf(path)) === key.weightsHash) return path;
  }
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (!entry.isFile || !/\.h5(\.gz)?$/i.test(entry.name)) continue;
      const path = join(dir, entry.name);
      if ((await hashOf(path)) === key.weightsHash) return path;
    }
  } catch { /* no models folder */ }
  return null;
}
