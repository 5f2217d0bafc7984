/**
 * "Query by a new file": embed an audio file that is not stored the way a
 * database's songs were (their configuration and weights), and give the
 * vector to rank against them. What `similar FILE` and the explorer's
 * uploads both do.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import type { StoredConfig } from "../store/store.ts";
import { EMBED_DEFAULTS } from "./defaults.ts";
import { createEmbedder, type Embedder, prepareModel } from "./embedder.ts";
import type { LoadedModel } from "../model/model_store.ts";
import { embedFileSong, type FileEmbedding } from "./embed_song.ts";
import { adoptStoredConfig, type ModelChoice } from "./stored_config.ts";

/** Refuse weights other than those the stored songs were embedded with: their similarities would mean nothing. */
function checkSameWeights(weightsHash: string, cfg: StoredConfig | undefined): void {
  if (cfg && weightsHash !== cfg.weightsHash) {
    throw new OpenL3Error(
      `the stored songs were embedded with other weights (sha256 ${
        cfg.weightsHash.slice(0, 16)
      }…, these are ` +
        `${weightsHash.slice(0, 16)}…): their similarities would mean nothing; ` +
        `pass the same --weights`,
    );
  }
}

/** Refuse a network of another precision than the stored songs': int8's numbers are not fp32's. */
function checkSamePrecision(model: LoadedModel, cfg: StoredConfig | undefined): void {
  if (cfg && model.precision !== cfg.precision) {
    throw new OpenL3Error(
      `the stored songs were embedded with the ${cfg.precision} network, this is the ${model.precision} one: ` +
        `leave --precision unset (or pass --precision ${cfg.precision})`,
    );
  }
}

/** An embedder for files to compare with a database's songs: their configuration, their weights. */
export async function embedderLikeStored(
  options: ModelChoice,
  cfg: StoredConfig | undefined,
  label: string,
): Promise<Embedder> {
  const embedder = await createEmbedder(await adoptStoredConfig(options, cfg, label));
  try {
    checkSameWeights(embedder.model.weightsHash, cfg);
    checkSamePrecision(embedder.model, cfg);
  } catch (e) {
    await embedder.close();
    throw e;
  }
  return embedder;
}

/**
 * The converted network of a database's songs (their configuration, their weights found as
 * {@linkcode embedderLikeStored} finds them), without a session: for a page that runs it itself.
 */
export async function modelLikeStored(
  options: ModelChoice,
  cfg: StoredConfig,
  label: string,
): Promise<LoadedModel> {
  const { model } = await prepareModel(await adoptStoredConfig(options, cfg, label));
  checkSameWeights(model.weightsHash, cfg);
  checkSamePrecision(model, cfg);
  return model;
}

/**
 * A file embedded as the stored songs were: its song vector (pooled their way), its timeline, and what its
 * decoder found (stopped between batches when `signal` aborts).
 */
export async function querySong(
  embedder: Embedder,
  file: string,
  cfg: StoredConfig | undefined,
  maxDuration?: number,
  signal?: AbortSignal,
  onProgress?: (fraction: number) => void,
): Promise<FileEmbedding> {
  return await embedFileSong(embedder, file, {
    pool: cfg?.pooling ?? EMBED_DEFAULTS.pool,
    maxDuration,
    signal,
    timeline: true,
    onProgress,
  });
}

/** A file's song vector, pooled as the stored songs were (stopped between batches when `signal` aborts). */
export async function queryVector(
  embedder: Embedder,
  file: string,
  cfg: StoredConfig | undefined,
  maxDuration?: number,
  signal?: AbortSignal,
  onProgress?: (fraction: number) => void,
): Promise<Float64Array> {
  return (await querySong(embedder, file, cfg, maxDuration, signal, onProgress)).vector!;
}
