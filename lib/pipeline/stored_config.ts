/**
 * One model configuration per database: what a database's songs were made
 * with decides how anything else is embedded into it or compared with it.
 * A new file (`similar FILE`, an explorer upload, an `embed` rerun) is
 * embedded the way the stored songs were — their variant, hop, centring,
 * pooling and weights, the weights found again by the hash the database
 * recorded — and a run asking for another configuration is refused before
 * any work, in one line, on SQLite and PostgreSQL alike.
 *
 * @module
 */

import { ConfigMismatchError, OpenL3Error } from "../util/errors.ts";
import { configKey, type NumbersConfig } from "../store/model_config.ts";
import type { StoredConfig } from "../store/store.ts";
import type { Pooling } from "../model/pooling.ts";
import { PROVENANCE_LABELS } from "../model/provenance.ts";
import { findWeightsByHash } from "../model/weights_lookup.ts";
import { DEFAULT_PATHS } from "./defaults.ts";
import type { EmbedderOptions } from "./embed_options.ts";

export { ConfigMismatchError } from "../util/errors.ts";

/** The one configuration of a list (a database's), or an error when they are mixed. */
export function singleConfig(configs: StoredConfig[], db: string): StoredConfig | undefined {
  if (configs.length > 1) {
    throw new OpenL3Error(
      `${db} mixes ${configs.length} model configurations: compare stored songs by id instead`,
    );
  }
  return configs[0];
}

/**
 * A configuration in words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeConfig } from "./stored_config.ts";
 * assert.equal(
 *   describeConfig({ inputRepr: "mel256", contentType: "music", embeddingSize: 512, weightsHash: "0123456789abcdef00",
 *     hopSize: 0.1, center: true, pooling: "max", precision: "fp32" }),
 *   "mel256/music/512, weights sha256 0123456789ab…, hop 0.1 s, centred, max pooling",
 * );
 * ```
 */
export function describeConfig(c: NumbersConfig): string {
  return `${c.inputRepr}/${c.contentType}/${c.embeddingSize}, weights sha256 ${
    c.weightsHash.slice(0, 12)
  }…, ` +
    `hop ${c.hopSize} s, ${c.center ? "centred" : "not centred"}, ${c.pooling} pooling` +
    (c.precision === "fp32" ? "" : `, ${c.precision} network`);
}

/** Embedder options with the song pooling. */
export type ModelChoice = EmbedderOptions & { pool?: Pooling };

/**
 * The options that embed a new file the way the stored songs were: every setting the caller left unset is
 * taken from `cfg`, the weights included — found again by their recorded hash (see
 * {@linkcode findWeightsByHash}); the official weights are left to the usual lookup and download. Settings
 * the caller did give are kept (a run that then differs is refused by {@linkcode refuseOtherConfig}).
 *
 * @throws {OpenL3Error} when the stored songs' weights are not official and cannot be found here.
 */
export async function adoptStoredConfig<T extends ModelChoice>(
  options: T,
  cfg: StoredConfig | undefined,
  label: string,
): Promise<T> {
  if (!cfg) return options;
  const out: T = {
    ...options,
    inputRepr: options.inputRepr ?? cfg.inputRepr,
    contentType: options.contentType ?? cfg.contentType,
    embeddingSize: options.embeddingSize ?? cfg.embeddingSize,
    hopSize: options.hopSize ?? cfg.hopSize,
    center: options.center ?? cfg.center,
    pool: options.pool ?? cfg.pooling,
    precision: options.precision ?? cfg.precision,
  };
  const sameVariant = out.inputRepr === cfg.inputRepr && out.contentType === cfg.contentType &&
    out.embeddingSize === cfg.embeddingSize;
  if (options.weights !== undefined || !sameVariant) return out;
  const dir = options.modelsDir ?? DEFAULT_PATHS.models;
  const found = await findWeightsByHash(dir, cfg);
  if (found) return { ...out, weights: found };
  if (cfg.weightsProvenance === "official") return out;
  throw new OpenL3Error(
    `${label}: its songs were embedded with ${PROVENANCE_LABELS[cfg.weightsProvenance]} ` +
      `(sha256 ${
        cfg.weightsHash.slice(0, 16)
      }…), not found in ${dir}: pass the same file with --weights PATH` +
      (cfg.weightsProvenance === "untrained"
        ? " (the seeded test weights: deno task make-test-weights --out PATH, then --weights PATH)"
        : ""),
  );
}

/**
 * Refuse a run whose configuration is not one the database's songs were made with (a database holds one;
 * older versions of this tool may have written several, and writing more of any of them is allowed).
 *
 * @throws {ConfigMismatchError} naming both configurations and what to do.
 */
export function refuseOtherConfig(label: string, stored: NumbersConfig[], run: NumbersConfig): void {
  if (stored.length === 0 || stored.some((c) => configKey(c) === configKey(run))) return;
  throw new ConfigMismatchError(
    `${label} holds songs embedded with another model configuration (${describeConfig(stored[0])}) than ` +
      `this run's (${
        describeConfig(run)
      }): nothing written (one configuration per database: use another --db, ` +
      `or the same options)`,
  );
}

/** A database's configurations, numbered from 1 (as `--config N` names them), with their songs. */
export function listConfigs(
  configs: StoredConfig[],
  songKeys: Map<string, string>,
): { n: number; config: StoredConfig; key: string; songs: string[] }[] {
  const sorted = [...configs].sort((a, b) => configKey(a) < configKey(b) ? -1 : 1);
  return sorted.map((config, i) => {
    const key = configKey(config);
    return { n: i + 1, config, key, songs: [...songKeys].filter(([, k]) => k === key).map(([id]) => id) };
  });
}

/** The line that lists a mixed database's configurations. */
export function describeMixed(label: string, list: ReturnType<typeof listConfigs>): string {
  return `${label} mixes ${list.length} model configurations (written by an older version): ` +
    list.map((c) => `${c.n}: ${describeConfig(c.config)}, ${c.songs.length} songs`).join("; ");
}
