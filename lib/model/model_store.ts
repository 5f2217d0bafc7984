/**
 * Where the network comes from: the official OpenL3 weights (downloaded by
 * `model_download.ts`, their git blob id checked before a byte is used), a
 * local `.h5`/`.h5.gz`, or an `.onnx` converted earlier; and the cache of
 * converted models in `models/`, keyed by the weights' SHA-256 and the
 * variant (`cache_files.ts`); the int8 network is made by `int8_model.ts`.
 *
 * @module
 */

import { basename, join } from "node:path";
import { gitBlobId, sha256 } from "../util/hash.ts";
import { bindWeights, readKerasFile, WeightsError } from "./keras_weights.ts";
import { type ContentType, openl3Architecture } from "./architecture.ts";
import { buildOpenL3Onnx } from "./onnx_graph.ts";
import { readOnnxMetadata } from "./onnx_proto.ts";
import { provenanceOf, type WeightsProvenance } from "./provenance.ts";
import { cachedModelPath, rememberWeights } from "./weights_lookup.ts";
import { cacheModel, exists, readVerifiedCache } from "./cache_files.ts";
import type { LoadedModel, LoadModelOptions } from "./loaded_model.ts";
import {
  fetchOfficialWeights,
  ModelFetchError,
  OFFICIAL_BASE_URL,
  OFFICIAL_BLOB_IDS,
  officialWeightsName,
  progressPrinter,
} from "./model_download.ts";
import { quantizedModel } from "./int8_model.ts";

export { PROVENANCE_LABELS, type WeightsProvenance } from "./provenance.ts";
export type { LoadedModel, LoadModelOptions } from "./loaded_model.ts";
export {
  type DownloadProgress,
  fetchOfficialWeights,
  type FetchOptions,
  ModelFetchError,
  OFFICIAL_BASE_URL,
  OFFICIAL_BLOB_IDS,
  officialWeightsName,
  progressPrinter,
} from "./model_download.ts";
export { calibrationPath } from "./int8_model.ts";
import type { InputRepr } from "../frontend/spec.ts";

const OFFICIAL_NAME = /openl3_audio_(mel256|mel128|linear)_(music|env)/;
/** Weights or a model larger than this are not an OpenL3 network (the largest, linear/6144, is ~19 MB). */
const MAX_WEIGHTS_BYTES = 512 * 2 ** 20;

/**
 * Find, fetch if needed, check and convert the weights for a variant, using
 * the converted-model cache in `modelsDir`.
 *
 * - The official file found in `modelsDir` is checked against its published
 *   git blob id before use; a file that fails is refused (pass it with
 *   `--weights` to use it knowingly).
 * - A cached converted model is checked against the hash recorded when it
 *   was written; a damaged one is rebuilt from the weights, with a message.
 */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const precision = options.precision ?? "fp32";
  const model = await loadFloatModel(options);
  const int8 = model.precision === "int8";
  if (precision === "fp32" && int8) {
    throw new WeightsError(`${model.source}: this is an int8 model: pass --precision int8 to use it`);
  }
  return precision === "int8" && !int8 ? await quantizedModel(model, options) : model;
}

/** The model as found or converted (an `.onnx` given by path keeps its own precision). */
async function loadFloatModel(options: LoadModelOptions): Promise<LoadedModel> {
  const { repr, content, embeddingSize } = options;
  const dir = options.modelsDir;
  const verbose = options.verbose ?? true;
  const blobIds = options.blobIds ?? OFFICIAL_BLOB_IDS;
  const officialName = officialWeightsName(repr, content);
  let path = options.weights;
  const atOfficialPath = !path;
  if (!path) {
    path = join(dir, officialName);
    if (!(await exists(path))) {
      if (options.download === false) {
        throw new ModelFetchError(
          `weights not found: put ${officialName} (from ${OFFICIAL_BASE_URL}) at ${path}, or pass --weights PATH ` +
            `(offline, seeded untrained test weights: deno task make-test-weights --out models/random_untrained_weights.h5, then --weights models/random_untrained_weights.h5)`,
        );
      }
      if (verbose) console.error(`fetching ${officialName} …`);
      path = await fetchOfficialWeights({
        repr,
        content,
        modelsDir: dir,
        baseUrl: options.baseUrl,
        blobIds,
        onProgress: verbose ? progressPrinter() : undefined,
      });
      if (verbose) console.error("");
    }
  }
  const named = OFFICIAL_NAME.exec(basename(path));
  if (named && (named[1] !== repr || named[2] !== content)) {
    throw new WeightsError(
      `${path}: these are the ${named[1]}/${named[2]} weights, but ${repr}/${content} was asked for`,
    );
  }
  let bytes: Uint8Array;
  try {
    // a device (/dev/zero), a FIFO or a folder would be read forever or not at all: only a regular file of a
    // size weights can have (the official files are 18–19 MB)
    const info = await Deno.stat(path);
    if (!info.isFile) {
      throw new WeightsError(
        `${path}: not a regular file (${info.isDirectory ? "a folder" : "a device, FIFO or socket"})`,
      );
    }
    if (info.size > MAX_WEIGHTS_BYTES) {
      throw new WeightsError(
        `${path}: ${(info.size / 2 ** 20).toFixed(0)} MiB is not an OpenL3 model (those are under ${
          MAX_WEIGHTS_BYTES / 2 ** 20
        } MiB)`,
      );
    }
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof WeightsError) throw e;
    throw new WeightsError(`${path}: cannot read weights (${(e as Error).message})`, { cause: e });
  }
  if (path.endsWith(".onnx")) {
    const meta = readOnnxMetadata(bytes, path);
    if (meta.input_repr !== repr || meta.embedding_size !== String(embeddingSize)) {
      throw new WeightsError(
        `${path}: this model is ${meta.input_repr ?? "?"}/${meta.embedding_size ?? "?"}, ` +
          `but ${repr}/${embeddingSize} was asked for`,
      );
    }
    const weightsHash = meta.weights_sha256 ?? await sha256(bytes);
    return {
      onnx: bytes,
      repr,
      embeddingSize,
      content,
      weightsHash,
      provenance: await onnxProvenance(meta.weights_provenance, weightsHash, dir, repr, content, blobIds),
      source: path,
      precision: meta.precision === "int8" ? "int8" : "fp32",
    };
  }
  let provenance: WeightsProvenance | undefined;
  if (atOfficialPath || named) {
    const expected = blobIds[officialName];
    const id = await gitBlobId(bytes);
    if (id === expected) provenance = "official";
    else if (atOfficialPath) {
      throw new ModelFetchError(
        `${path} is not the published ${officialName} (git blob id ${id}, expected ${expected}): ` +
          `delete it to download the official file, or pass --weights ${path} to use it knowingly`,
      );
    }
  }
  const weightsHash = await sha256(bytes);
  if (!atOfficialPath) await rememberWeights(dir, weightsHash, path);
  const cached = cachedModelPath(dir, { inputRepr: repr, contentType: content, embeddingSize, weightsHash });
  let hit = await readVerifiedCache(cached);
  // the cached model must be the one made from these weights (their hash inside it), whatever its sidecar
  // says; a sidecar written beside garbage does not make it a model
  if (hit && "bytes" in hit) {
    let madeFrom: string | undefined;
    try {
      madeFrom = readOnnxMetadata(hit.bytes, cached).weights_sha256;
    } catch (e) {
      hit = { damaged: (e as Error).message };
    }
    if ("bytes" in hit && madeFrom !== weightsHash) {
      hit = { damaged: `it was made from other weights than ${basename(path)}` };
    }
  }
  if (hit && "bytes" in hit) {
    const meta = readOnnxMetadata(hit.bytes, cached);
    return {
      onnx: hit.bytes,
      repr,
      embeddingSize,
      content,
      weightsHash,
      provenance: provenance ?? provenanceOf(meta.weights_provenance),
      source: path,
      cached,
      precision: "fp32",
    };
  }
  if (hit && verbose) {
    console.error(
      `warning: the cached model ${cached} is damaged (${hit.damaged}): rebuilding it from ${path}`,
    );
  }
  const arch = openl3Architecture(repr, embeddingSize);
  const file = await readKerasFile(bytes, path);
  provenance ??= file.untrained ? "untrained" : "custom";
  const onnx = buildOpenL3Onnx(bindWeights(file.layers, arch, path), {
    content_type: content,
    weights_sha256: weightsHash,
    weights_file: basename(path),
    weights_provenance: provenance,
  });
  const model: LoadedModel = {
    onnx,
    repr,
    embeddingSize,
    content,
    weightsHash,
    provenance,
    source: path,
    precision: "fp32",
  };
  return await cacheModel(model, cached, verbose);
}

/** Write a converted model and its recorded hash to the cache (a failure is a warning, not an error). */
/**
 * The provenance of a converted model given by path: what its metadata says, except that `official` is
 * believed only when the published weights of its variant are in the models folder, pass their git blob
 * id, and are the very weights the model says it was made from (a crafted `.onnx` can say anything).
 */
async function onnxProvenance(
  claimed: string | undefined,
  weightsHash: string,
  dir: string,
  repr: InputRepr,
  content: ContentType,
  blobIds: Record<string, string>,
): Promise<WeightsProvenance> {
  const said = provenanceOf(claimed);
  if (said !== "official") return said;
  const name = officialWeightsName(repr, content);
  try {
    const bytes = await Deno.readFile(join(dir, name));
    if (await gitBlobId(bytes) === blobIds[name] && await sha256(bytes) === weightsHash) return "official";
  } catch { /* not here: not provable */ }
  return "custom";
}
