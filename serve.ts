/**
 * The collection explorer in the browser: the map of every stored song,
 * hover to see it, click to play it and list its nearest songs, search,
 * and drop an audio file to place it among them.
 *
 *     deno task serve [--db PATH] [--port 8000] [--host 127.0.0.1] [--store]
 *
 * @module
 */

import { DB_PATH } from "./files.ts";
import { type Command, defineCommand, integerFlag, runCommand } from "./lib/util/cli.ts";
import { ArgumentError, OpenL3Error } from "./lib/util/errors.ts";
import { checkRange, resolveEmbedderOptions, runtimeOf } from "./lib/pipeline/embed_options.ts";
import { modelFlags, modelFlagsHelp, modelOptions, RUNTIME_FLAGS } from "./lib/pipeline/model_flags.ts";
import { Explorer, type ExplorerOptions } from "./lib/server/explorer.ts";
import { createHandler, type ExplorerSlot, LOOPBACK_HOSTS, removeUploadDirs } from "./lib/server/routes.ts";
import { type GuardedServer, serveGuarded } from "./lib/server/guarded_server.ts";
import { parseRoots } from "./lib/store/named_roots.ts";
import { redactUrl } from "./lib/store/store.ts";

export type { GuardedServer, GuardStats } from "./lib/server/guarded_server.ts";

/** Options of {@linkcode run}. */
export interface ServeOptions extends ExplorerOptions {
  /**
   * SQLite database.
   * @default {"metadata/songs.db"}
   */
  db?: string;
  /**
   * Port (0: any free one).
   * @default {8000}
   */
  port?: number;
  /**
   * Address to listen on: only this machine unless told otherwise.
   * @default {"127.0.0.1"}
   */
  host?: string;
  /**
   * Largest upload in MiB.
   * @default {200}
   */
  maxUploadMiB?: number;
  /**
   * Folder of the browser build that pages import to embed dropped files themselves.
   * @default {WEB_DIR (dist/web, written by deno task build-web)}
   */
  webDir?: URL;
  /**
   * Most connections open at once.
   * @default {from the open-file limit (see lib/server/guarded_server.ts)}
   */
  maxConnections?: number;
  /**
   * Milliseconds after which a connection with no request in flight is closed.
   * @default {60000}
   */
  idleTimeoutMs?: number;
  /**
   * Progress and the address on stderr.
   * @default {true}
   */
  verbose?: boolean;
}

/** A running explorer. */
export interface RunningExplorer {
  /** Its address, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  /** The explorer's state. */
  explorer: Explorer;
  /** Stop serving and release the model. */
  shutdown(): Promise<void>;
  /** Settles when the server stops. */
  finished: Promise<void>;
  /** The front door (connection counters). */
  server: GuardedServer;
}

/** Start the explorer for a database. */
export async function run(options: ServeOptions = {}): Promise<RunningExplorer> {
  const db = options.db ?? DB_PATH;
  const port = options.port ?? 8000;
  const host = options.host ?? "127.0.0.1";
  const verbose = options.verbose ?? true;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ArgumentError(`--port must be 0–65535, got ${port}`);
  }
  if (host.trim() === "") throw new ArgumentError(`--host must name an address, got ""`);
  const maxMiB = options.maxUploadMiB ?? 200;
  if (!(maxMiB > 0)) throw new ArgumentError(`--max-upload-mb must be positive, got ${maxMiB}`);
  checkRange("max-upload-mb", maxMiB);
  checkRange("max-upload-seconds", options.maxUploadSeconds);
  resolveEmbedderOptions({ ...options.model }); // a bad --backend or --device is a usage error now, not at upload
  let last = 0;
  const started = performance.now();
  // it listens at once: the page says how far the map is until it is ready
  const slot: ExplorerSlot = { explorer: null, stage: "opening the database", fraction: 0 };
  // requests addressed to the loopback names, or to the address given with --host; every name when it
  // listens on every interface (0.0.0.0 or ::), which the user asked for
  const everywhere = host === "0.0.0.0" || host === "::";
  const handler = createHandler(slot, {
    maxUploadBytes: maxMiB * 1024 * 1024,
    allowedHosts: everywhere ? null : [...LOOPBACK_HOSTS, host, `[${host}]`],
    webDir: options.webDir,
  });
  let server: GuardedServer;
  try {
    // behind our own accept loop: connection cap, idle timeouts, out-of-descriptors survived
    server = await serveGuarded(handler, {
      hostname: host,
      port,
      maxConnections: options.maxConnections,
      idleTimeoutMs: options.idleTimeoutMs,
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new OpenL3Error(`${host}:${port} is already in use (another serve?): choose another --port`, {
        cause: e,
      });
    }
    if (e instanceof Deno.errors.AddrNotAvailable || e instanceof TypeError) {
      throw new OpenL3Error(`--host ${JSON.stringify(host)}: cannot listen there (${(e as Error).message})`, {
        cause: e,
      });
    }
    throw e;
  }
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.addr.port}/`;
  // a map that takes more than a second: say at once where the page is (it shows how far the map is)
  const early = verbose
    ? setTimeout(
      () => console.error(`explorer: ${url} is open; computing the map (the page shows how far)`),
      1000,
    )
    : undefined;
  let explorer: Explorer;
  try {
    explorer = await Explorer.open(db, {
      ...options,
      onMapProgress: (stage, fraction) => {
        slot.stage = stage;
        slot.fraction = fraction;
        if (options.onMapProgress) return options.onMapProgress(stage, fraction);
        const now = performance.now();
        if (!verbose || now - started < 1000 || (now - last < 1000 && fraction < 1 && fraction > 0)) return;
        last = now;
        const elapsed = (now - started) / 1000;
        const eta = fraction > 0.02 ? ` · ETA ${((elapsed / fraction) * (1 - fraction)).toFixed(0)} s` : "";
        console.error(`map: ${stage} ${(fraction * 100).toFixed(0)}% · ${elapsed.toFixed(1)} s${eta}`);
      },
    });
  } catch (e) {
    clearTimeout(early);
    await server.shutdown();
    throw e;
  }
  clearTimeout(early);
  slot.explorer = explorer;
  slot.stage = "ready";
  slot.fraction = 1;
  if (verbose) {
    console.error(`explorer: ${explorer.songs.length} songs from ${redactUrl(db)} at ${url} (Ctrl-C stops)`);
  }
  return {
    url,
    explorer,
    finished: server.finished,
    server,
    async shutdown() {
      await server.shutdown();
      await explorer.close();
    },
  };
}

const HELP = `Explore the collection in the browser: the map, playback, neighbours, search, drop a file.

Usage: deno task serve [options]

  --db PATH|URL       SQLite database (default: ${DB_PATH}) or postgres://user:pw@host:port/db
  --root NAME=PATH    where this machine mounts a PostgreSQL run's root (to play its songs); with
                      SQLite, one more folder audio may be served from (songs are played only
                      from inside the folders given to embed, which the database records)
  --port N            port, 0 for any free one (default: 8000)
  --host ADDR         address to listen on (default: 127.0.0.1, this machine only)
  --store             keep dropped files: copied beside the database and stored
  --max-upload-mb N   largest dropped file in MiB (default: 200)
  --max-upload-seconds S  longest dropped file in seconds of audio (default: 1200)

Embedding dropped files (their variant, hop and pooling are the stored songs')
${modelFlagsHelp(RUNTIME_FLAGS, { column: 22, fromDatabase: true })}

  --version           the tool's and the runtime's versions
  -h, --help          this text

The JSON API (GET /api/songs, /api/map, /api/similar/<id>?k=10, /api/audio/<id>, POST /api/embed) is
described in the README.`;

/** The `serve` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "serve",
  summary: "the collection explorer in the browser (map, playback, neighbours, search, uploads)",
  help: HELP,
  options: {
    db: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    store: { type: "boolean" },
    "max-upload-mb": { type: "string" },
    "max-upload-seconds": { type: "string" },
    root: { type: "string", multiple: true },
    ...modelFlags(RUNTIME_FLAGS),
  },
  body: async ({ values }) => {
    const running = await run({
      db: values.db,
      port: integerFlag(values.port, "port", 8000),
      host: values.host,
      store: values.store,
      maxUploadMiB: integerFlag(values["max-upload-mb"], "max-upload-mb", 200),
      maxUploadSeconds: integerFlag(values["max-upload-seconds"], "max-upload-seconds", 1200),
      model: runtimeOf(modelOptions(values)),
      roots: values.root ? await parseRoots(values.root) : undefined,
    });
    // Ctrl-C or SIGTERM: upload folders removed at once, then the server stops (2 s for requests in flight)
    const stop = () => {
      removeUploadDirs();
      running.server.removeSocket();
      Promise.race([running.shutdown(), new Promise((r) => setTimeout(r, 2000))]).finally(() => Deno.exit(0));
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await running.finished;
  },
});

if (import.meta.main) await runCommand(command);
