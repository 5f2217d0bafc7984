/**
 * Where the network comes from: the official OpenL3 weights (downloaded with
 * their git blob id checked before a byte is used), a local `.h5`/`.h5.gz`,
 * or an `.onnx` converted earlier; and the cache of converted models in
 * `models/`, keyed by the weights' SHA-256 and the variant.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { ArgumentError, OpenL3Error } from "../util/errors.ts";
import { gitBlobId, sha256 } from "../util/hash.ts";
import { bindWeights, readKerasFile, WeightsError } from "./keras_weights.ts";
import { type ContentType, type EmbeddingSize, openl3Architecture } from "./architecture.ts";
import { buildOpenL3Onnx } from "./onnx_graph.ts";
import { readOnnxMetadata } from "./onnx_proto.ts";
import { provenanceOf, type WeightsProvenance } from "./provenance.ts";
import { cachedModelPath, rememberWeights } from "./weights_lookup.ts";
import { buildInt8Onnx, CALIBRATION_VERSION, type Int8Calibration } from "./int8_graph.ts";
import type { Precision } from "./precision.ts";
import { architectureFromOnnx, weightsFromOnnx } from "./onnx_weights.ts";
import { calibrate, parseCalibration } from "./calibration.ts";
import { statusLine } from "../util/status_line.ts";

export { PROVENANCE_LABELS, type WeightsProvenance } from "./provenance.ts";
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

/** A network ready to run. */
export interface LoadedModel {
  /** The converted network (ONNX bytes). */
  onnx: Uint8Array;
  /** The frontend it takes. */
  repr: InputRepr;
  /** Its output length. */
  embeddingSize: EmbeddingSize;
  /** Content type as known from the file name or the caller. */
  content: ContentType;
  /** SHA-256 of the weights file the model was made from. */
  weightsHash: string;
  /**
   * `official` when the bytes are a published file (git blob id checked),
   * `untrained` for seeded random test weights, `custom` otherwise.
   */
  provenance: WeightsProvenance;
  /** Where it came from (path). */
  source: string;
  /** Path of the cached converted model. */
  cached?: string;
  /** The network's precision: `int8` for the quantized network. */
  precision: Precision;
}

/** Options of {@linkcode loadModel}. */
export interface LoadModelOptions {
  /** The frontend. */
  repr: InputRepr;
  /** The training set. */
  content: ContentType;
  /** The output length. */
  embeddingSize: EmbeddingSize;
  /** `.h5`, `.h5.gz` or `.onnx`; default: the official file in `modelsDir`. */
  weights?: string;
  /** Folder of the official weights and of converted models. */
  modelsDir: string;
  /**
   * Download the official weights when missing.
   * @default {true}
   */
  download?: boolean;
  /** Download address (tests). */
  baseUrl?: string;
  /** Blob ids (tests). */
  blobIds?: Record<string, string>;
  /**
   * Progress lines and cache repairs on stderr.
   * @default {true}
   */
  verbose?: boolean;
  /**
   * The network's precision: `int8` quantizes the float network (calibrated once per weights and cached
   * beside the converted model).
   * @default {"fp32"}
   */
  precision?: Precision;
}

const OFFICIAL_NAME = /openl3_audio_(mel256|mel128|linear)_(music|env)/;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Write a file so that a reader never sees half of it. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.part-${crypto.randomUUID()}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * A converted model from the cache, verified against the SHA-256 recorded
 * when it was written (`<model>.sha256`); null when it is missing, damaged or
 * unverifiable (the caller rebuilds it).
 */
async function readVerifiedCache(path: string): Promise<{ onnx: Uint8Array } | { damaged: string } | null> {
  if (!(await exists(path))) return null;
  let onnx: Uint8Array, recorded: string;
  try {
    onnx = await Deno.readFile(path);
    recorded = (await Deno.readTextFile(`${path}.sha256`)).trim();
  } catch {
    return { damaged: "its recorded hash is missing" };
  }
  const actual = await sha256(onnx);
  return actual === recorded
    ? { onnx }
    : { damaged: `SHA-256 ${actual.slice(0, 16)}…, recorded ${recorded.slice(0, 16)}…` };
}

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
    bytes = await Deno.readFile(path);
  } catch (e) {
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
  // the cached model must be the one made from these weights (their hash inside it), whatever its sidecar says
  if (hit && "onnx" in hit && readOnnxMetadata(hit.onnx, cached).weights_sha256 !== weightsHash) {
    hit = { damaged: `it was made from other weights than ${basename(path)}` };
  }
  if (hit && "onnx" in hit) {
    const meta = readOnnxMetadata(hit.onnx, cached);
    return {
      onnx: hit.onnx,
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
async function cacheModel(model: LoadedModel, cached: string, verbose: boolean): Promise<LoadedModel> {
  try {
    await Deno.mkdir(dirname(cached), { recursive: true });
    await writeAtomic(cached, model.onnx);
    await writeAtomic(`${cached}.sha256`, new TextEncoder().encode(`${await sha256(model.onnx)}\n`));
  } catch (e) {
    if (verbose) {
      console.error(`warning: cannot cache the converted model at ${cached}: ${(e as Error).message}`);
    }
    return model;
  }
  return { ...model, cached };
}

/** Where the calibration of a variant's weights is cached: beside the converted model. */
export function calibrationPath(modelsDir: string, model: LoadedModel): string {
  return cachedModelPath(modelsDir, {
    inputRepr: model.repr,
    contentType: model.content,
    embeddingSize: model.embeddingSize,
    weightsHash: model.weightsHash,
  }).replace(/\.onnx$/, `.calibration-v${CALIBRATION_VERSION}.json`);
}

/**
 * The int8 network of a float model: from the cache when a verified one of these weights and this
 * calibration version is there, else calibrated (the ranges cached too) and quantized.
 */
async function quantizedModel(model: LoadedModel, options: LoadModelOptions): Promise<LoadedModel> {
  const dir = options.modelsDir;
  const verbose = options.verbose ?? true;
  const key = {
    inputRepr: model.repr,
    contentType: model.content,
    embeddingSize: model.embeddingSize,
    weightsHash: model.weightsHash,
  };
  const cached = cachedModelPath(dir, key, { calibration: CALIBRATION_VERSION });
  let hit = await readVerifiedCache(cached);
  if (hit && "onnx" in hit) {
    const meta = readOnnxMetadata(hit.onnx, cached);
    if (
      meta.weights_sha256 !== model.weightsHash || meta.precision !== "int8" ||
      meta.calibration_version !== String(CALIBRATION_VERSION)
    ) {
      hit = { damaged: `it was made from other weights or another calibration` };
    }
  }
  if (hit && "onnx" in hit) return { ...model, onnx: hit.onnx, cached, precision: "int8" };
  if (hit && verbose) {
    console.error(`warning: the cached int8 model ${cached} is damaged (${hit.damaged}): rebuilding it`);
  }
  const weights = weightsFromOnnx(model.onnx, architectureFromOnnx(model.onnx, model.source), model.source);
  const calibFile = calibrationPath(dir, model);
  let calibration: Int8Calibration | null = null;
  try {
    calibration = parseCalibration(await Deno.readTextFile(calibFile));
  } catch { /* not measured yet */ }
  if (!calibration) {
    const t0 = performance.now();
    const show = statusLine();
    calibration = await calibrate(weights, {
      onProgress: verbose
        ? (done, total) =>
          show(
            `calibrating the int8 network (once for these weights): ${done}/${total} windows` +
              (done === total ? `, ${((performance.now() - t0) / 1000).toFixed(1)} s` : ""),
            done === total,
          )
        : undefined,
    });
    try {
      await Deno.mkdir(dir, { recursive: true });
      await writeAtomic(calibFile, new TextEncoder().encode(JSON.stringify(calibration, null, 1) + "\n"));
    } catch { /* a read-only models folder: measured again next time */ }
  }
  const meta = readOnnxMetadata(model.onnx, model.source);
  const onnx = buildInt8Onnx(weights, calibration, {
    metadata: {
      content_type: meta.content_type ?? model.content,
      weights_sha256: model.weightsHash,
      weights_file: meta.weights_file ?? basename(model.source),
      weights_provenance: model.provenance,
    },
  });
  return await cacheModel({ ...model, onnx, precision: "int8", cached: undefined }, cached, verbose);
}

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
