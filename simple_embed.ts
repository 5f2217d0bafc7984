/**
 * The original project's embedding script, in Deno: every `previews/*.mp3`
 * through OpenL3 mel256 / music / 512, max-pooled over time into one vector
 * per file, stored in `metadata/songs.db` table `songs_vectors` (song_id =
 * file stem, vector = 512 float64 little-endian, 4 096 bytes) — or, with
 * `--db postgres://…`, as one worker of a shared PostgreSQL run (the folder is
 * the root named `previews`; song ids are `previews:<path in the folder>`).
 *
 *     deno task simple-embed [--previews DIR] [--db PATH|URL] [--weights PATH] [--backend B] [--device D]
 *
 * @module
 */

import { DB_PATH, PREVIEWS_DIR } from "./files.ts";
import { type Command, defineCommand, runCommand } from "./lib/util/cli.ts";
import { type CollectionSummary, embedCollection, formatSummary } from "./lib/pipeline/collection.ts";
import { modelFlags, modelFlagsHelp, modelOptions, RUNTIME_FLAGS } from "./lib/pipeline/model_flags.ts";
import { runtimeOf, type RuntimeOptions } from "./lib/pipeline/embed_options.ts";
import { stemId } from "./lib/store/song_id.ts";
import { describeStore } from "./lib/store/store.ts";
import type { PgWorkerSummary } from "./lib/pipeline/pg_worker.ts";

/** Options of {@linkcode run}: where things are, and where the network runs (the variant is fixed). */
export interface SimpleEmbedOptions extends RuntimeOptions {
  /**
   * Folder of `.mp3` files.
   * @default {"previews"}
   */
  previews?: string;
  /**
   * SQLite database, or a `postgres://` URL: then this is one worker of a shared run (see `embed`).
   * @default {"metadata/songs.db"}
   */
  db?: string;
  /**
   * Recompute files already stored with the same content and configuration (the original always did; this
   * one skips them, as `embed` does).
   * @default {false}
   */
  force?: boolean;
  /** No per-file lines, no progress. */
  quiet?: boolean;
  /** Stop between batches when aborted. */
  signal?: AbortSignal;
}

/** Embed the previews; returns the summary (a worker's, for PostgreSQL). */
export async function run(options: SimpleEmbedOptions = {}): Promise<CollectionSummary | PgWorkerSummary> {
  const db = options.db ?? DB_PATH;
  const previews = options.previews ?? PREVIEWS_DIR;
  // the original project's variant, whatever the store
  const common = {
    ...runtimeOf(options),
    inputs: [previews],
    extensions: [".mp3"],
    inputRepr: "mel256" as const,
    contentType: "music" as const,
    embeddingSize: 512 as const,
    pool: "max" as const,
    quiet: options.quiet,
    signal: options.signal,
  };
  if (describeStore(db).traits.sharedRun) {
    const { runPgWorker } = await import("./lib/pipeline/pg_worker.ts");
    return await runPgWorker({ ...common, url: db, roots: [`previews=${previews}`] });
  }
  return await embedCollection({ ...common, idOf: stemId, db, force: options.force ?? false });
}

const HELP = `Embed previews/*.mp3 with OpenL3 (mel256, music, 512) into metadata/songs.db.

Usage: deno task simple-embed [options]

  --previews DIR     folder of .mp3 files (default: ${PREVIEWS_DIR})
  --db PATH|URL      SQLite database (default: ${DB_PATH}), or postgres://user:pw@host:port/db to be
                     one worker of a shared run (ids previews:<file>; see embed --help)
${modelFlagsHelp(RUNTIME_FLAGS, { column: 21, fromDatabase: true })}
  --force            embed again files stored with the same content and configuration (default: skipped)
  --quiet            no per-file lines
  --version          the tool's and the runtime's versions
  -h, --help         this text

Song ids are the file names without extension. Each file gets a line (✓ with the vector's shape,
✗ with the reason); a summary ends the run. Exit status: 0 when every file was embedded, 1 when any
failed, 2 for a bad command line.`;

/** The `simple-embed` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "simple-embed",
  summary: "embed previews/*.mp3 as the original project did",
  help: HELP,
  options: {
    previews: { type: "string" },
    db: { type: "string" },
    ...modelFlags(RUNTIME_FLAGS),
    quiet: { type: "boolean" },
    force: { type: "boolean" },
  },
  body: async ({ values }) => {
    const controller = new AbortController();
    Deno.addSignalListener("SIGINT", () => controller.abort());
    const summary = await run({
      ...runtimeOf(modelOptions(values)),
      previews: values.previews,
      db: values.db,
      force: values.force,
      quiet: values.quiet,
      signal: controller.signal,
    });
    if ("worker" in summary) {
      if (controller.signal.aborted) summary.run = null;
      const { finalLine } = await import("./lib/pipeline/pg_worker.ts");
      const { line, code } = finalLine(summary);
      console.log(line);
      return code;
    }
    console.log(formatSummary(summary));
    return summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
  },
});

if (import.meta.main) await runCommand(command);
