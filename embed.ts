/**
 * The batch embedder for whole collections: files and folders (recursive),
 * every format the decoders read, resumable, observable and safe to
 * interrupt. One vector per song in SQLite (plus, on request, frame
 * embeddings and OpenL3-style `.npz` files).
 *
 *     deno task embed <file|folder>... [options]
 *
 * @module
 */

import { describeStore, openStore } from "./lib/store/store.ts";
import { DB_PATH } from "./files.ts";
import { type Command, defineCommand, numberFlag, runCommand } from "./lib/util/cli.ts";
import { EMBED_DEFAULTS } from "./lib/pipeline/defaults.ts";
import { ArgumentError } from "./lib/util/errors.ts";
import { checkPooling, POOLINGS } from "./lib/model/pooling.ts";
import {
  type CollectionOptions,
  type CollectionSummary,
  embedCollection,
  formatSummary,
} from "./lib/pipeline/collection.ts";
import { MODEL_FLAGS, MODEL_FLAGS_HELP, modelOptions, OPENL3_ALIASES } from "./lib/pipeline/model_flags.ts";

/** Embed a collection (what the command line does, callable from tests). */
export async function run(options: CollectionOptions): Promise<CollectionSummary> {
  return await embedCollection(options);
}

const HELP = `Embed audio files and folders (recursively) with OpenL3 into a SQLite database.

Usage: deno task embed <file|folder>... [options]

Model and devices
${MODEL_FLAGS_HELP}
Output
  --pool P              ${POOLINGS.join(" | ")}: frame embeddings → one vector per song (default: max)
  --db PATH|URL         SQLite database (default: ${DB_PATH}), or postgres://user:pw@host:port/db
                        for a run shared by many workers (see below)
  --frames              also store every frame embedding with its timestamp
  -o, --output-dir DIR  also write one OpenL3-style .npz (embedding, timestamps) per file:
                        <stem>.npz, or <stem>_<suffix>.npz (files sharing a stem get a hash in the name)
  --suffix S            suffix of the .npz names
  --max-duration S      longest audio accepted per file, seconds (default: ${EMBED_DEFAULTS.maxDuration}: 4 h);
                        a file declaring more is refused before it is decoded
  --workers N           threads that decode, resample, frame and compute CPU spectrograms ahead
                        of the network, several files at once (default: 0 on two cores or fewer,
                        where the main thread does it between network calls; else cores − 1, ≤ 8)
PostgreSQL runs (--db postgres://…)
  --root NAME=PATH      a named root the files lie under (repeatable); paths are stored relative to it,
                        so machines that mount the collection elsewhere share the run
  --status              print the run's progress (stored, in flight, failed, rate, ETA, per worker)
  --lease S             seconds a claimed file is leased, renewed by a heartbeat (default: 60)
  --max-attempts N      errors a file may raise before it is recorded as failed (default: 3); a lease
                        that lapsed is not the file's fault: such work is retried without limit
Running
  --force               recompute files already stored with the same content and configuration
  --prune               remove stored songs under the given folders whose files are gone
  --quiet               no per-file lines, no progress
  --version             the tool's and the runtime's versions
  -h, --help            this text

Song ids are the files' absolute paths. A rerun skips unchanged files; Ctrl-C stops after the
current batch (nothing half-written is kept). Exit status: 0 all embedded or skipped, 1 some
failed (see the failures table) or nothing to embed, 2 a bad command line, 130 interrupted.

With --db postgres://…, each embed is a worker: it registers its files as jobs (one per distinct
content) and embeds jobs claimed from the queue until none is left; start as many as you like, on
any machines with the same --root names. A worker leaves when nothing is waiting and nothing is in
flight: it waits for other workers' leases and takes over those that lapse (a killed or paused
worker's files). Its exit status: 0 the run finished with every file stored, 1 it finished with
failed files, 130 interrupted. A worker with another model configuration than the run's refuses
to write.`;

/** The `embed` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "embed",
  summary: "embed files and folders into the database (resumable, parallel)",
  help: HELP,
  options: {
    ...MODEL_FLAGS,
    pool: { type: "string" },
    db: { type: "string" },
    frames: { type: "boolean" },
    "output-dir": { type: "string", short: "o" },
    suffix: { type: "string" },
    "max-duration": { type: "string" },
    workers: { type: "string" },
    force: { type: "boolean" },
    prune: { type: "boolean" },
    quiet: { type: "boolean" },
    root: { type: "string", multiple: true },
    status: { type: "boolean" },
    lease: { type: "string" },
    "max-attempts": { type: "string" },
  },
  positionals: true,
  aliases: OPENL3_ALIASES,
  body: async ({ values, positionals }) => {
    const db = values.db ?? DB_PATH;
    if (describeStore(db).traits.sharedRun) return await postgresBody(values, positionals, db);
    if (values.status || values.root || values.lease || values["max-attempts"]) {
      throw new ArgumentError("--status, --root, --lease and --max-attempts are for --db postgres://… runs");
    }
    if (positionals.length === 0) throw new ArgumentError("give at least one audio file or folder");
    if (values.db === undefined) await refuseMixingWithDemo(db);
    const controller = new AbortController();
    let interrupts = 0;
    Deno.addSignalListener("SIGINT", () => {
      if (++interrupts > 1) Deno.exit(130); // second Ctrl-C: leave now (every stored song is whole)
      console.error("\ninterrupted: finishing the current batch (Ctrl-C again to quit at once)");
      controller.abort();
    });
    const summary = await run({
      ...modelOptions(values),
      inputs: positionals,
      db,
      pool: checkPooling(values.pool), // unset: the database's, else max
      frames: values.frames,
      outputDir: values["output-dir"],
      suffix: values.suffix,
      maxDuration: numberFlag(values["max-duration"], "max-duration"),
      workers: numberFlag(values.workers, "workers"),
      force: values.force,
      prune: values.prune,
      quiet: values.quiet,
      signal: controller.signal,
    });
    console.log(formatSummary(summary));
    return summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
  },
});

/**
 * The default database is the original project's, where `simple-embed` stores the demo's previews by their
 * file names: a collection embedded into it without a word would mix with them (and `compare` would run the
 * demo's checks on it). Without `--db`, such a database is refused with what to do.
 */
async function refuseMixingWithDemo(db: string): Promise<void> {
  if (!(await Deno.stat(db).then((s) => s.isFile, () => false))) return;
  const store = await openStore(db, { readOnly: true });
  try {
    const stems = (await store.summaries()).filter((s) => !/[\\/:]/.test(s.songId)).length;
    if (stems === 0) return;
    throw new ArgumentError(
      `${db} holds ${stems} songs of the demo (stored by their file names by simple-embed): embed would mix ` +
        `your files with them. Give --db PATH for your collection (say --db metadata/music.db), or --db ${db} ` +
        `to add to it anyway`,
    );
  } finally {
    await store.close();
  }
}

/** `embed --db postgres://…`: one worker of a shared run, or `--status`. */
async function postgresBody(
  // deno-lint-ignore no-explicit-any
  values: Record<string, any>,
  positionals: string[],
  url: string,
): Promise<number> {
  const { finalLine, runPgWorker, statusLines } = await import("./lib/pipeline/pg_worker.ts");
  if (values.status) {
    for (const line of await statusLines(url)) console.log(line);
    return 0;
  }
  for (const flag of ["output-dir", "suffix", "force", "prune"]) {
    if (values[flag] !== undefined) {
      throw new ArgumentError(`--${flag} is not available with --db postgres://…`);
    }
  }
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => {
    console.error("\ninterrupted: finishing the current file, giving the rest back to the queue");
    controller.abort();
  });
  const s = await runPgWorker({
    ...modelOptions(values),
    url,
    roots: values.root ?? [],
    inputs: positionals,
    pool: checkPooling(values.pool), // unset: the database's, else max
    frames: values.frames,
    maxDuration: numberFlag(values["max-duration"], "max-duration"),
    leaseSeconds: numberFlag(values.lease, "lease"),
    maxAttempts: numberFlag(values["max-attempts"], "max-attempts"),
    workers: numberFlag(values.workers, "workers"),
    quiet: values.quiet,
    signal: controller.signal,
  });
  if (controller.signal.aborted) s.run = null;
  const { line, code } = finalLine(s);
  console.log(line);
  return code;
}

if (import.meta.main) await runCommand(command);
