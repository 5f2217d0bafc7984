/**
 * Finding similar tracks: for a stored song, its nearest stored songs; for a
 * new audio file, embed it first, the way the stored songs were (and store
 * it only with `--store`).
 *
 *     deno task similar <song-id | audio file> [-k 10] [--metric cosine|euclidean] [--db PATH] [--store]
 *
 * @module
 */

import { DB_PATH } from "./files.ts";
import {
  choiceFlag,
  type Command,
  defineCommand,
  editDistance,
  integerFlag,
  runCommand,
} from "./lib/util/cli.ts";
import { ArgumentError, OpenL3Error, printable } from "./lib/util/errors.ts";
import { statusLine } from "./lib/util/status_line.ts";
import { formatDuration } from "./lib/pipeline/progress.ts";
import { pathId } from "./lib/store/song_id.ts";
import { type Hit, loadIndex, type Metric, METRICS, VectorIndex } from "./lib/analysis/vector_index.ts";
import {
  checkRange,
  resolveEmbedderOptions,
  runtimeOf,
  type RuntimeOptions,
} from "./lib/pipeline/embed_options.ts";
import { modelFlags, modelFlagsHelp, modelOptions, RUNTIME_FLAGS } from "./lib/pipeline/model_flags.ts";
import { describeMixed, listConfigs } from "./lib/pipeline/stored_config.ts";
import {
  describeRejected,
  describeStore,
  openStore,
  type RejectedVector,
  type StoredConfig,
} from "./lib/store/store.ts";
import { ANN_THRESHOLD, QuantizedIndex } from "./lib/analysis/ann_index.ts";

/** Options of {@linkcode run}. */
export interface SimilarOptions extends RuntimeOptions {
  /** A stored song id, or an audio file. */
  query: string;
  /**
   * How many neighbours.
   * @default {10}
   */
  k?: number;
  /**
   * Ranking.
   * @default {"cosine"}
   */
  metric?: Metric;
  /**
   * SQLite database.
   * @default {"metadata/songs.db"}
   */
  db?: string;
  /** Store a new file's vector too. A new file is embedded as the stored songs were (variant, hop, pooling). */
  store?: boolean;
  /**
   * Songs from which cosine rankings come from the SIMD scan, re-ranked exactly.
   * @default {50000}
   */
  annThreshold?: number;
  /**
   * Say where the model runs (stderr).
   * @default {true}
   */
  verbose?: boolean;
}

/** The neighbours, best first, and the id the query resolved to (if stored). */
export async function run(
  options: SimilarOptions,
): Promise<{ queryId?: string; hits: Hit[]; search: "exact" | "simd-scan" }> {
  const db = options.db ?? DB_PATH;
  const k = options.k ?? 10;
  const metric = options.metric ?? "cosine";
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`-k must be a whole number ≥ 1, got ${k}`);
  checkRange("k", k);
  resolveEmbedderOptions(options); // a bad --backend or --device is a usage error even for a stored id
  if (options.store && !describeStore(db).traits.localWrites) {
    throw new ArgumentError(
      "--store does not write to PostgreSQL: add files with embed --db postgres://… --root …",
    );
  }
  let cfg: StoredConfig | undefined;
  let mixedIds: Set<string> | undefined;
  const reader = await openStore(db, { readOnly: true });
  const label = reader.label;
  try {
    const configs = await reader.storedConfigs();
    if (configs.length > 1) {
      // a mixed database (written by an older version): the songs of the asked song's configuration only
      const mixed = listConfigs(configs, await reader.songConfigKeys());
      const mine = mixed.find((c) =>
        c.songs.includes(options.query) || c.songs.includes(pathId(options.query))
      );
      if (!mine) {
        throw new OpenL3Error(
          `${describeMixed(reader.label, mixed)}: query by a stored song's id (its configuration is used)`,
        );
      }
      cfg = mine.config;
      mixedIds = new Set(mine.songs);
    } else cfg = configs[0];
  } finally {
    await reader.close();
  }
  const isFile = await Deno.stat(options.query).then((s) => s.isFile, () => false);
  // the model code loads only when a file must be embedded: a query by id starts fast
  if (isFile && options.store) {
    const { embedCollection } = await import("./lib/pipeline/collection.ts");
    await embedCollection({
      ...runtimeOf(options),
      inputs: [options.query],
      db,
      quiet: !(options.verbose ?? true),
      onFile: (line) => console.error(line),
    }); // embedded as the stored songs were (their configuration is the database's)
  }
  const { index, rejected } = await readIndex(db, mixedIds);
  if (options.verbose ?? true) { for (const r of rejected) console.error(describeRejected(r)); }
  if (index.ids.length === 0) {
    throw new OpenL3Error(`${label} holds no songs yet: embed some first (deno task embed <folder>)`);
  }
  // above the threshold, cosine rankings come from the SIMD scan, re-ranked exactly
  const ann = metric === "cosine" && index.ids.length >= (options.annThreshold ?? ANN_THRESHOLD)
    ? await QuantizedIndex.build(index, "f32") // one query: no int8 copy to build
    : null;
  const how = ann ? "simd-scan" as const : "exact" as const;
  const search = (v: ArrayLike<number>, exclude?: string) =>
    ann ? ann.search(v, k, exclude) : index.search(v, k, metric, exclude);
  // a stored id, or a file stored under its path id
  // a stored id, a file stored under its path id, or a file stored under another id (simple-embed's stems)
  const asId = [
    options.query,
    ...(isFile ? [pathId(options.query), ...await idsOfPath(db, pathId(options.query))] : []),
  ]
    .find((id) => index.row(id) >= 0);
  if (asId) {
    if (index.ids.length === 1) {
      throw new OpenL3Error(`${label} holds only this song: there is nothing to compare it with`);
    }
    return { queryId: asId, hits: search(index.vector(index.row(asId)), asId), search: how };
  }
  if (!isFile) {
    // a file name for a stored id (`similar noise.wav` where the song is stored as "noise"): say so
    const stem = options.query.replace(/^.*[\\/]/, "").replace(/\.[^.]+$/, "");
    const near = index.row(stem) >= 0
      ? stem
      : index.ids.length <= 100_000
      ? index.ids.find((id) =>
        editDistance(id, options.query) <= Math.max(1, Math.floor(options.query.length / 5))
      )
      : undefined;
    throw new OpenL3Error(
      `"${options.query}" is neither a stored song id in ${label} nor an audio file` +
        (near !== undefined ? ` (did you mean the stored song "${near}"?)` : ""),
    );
  }
  const { embedderLikeStored, queryVector } = await import("./lib/pipeline/query_file.ts");
  const verbose = options.verbose ?? true;
  const show = statusLine();
  if (verbose) {
    show(`embedding ${printable(options.query)} the way the stored songs were (it is not stored)…`, true);
  }
  const embedder = await embedderLikeStored({ ...runtimeOf(options), verbose }, cfg, label);
  const started = performance.now();
  try {
    const vector = await queryVector(embedder, options.query, cfg, undefined, undefined, (f) => {
      if (!verbose) return;
      const s = (performance.now() - started) / 1000;
      show(
        `embedding: ${Math.round(100 * f)}% · ${s.toFixed(0)} s · ETA ${
          f > 0.02 ? formatDuration((s / f) * (1 - f)) : "?"
        }`,
        f >= 1,
      );
    });
    return { hits: search(vector), search: how };
  } finally {
    await embedder.close();
  }
}

/** The ids of stored songs whose file is `path` (whatever id style stored them). */
async function idsOfPath(db: string, path: string): Promise<string[]> {
  const store = await openStore(db, { readOnly: true });
  try {
    return (await store.songPaths(path)).filter((s) => s.path === path).map((s) => s.songId);
  } finally {
    await store.close();
  }
}

/** The index of the stored songs (of one configuration's songs only, in a mixed database). */
async function readIndex(
  db: string,
  only?: Set<string>,
): Promise<{ index: VectorIndex; rejected: RejectedVector[] }> {
  const store = await openStore(db, { readOnly: true });
  try {
    if (!only) return await loadIndex(store);
    const { vectors, rejected } = await store.vectors();
    return { index: VectorIndex.from(new Map([...vectors].filter(([id]) => only.has(id)))), rejected };
  } finally {
    await store.close();
  }
}

const HELP = `Find the stored songs most similar to a stored song or to a new audio file.

Usage: deno task similar <song-id | audio file> [options]

A song id is how the song is stored: its file's absolute path for \`embed\` (the path of a stored
file works too), the file name without extension for \`simple-embed\` (e.g. bell_sound). A file that
is not stored is embedded the way the stored songs were and compared (stored only with --store).

  -k N              how many (default: 10)
  --metric M        ${METRICS.join(" | ")} (default: cosine)
  --db PATH|URL     SQLite database (default: ${DB_PATH}), or postgres://user:pw@host:port/db
  --store           store a new file's vector too (otherwise it is only compared)

Embedding a new file (its variant, hop and pooling are the stored songs')
${modelFlagsHelp(RUNTIME_FLAGS, { column: 20, fromDatabase: true })}

  --version         the tool's and the runtime's versions
  -h, --help        this text

Each line: rank, cosine similarity (or Euclidean distance), song id.`;

/** The `similar` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "similar",
  summary: "the stored songs nearest to a stored song or a new audio file",
  help: HELP,
  options: {
    k: { type: "string", short: "k" },
    metric: { type: "string" },
    db: { type: "string" },
    store: { type: "boolean" },
    ...modelFlags(RUNTIME_FLAGS),
  },
  positionals: true,
  body: async ({ values, positionals }) => {
    if (positionals.length !== 1) {
      throw new ArgumentError(`expected one song id or audio file, got ${positionals.length}`);
    }
    const { hits } = await run({
      ...modelOptions(values),
      query: positionals[0],
      k: integerFlag(values.k, "k", 10),
      metric: choiceFlag(values.metric, "metric", METRICS, "cosine"),
      db: values.db,
      store: values.store,
    });
    hits.forEach((h, i) =>
      console.log(`${String(i + 1).padStart(3)}  ${h.score.toFixed(4)}  ${printable(h.id)}`)
    );
  },
});

if (import.meta.main) await runCommand(command);
