/**
 * The int8 network of a float model: from the cache when a verified one of these weights and this
 * calibration version is there, else calibrated (the ranges cached beside the model) and quantized.
 *
 * @module
 */

import { basename } from "node:path";
import { statusLine } from "../util/status_line.ts";
import { buildInt8Onnx, CALIBRATION_VERSION, type Int8Calibration } from "./int8_graph.ts";
import { readOnnxMetadata } from "./onnx_proto.ts";
import { architectureFromOnnx, weightsFromOnnx } from "./onnx_weights.ts";
import { calibrate, parseCalibration } from "./calibration.ts";
import { cachedModelPath } from "./weights_lookup.ts";
import { cacheModel, readVerifiedCache, writeAtomic } from "./cache_files.ts";
import { sha256 } from "../util/hash.ts";
import type { LoadedModel, LoadModelOptions } from "./loaded_model.ts";

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
export async function quantizedModel(model: LoadedModel, options: LoadModelOptions): Promise<LoadedModel> {
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
  if (hit && "bytes" in hit) {
    let meta: Record<string, string> = {};
    try {
      meta = readOnnxMetadata(hit.bytes, cached);
    } catch { /* garbage with its hash beside it: rebuilt below */ }
    if (
      meta.weights_sha256 !== model.weightsHash || meta.precision !== "int8" ||
      meta.calibration_version !== String(CALIBRATION_VERSION)
    ) {
      hit = { damaged: `it was made from other weights or another calibration` };
    }
  }
  if (hit && "bytes" in hit) return { ...model, onnx: hit.bytes, cached, precision: "int8" };
  if (hit && verbose) {
    console.error(`warning: the cached int8 model ${cached} is damaged (${hit.damaged}): rebuilding it`);
  }
  const weights = weightsFromOnnx(model.onnx, architectureFromOnnx(model.onnx, model.source), model.source);
  const calibFile = calibrationPath(dir, model);
  let calibration: Int8Calibration | null = null;
  // the cached ranges are evidence, not truth: read back only when they hash to what was recorded beside
  // them and every range is one an activation can have; else measured again, and said so
  const kept = await readVerifiedCache(calibFile);
  if (kept && "bytes" in kept) {
    const parsed = parseCalibration(new TextDecoder().decode(kept.bytes));
    if (typeof parsed === "string") {
      if (verbose) {
        console.error(`note: the int8 calibration ${calibFile} is damaged (${parsed}): measuring again`);
      }
    } else calibration = parsed;
  } else if (kept && verbose) {
    console.error(`note: the int8 calibration ${calibFile} is damaged (${kept.damaged}): measuring again`);
  }
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
      const bytes = new TextEncoder().encode(JSON.stringify(calibration, null, 1) + "\n");
      await writeAtomic(calibFile, bytes);
      await writeAtomic(`${calibFile}.sha256`, new TextEncoder().encode(`${await sha256(bytes)}\n`));
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
