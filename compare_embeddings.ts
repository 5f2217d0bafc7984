/**
 * Similarity analysis of stored embeddings: cosine and Euclidean tables and
 * CSVs, the most and least similar pairs, nearest neighbours, a computed
 * validation of the synthetic set's claims, and the t-SNE map
 * (`embedding_visualization.png`, SVG beside it) plus a similarity heatmap.
 *
 *     deno task compare [--db PATH] [--ids a,b,c] [--prefix P] [--out-dir DIR] [--png PATH]
 *                       [--clusters K] [-k N] [--seed N]
 *
 * @module
 */

import { dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { ANALYSIS_DIR, DB_PATH, VISUALIZATION_PNG } from "./files.ts";
import { type Command, defineCommand, integerFlag, runCommand } from "./lib/util/cli.ts";
import { kMeans } from "./lib/analysis/kmeans.ts";
import {
  extremePairs,
  matrixCsv,
  matrixTable,
  nearest,
  pairwise,
  shortNames,
} from "./lib/analysis/similarity.ts";
import {
  type Claim,
  SYNTHETIC_GROUPS,
  syntheticName,
  validateSyntheticSet,
} from "./lib/analysis/synthetic_claims.ts";
import { cosineSimilarity, euclideanDistance } from "./lib/util/vector_math.ts";
import { ArgumentError, FileError, OpenL3Error, printable } from "./lib/util/errors.ts";
import { writeFileAtomic } from "./lib/util/atomic_file.ts";
import { heatmapSvg, renderPng, scatterSvg } from "./lib/analysis/plot.ts";
import { describeRejected, openStore, type StoredConfig } from "./lib/store/store.ts";
import { describeMixed, listConfigs } from "./lib/pipeline/stored_config.ts";
import { PROVENANCE_LABELS } from "./lib/model/provenance.ts";
import { tsneMap } from "./lib/analysis/tsne_map.ts";

/** Options of {@linkcode run}. */
export interface CompareOptions {
  /** SQLite database; default `metadata/songs.db`. */
  db?: string;
  /** Only these song ids. */
  ids?: string[];
  /** Only ids starting with this (e.g. a folder path). */
  prefix?: string;
  /** Folder for the CSVs and the heatmap; default `metadata`. */
  outDir?: string;
  /** The t-SNE map; default `embedding_visualization.png` (the SVG goes beside it). */
  png?: string;
  /** k-means groups when the set is not the synthetic one; default chosen from the count. */
  clusters?: number;
  /** Neighbours listed per track; default 3. */
  k?: number;
  /** Seed of the t-SNE map and of k-means. */
  seed?: number;
  /** Print the report on stdout; default true. */
  print?: boolean;
  /**
   * Which configuration of a database that mixes several (older versions wrote such databases), numbered
   * from 1 as the error that lists them numbers them; required there, ignored elsewhere.
   */
  config?: number;
}

/** What {@linkcode run} produced. */
export interface CompareResult {
  /** The songs compared, in order. */
  ids: string[];
  /** Cosine similarities (n × n). */
  cosine: Float64Array[];
  /** Euclidean distances (n × n). */
  euclidean: Float64Array[];
  /** The synthetic set's claims, checked (null when the set is not present). */
  claims: Claim[] | null;
  /** Colour group of each song. */
  groups: string[];
  /** Files written. */
  files: string[];
  /** The report as printed. */
  report: string;
}

function groupOf(id: string): string | undefined {
  const name = syntheticName(id);
  if (!name) return undefined;
  if ((SYNTHETIC_GROUPS.chords as readonly string[]).includes(name)) return "major chords";
  if ((SYNTHETIC_GROUPS.noises as readonly string[]).includes(name)) return "noise";
  return name.replace(/_/g, " ");
}

/**
 * The model of the stored songs in a few words, e.g. "mel256 / music / 512, UNTRAINED test weights" (with
 * ", int8 network" when the quantized network made them).
 */
export function describeConfigs(configs: StoredConfig[]): string {
  const variants = new Set(configs.map((c) => `${c.inputRepr} / ${c.contentType} / ${c.embeddingSize}`));
  const weights = new Set(configs.map((c) => PROVENANCE_LABELS[c.weightsProvenance] ?? c.weightsProvenance));
  if (variants.size === 0) return "";
  const int8 = configs.some((c) => c.precision === "int8") ? ", int8 network" : "";
  return `${variants.size === 1 ? [...variants][0] : "mixed configurations"}, ${
    [...weights].join(" and ")
  }${int8}`;
}

/** Song ids in code-unit order (the same whatever the locale). */
function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** k-means labels renamed in order of first appearance (over the ids' order), so a rerun names them alike. */
function canonicalClusters(labels: number[]): string[] {
  const names = new Map<number, string>();
  return labels.map((c) => {
    if (!names.has(c)) names.set(c, `cluster ${names.size + 1}`);
    return names.get(c)!;
  });
}

/** The terminal's width when stdout is one, else 120 (a log, a pipe). */
function terminalColumns(): number {
  try {
    if (Deno.stdout.isTerminal()) return Deno.consoleSize().columns;
  } catch { /* no console */ }
  return 120;
}

/** Make a folder for output, or say clearly why it cannot be one. */
async function ensureFolder(path: string, what: string): Promise<void> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (e) {
    const why = e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory
      ? "is a file, not a folder"
      : (e as Error).message;
    throw new OpenL3Error(`${path} (${what}): ${why}`, { cause: e });
  }
}

/** Analyse the stored vectors and write the files. */
export async function run(options: CompareOptions = {}): Promise<CompareResult> {
  const dbPath = options.db ?? DB_PATH;
  if (options.png !== undefined && !/\.png$/i.test(options.png)) {
    throw new ArgumentError(
      `--png must name a .png file (the SVG is written beside it), got "${options.png}"`,
    );
  }
  // read-only: a database of the original project (songs_vectors only) is read as it is
  const reader = await openStore(dbPath, {
    readOnly: true,
    whenMissing: "run `deno task simple-embed` or `deno task embed` first",
  });
  let all: Map<string, Float64Array>;
  let model = "";
  try {
    const read = await reader.vectors(options.prefix ?? "");
    all = read.vectors;
    // a NaN or wrong-length vector is left out of every table, ranking and map, and said so
    if (options.print !== false) { for (const r of read.rejected) console.error(describeRejected(r)); }
    const configs = await reader.storedConfigs();
    model = describeConfigs(configs);
    if (configs.length > 1) {
      // a mixed database: one configuration at a time (their vectors do not compare with each other)
      const list = listConfigs(configs, await reader.songConfigKeys());
      const chosen = list.find((c) => c.n === options.config);
      if (!chosen) {
        throw new OpenL3Error(
          `${describeMixed(reader.label, list)}: choose one with --config N` +
            (options.config !== undefined ? ` (there is no ${options.config})` : ""),
        );
      }
      const keep = new Set(chosen.songs);
      all = new Map([...all].filter(([id]) => keep.has(id)));
      model = describeConfigs([chosen.config]);
    }
  } finally {
    await reader.close();
  }
  // in the ids' order, not the database's rows': the same collection gives the same tables, map and colours
  let ids = [...all.keys()].sort(byId);
  const everySong = ids.length;
  if (options.ids?.length) {
    const missing = options.ids.filter((id) => !all.has(id));
    if (missing.length) throw new OpenL3Error(`not in ${reader.label}: ${missing.join(", ")}`);
    ids = [...new Set(options.ids)].sort(byId);
  }
  if (ids.length < 2) {
    throw new OpenL3Error(`${reader.label}: need at least 2 stored songs to compare, found ${ids.length}`);
  }
  const vectors = ids.map((id) => all.get(id)!);
  const dims = new Set(vectors.map((v) => v.length));
  if (dims.size > 1) {
    throw new OpenL3Error(
      `${reader.label}: vectors of different lengths (${
        [...dims].join(", ")
      }): filter with --prefix or --ids`,
    );
  }
  const names = shortNames(ids).map(printable); // one line each, in their order, whatever the file names hold
  const cosine = pairwise(vectors, cosineSimilarity);
  const euclidean = pairwise(vectors, euclideanDistance);
  const claims = validateSyntheticSet({ ids, vectors });
  const synthetic = ids.every((id) => groupOf(id));
  const k = options.clusters ?? Math.min(8, Math.max(2, Math.round(Math.sqrt(ids.length / 2))));
  const groups = synthetic
    ? ids.map((id) => groupOf(id)!)
    : canonicalClusters(kMeans(vectors, k, options.seed ?? 1));

  // a subset goes to a folder of its own unless told where: the whole collection's files stay as they are
  const subset = (ids.length < everySong || !!options.prefix) && options.outDir === undefined &&
    options.png === undefined;
  const outDir = options.outDir ??
    (subset
      ? join(ANALYSIS_DIR, `subset-${createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 8)}`)
      : ANALYSIS_DIR);
  const pngPath = options.png ?? (subset ? join(outDir, "embedding_visualization.png") : VISUALIZATION_PNG);

  const lines: string[] = [`${ids.length} songs${model ? `, OpenL3 ${model}` : ""} (${reader.label})`, ""];
  if (subset) {
    lines.push(
      `a subset (${
        options.prefix ? `--prefix ${printable(options.prefix)}` : "--ids"
      }, ${ids.length} songs): ` +
        `written to ${outDir}/ (the whole collection's files are kept; --out-dir and --png choose)`,
      "",
    );
  }
  // the tables when they fit the terminal (numbered columns); else where the whole of them is
  const columns = terminalColumns();
  const cosineTable = matrixTable(names, cosine), euclideanTable = matrixTable(names, euclidean, 2);
  const widest = Math.max(...`${cosineTable}\n${euclideanTable}`.split("\n").map((l) => l.length));
  if (widest <= columns) {
    lines.push("Cosine similarity", cosineTable, "", "Euclidean distance", euclideanTable, "");
  } else {
    lines.push(
      `Cosine similarity and Euclidean distance: ${ids.length} × ${ids.length}, wider than ${columns} columns: ` +
        `see ${join(outDir, "cosine_similarity.csv")} and ${join(outDir, "euclidean_distance.csv")}`,
      "",
    );
  }
  const nameOf = new Map(ids.map((id, i) => [id, names[i]]));
  const fmtPair = (p: { a: string; b: string; value: number }) =>
    `  ${p.value.toFixed(4)}  ${nameOf.get(p.a)} ↔ ${nameOf.get(p.b)}`;
  lines.push("Most similar pairs (cosine)", ...extremePairs(ids, cosine, 5, true).map(fmtPair), "");
  lines.push("Least similar pairs (cosine)", ...extremePairs(ids, cosine, 5, false).map(fmtPair), "");
  const kn = options.k ?? 3;
  if (!Number.isInteger(kn) || kn < 1) throw new ArgumentError(`-k must be a whole number ≥ 1, got ${kn}`);
  lines.push(`Nearest neighbours (cosine, k = ${kn})`);
  ids.forEach((_, i) => {
    const nb = nearest(ids, cosine, i, kn, true).map((x) => `${nameOf.get(x.id)} ${x.value.toFixed(3)}`);
    lines.push(`  ${names[i]}: ${nb.join(", ")}`);
  });
  if (claims) {
    lines.push("", "Validation of the synthetic set");
    for (const c of claims) lines.push(`  ${c.holds ? "HOLDS " : "FAILS "} ${c.claim}: ${c.figures}`);
  }

  await ensureFolder(outDir, "--out-dir");
  await ensureFolder(dirname(pngPath), "the folder of --png");
  const files: string[] = [];
  // each output whole or not at all (a full disk leaves the earlier file, or none, and one line saying so)
  const write = async (path: string, data: string | Uint8Array) => {
    try {
      await writeFileAtomic(path, data);
    } catch (e) {
      throw new FileError(path, `cannot be written (${(e as Error).message})`, { cause: e });
    }
    files.push(path);
  };
  await write(join(outDir, "cosine_similarity.csv"), matrixCsv(ids, cosine));
  await write(join(outDir, "euclidean_distance.csv"), matrixCsv(ids, euclidean));
  const neighbourRows = ["song_id,rank,neighbour,cosine"];
  ids.forEach((id, i) =>
    nearest(ids, cosine, i, Math.min(10, ids.length - 1), true).forEach((x, r) =>
      neighbourRows.push(`"${id.replace(/"/g, '""')}",${r + 1},"${x.id.replace(/"/g, '""')}",${x.value}`)
    )
  );
  await write(join(outDir, "nearest_neighbours.csv"), neighbourRows.join("\n") + "\n");

  const map = tsneMap(vectors, { seed: options.seed ?? 42 });
  if (map.note && options.print !== false) console.error(`t-SNE: ${map.note}`);
  const title = `OpenL3 embeddings${model ? ` (${model})` : ""}: ${ids.length} tracks`;
  const subtitle = `t-SNE (${map.method}), perplexity ${map.perplexity}, seed ${options.seed ?? 42}` +
    (synthetic ? "; colours: the synthetic set's groups" : `; colours: k-means, k = ${k}`) +
    (map.note ? `; ${map.note}` : "");
  const svg = scatterSvg({
    points: map.points,
    labels: map.indices.map((i) => names[i]),
    groups: map.indices.map((i) => groups[i]),
    title,
    subtitle,
  });
  const png = pngPath;
  await write(png.replace(/\.png$/i, "") + ".svg", svg);
  await write(png, await renderPng(svg, 1500));
  // heatmap ordered by group
  const order = ids.map((_, i) => i).sort((a, b) =>
    groups[a].localeCompare(groups[b]) || names[a].localeCompare(names[b])
  );
  const hm = heatmapSvg(
    order.map((i) => Float64Array.from(order, (j) => cosine[i][j])),
    order.map((i) => names[i]),
    `Cosine similarity: ${title}`,
  );
  await write(join(outDir, "similarity_heatmap.svg"), hm);
  await write(join(outDir, "similarity_heatmap.png"), await renderPng(hm));
  lines.push("", "Wrote", ...files.map((f) => `  ${f}`));
  const report = lines.join("\n");
  if (options.print !== false) console.log(report);
  return { ids, cosine, euclidean, claims, groups, files, report };
}

const HELP = `Compare stored song embeddings: similarity tables, neighbours, validation, t-SNE map.

Usage: deno task compare [options]

  --db PATH|URL     SQLite database (default: ${DB_PATH}), or postgres://user:pw@host:port/db
  --ids A,B,...     only these song ids
  --prefix P        only song ids starting with P (e.g. a folder)
  --out-dir DIR     CSVs and the heatmap (default: ${ANALYSIS_DIR})
  --png PATH        t-SNE map (default: ${VISUALIZATION_PNG}; the SVG is written beside it)
  --clusters K      k-means groups for colouring (default: chosen from the count)
  -k N              neighbours listed per song (default: 3)
  --seed N          t-SNE seed (default: 42)
  --config N        in a database that mixes model configurations (older versions wrote such
                    databases), compare the songs of configuration N (the error lists them)
  -h, --help        this text`;

/** The `compare` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "compare",
  summary: "similarity tables, neighbours, validation, t-SNE map and heatmap",
  help: HELP,
  options: {
    db: { type: "string" },
    ids: { type: "string" },
    prefix: { type: "string" },
    "out-dir": { type: "string" },
    png: { type: "string" },
    clusters: { type: "string" },
    k: { type: "string", short: "k" },
    seed: { type: "string" },
    config: { type: "string" },
  },
  body: async ({ values }) => {
    await run({
      db: values.db,
      ids: values.ids?.split(",").map((s) => s.trim()).filter((s) => s),
      prefix: values.prefix,
      outDir: values["out-dir"],
      png: values.png,
      clusters: values.clusters === undefined ? undefined : integerFlag(values.clusters, "clusters", 2),
      k: integerFlag(values.k, "k", 3),
      seed: integerFlag(values.seed, "seed", 42, 0),
      config: values.config === undefined ? undefined : integerFlag(values.config, "config", 1, 1),
    });
    return 0;
  },
});

if (import.meta.main) await runCommand(command);
