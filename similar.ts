/**
 * Finding similar tracks: for a stored song, its nearest stored songs; for a
 * new audio file, embed it first (and store it only with `--store`).
 *
 *     deno task similar <song-id | audio file> [-k 10] [--metric cosine|euclidean] [--db PATH] [--store]
 *
 * @module
 */

import { DB_PATH, MODELS_DIR } from "./files.ts";
import { choiceFlag, numberFlag, parseCli, runMain } from "./lib/util/cli.ts";
import { ArgumentError, OpenL3Error } from "./lib/util/errors.ts";
import { pathId } from "./lib/store/song_id.ts";
import { DEVICE_CHOICES, type DeviceChoice } from "./lib/gpu/device.ts";
import { type BackendChoice, BACKENDS } from "./lib/model/inference.ts";
import { type Hit, loadIndex, type Metric, METRICS, type VectorIndex } from "./lib/analysis/vector_index.ts";
import { Store } from "./lib/store/sqlite_store.ts";
import type { ContentType, EmbeddingSize } from "./lib/model/architecture.ts";
import type { InputRepr } from "./lib/frontend/spec.ts";

/** Options of {@linkcode run}. */
export interface SimilarOptions {
  /** A stored song id, or an audio file. */
  query: string;
  k?: number;
  metric?: Metric;
  db?: string;
  /** Store a new file's vector too. A new file is embedded as the stored songs were (variant, hop, pooling). */
  store?: boolean;
  weights?: string;
  modelsDir?: string;
  backend?: BackendChoice;
  device?: DeviceChoice;
  verbose?: boolean;
}

type StoredConfig = ReturnType<Store["storedConfigs"]>[number];

/** The one configuration the stored songs were made with (undefined for an empty or new database). */
function storedConfig(db: string): StoredConfig | undefined {
  let configs: StoredConfig[];
  try {
    const store = Store.open(db, { readOnly: true });
    try {
      configs = store.storedConfigs();
    } finally {
      store.close();
    }
  } catch {
    return undefined; // no database yet
  }
  if (configs.length > 1) {
    throw new OpenL3Error(
      `${db} mixes ${configs.length} model configurations: compare stored songs by id instead`,
    );
  }
  return configs[0];
}

/** Embedder options that reproduce a stored configuration. */
function modelOf(cfg: StoredConfig | undefined) {
  return cfg
    ? {
      inputRepr: cfg.inputRepr as InputRepr,
      contentType: cfg.contentType as ContentType,
      embeddingSize: cfg.embeddingSize as EmbeddingSize,
      hopSize: cfg.hopSize,
      center: cfg.center,
    }
    : {};
}

/** The neighbours, best first, and the id the query resolved to (if stored). */
export async function run(options: SimilarOptions): Promise<{ queryId?: string; hits: Hit[] }> {
  const db = options.db ?? DB_PATH;
  const k = options.k ?? 10;
  const metric = options.metric ?? "cosine";
  const isFile = await Deno.stat(options.query).then((s) => s.isFile, () => false);
  // the model code loads only when a file must be embedded: a query by id starts fast
  if (isFile && options.store) {
    const cfg = storedConfig(db);
    const { embedCollection } = await import("./lib/pipeline/collection.ts");
    await embedCollection({
      inputs: [options.query],
      db,
      weights: options.weights,
      modelsDir: options.modelsDir,
      backend: options.backend,
      device: options.device,
      quiet: !(options.verbose ?? true),
      onFile: (line) => console.error(line),
      ...modelOf(cfg),
      pool: cfg?.pooling,
    });
  }
  let index: VectorIndex;
  try {
    index = loadIndex(db);
  } catch (e) {
    throw new OpenL3Error(`${db}: cannot read the stored vectors (embed something first)`, { cause: e });
  }
  // a stored id, or a file stored under its path id
  const asId = [options.query, ...(isFile ? [pathId(options.query)] : [])].find((id) =>
    index.ids.includes(id)
  );
  if (asId) {
    return { queryId: asId, hits: index.search(index.vector(index.ids.indexOf(asId)), k, metric, asId) };
  }
  if (!isFile) {
    throw new OpenL3Error(`"${options.query}" is neither a stored song id in ${db} nor an audio file`);
  }
  const cfg = storedConfig(db);
  const { createEmbedder, embedFile } = await import("./lib/pipeline/embedder.ts");
  const embedder = await createEmbedder({
    weights: options.weights,
    modelsDir: options.modelsDir,
    backend: options.backend,
    device: options.device,
    verbose: options.verbose,
    ...modelOf(cfg),
  });
  if (cfg && embedder.model.weightsHash !== cfg.weightsHash) {
    await embedder.close();
    throw new OpenL3Error(
      `the stored songs were embedded with other weights (sha256 ${
        cfg.weightsHash.slice(0, 16)
      }…, these are ` +
        `${embedder.model.weightsHash.slice(0, 16)}…): their similarities would mean nothing; pass --weights`,
    );
  }
  const pool = cfg?.pooling ?? "max";
  try {
    const e = await embedFile(embedder, options.query);
    const v = new Float64Array(e.size).fill(pool === "max" ? -Infinity : 0);
    for (let w = 0; w < e.windows; w++) {
      for (let d = 0; d < e.size; d++) {
        const x = e.embedding[w * e.size + d];
        v[d] = pool === "max" ? Math.max(v[d], x) : v[d] + x / e.windows;
      }
    }
    return { hits: index.search(v, k, metric) };
  } finally {
    await embedder.close();
  }
}

const HELP = `Find the stored songs most similar to a stored song or to a new audio file.

Usage: deno task similar <song-id | audio file> [options]

  -k N              how many (default: 10)
  --metric M        ${METRICS.join(" | ")} (default: cosine)
  --db PATH         SQLite database (default: ${DB_PATH})
  --store           store a new file's vector too (otherwise it is only compared)
  --weights PATH    weights for embedding a new file (default: official, in ${MODELS_DIR}/)
  --models-dir DIR  (default: ${MODELS_DIR})
  --backend B       ${BACKENDS.join(" | ")} (default: auto)
  --device D        ${DEVICE_CHOICES.join(" | ")} (default: auto)
  -h, --help        this text`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCli(args, {
    k: { type: "string", short: "k" },
    metric: { type: "string" },
    db: { type: "string" },
    store: { type: "boolean" },
    weights: { type: "string" },
    "models-dir": { type: "string" },
    backend: { type: "string" },
    device: { type: "string" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new ArgumentError(`expected one song id or audio file, got ${positionals.length}`);
  }
  const metric = choiceFlag(values.metric, "metric", METRICS, "cosine");
  const { hits } = await run({
    query: positionals[0],
    k: numberFlag(values.k, "k", 10),
    metric,
    db: values.db,
    store: values.store,
    weights: values.weights,
    modelsDir: values["models-dir"] ?? MODELS_DIR,
    backend: choiceFlag(values.backend, "backend", BACKENDS, "auto"),
    device: choiceFlag(values.device, "device", DEVICE_CHOICES, "auto"),
  });
  hits.forEach((h, i) => console.log(`${String(i + 1).padStart(3)}  ${h.score.toFixed(4)}  ${h.id}`));
  return 0;
}

if (import.meta.main) await runMain(main);
