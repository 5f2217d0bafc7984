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
  onNote?: (line: string) => void,
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
  if (found) {
    onNote?.(
      `note: weights ${found}: ${label}'s songs were embedded with them (${
        PROVENANCE_LABELS[cfg.weightsProvenance]
      }, found by the hash it recorded); --weights chooses others, with another --db`,
    );
    return { ...out, weights: found };
  }
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

/** Each setting that decides the numbers: its flag, and how a value reads. */
const SETTINGS: { field: keyof NumbersConfig; flag: string; say: (c: NumbersConfig) => string }[] = [
  { field: "precision", flag: "--precision", say: (c) => `${c.precision} embeddings` },
  { field: "inputRepr", flag: "--input-repr", say: (c) => `${c.inputRepr} spectrograms` },
  { field: "contentType", flag: "--content-type", say: (c) => `the ${c.contentType} network` },
  { field: "embeddingSize", flag: "--embedding-size", say: (c) => `${c.embeddingSize}-d embeddings` },
  { field: "hopSize", flag: "--hop", say: (c) => `a hop of ${c.hopSize} s` },
  {
    field: "center",
    flag: "--no-center",
    say: (c) => (c.center ? "centred windows" : "windows not centred"),
  },
  { field: "pooling", flag: "--pool", say: (c) => `${c.pooling} pooling` },
  { field: "weightsHash", flag: "--weights", say: (c) => `weights sha256 ${c.weightsHash.slice(0, 12)}…` },
];

/**
 * The settings two configurations differ in, as words for each side and the flags to leave out (the
 * settings `run` does not hold are not compared).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { differences } from "./stored_config.ts";
 * const db = { inputRepr: "mel256", contentType: "music", embeddingSize: 512, weightsHash: "ab", hopSize: 0.1,
 *   center: true, pooling: "max", precision: "fp32" } as const;
 * assert.deepEqual(differences(db, { precision: "int8", hopSize: 0.1 }), {
 *   stored: "fp32 embeddings", run: "int8 embeddings", flags: ["--precision"],
 * });
 * ```
 */
export function differences(
  stored: NumbersConfig,
  run: Partial<NumbersConfig>,
): { stored: string; run: string; flags: string[] } | null {
  const differ = SETTINGS.filter((s) => run[s.field] !== undefined && run[s.field] !== stored[s.field]);
  if (differ.length === 0) return null;
  const full = { ...stored, ...run } as NumbersConfig;
  return {
    stored: differ.map((s) => s.say(stored)).join(", "),
    run: differ.map((s) => s.say(full)).join(", "),
    flags: differ.map((s) => s.flag),
  };
}

/**
 * Refuse a run whose configuration is not one the database's songs were made with (a database holds one;
 * older versions of this tool may have written several, and writing more of any of them is allowed): the
 * difference first, then what to do, then the whole configuration. With a partial `run` (the settings known
 * before the model is loaded), only those are compared: a run is refused before any work.
 *
 * @throws {ConfigMismatchError} naming the difference and what to do.
 */
export function refuseOtherConfig(label: string, stored: NumbersConfig[], run: Partial<NumbersConfig>): void {
  if (stored.length === 0) return;
  const diffs = stored.map((c) => differences(c, run));
  if (diffs.some((d) => d === null)) return;
  const d = diffs[0]!;
  throw new ConfigMismatchError(
    `${label} holds ${d.stored}; this run asks for ${d.run}: use another --db, or leave out ` +
      `${d.flags.join(" and ")} (the database's are used). Nothing written: it holds another model ` +
      `configuration (${describeConfig(stored[0])}), and one configuration per database: use another --db ` +
      `or the same options`,
  );
}

/** The settings of embedder options that decide the numbers and are known before the model is loaded. */
export function knownSettings(o: ModelChoice): Partial<NumbersConfig> {
  const out: Partial<NumbersConfig> = {};
  if (o.inputRepr !== undefined) out.inputRepr = o.inputRepr;
  if (o.contentType !== undefined) out.contentType = o.contentType;
  if (o.embeddingSize !== undefined) out.embeddingSize = o.embeddingSize;
  if (o.hopSize !== undefined) out.hopSize = o.hopSize;
  if (o.center !== undefined) out.center = o.center;
  if (o.pool !== undefined) out.pooling = o.pool;
  if (o.precision !== undefined) out.precision = o.precision;
  return out;
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
