/**
 * A throwaway PostgreSQL cluster for the tests: Debian's `postgresql`
 * binaries (`.ci/run` installs them), `initdb` in a temporary folder, a free
 * port on 127.0.0.1, password authentication. As root, the server runs as
 * the `postgres` user (PostgreSQL refuses to run as root).
 */
import { join } from "node:path";

/** A running cluster. */
export interface PgCluster {
  /** URL of its `postgres` database, with the password. */
  url: string;
  /** Port on 127.0.0.1. */
  port: number;
  /** Its user and password. */
  user: string;
  /** The password. */
  password: string;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stop the server (fast shutdown: connections are cut). */
  stop(): Promise<void>;
  /** Start it again. */
  start(): Promise<void>;
  /** Stop it and remove its folder. */
  destroy(): Promise<void>;
}

/** Folder of the PostgreSQL server binaries (the newest installed), or a clear error. */
export function pgBinDir(): string {
  const env = Deno.env.get("PG_BIN");
  if (env) return env;
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name).filter((n) =>
      /^\d+$/.test(n)
    );
    versions.sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = `/usr/lib/postgresql/${v}/bin`;
      try {
        Deno.statSync(join(dir, "initdb"));
        return dir;
      } catch { /* next */ }
    }
  } catch { /* none */ }
  throw new Error(
    "the PostgreSQL tests need Debian's postgresql (apt-get install postgresql) or PG_BIN=<its bin folder>",
  );
}

const asRoot = Deno.uid() === 0;

async function sh(cmd: string[], what: string): Promise<string> {
  const argv = asRoot ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${what} failed:\n${text}`);
  return text;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Whatever becomes of this test process (a failed assertion, Ctrl-C, SIGKILL), the cluster does not
 * outlive it: a watchdog in its own session waits for this process to end, then stops the server
 * (immediate shutdown) and removes its folder.
 */
function watchdog(dir: string, data: string): void {
  const script = `while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$3/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e "$3/postmaster.pid" ] || break; sleep 0.5; done
rm -rf "$2"`;
  const child = new Deno.Command("setsid", {
    args: ["sh", "-c", script, "openl3-pg-watchdog", String(Deno.pid), dir, data],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
}

/** Start a throwaway cluster. */
export async function startCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  const dir = await Deno.makeTempDir({ prefix: "openl3-pg-" });
  await Deno.chmod(dir, 0o777);
  const data = join(dir, "data");
  const user = "openl3", password = "openl3-test-pw";
  const pwfile = join(dir, "pw");
  await Deno.writeTextFile(pwfile, password);
  await Deno.chmod(pwfile, 0o644);
  await sh(
    [
      join(bin, "initdb"),
      "-D",
      data,
      "-U",
      user,
      "--auth=scram-sha-256",
      `--pwfile=${pwfile}`,
      "-E",
      "UTF8",
      "--no-sync",
    ],
    "initdb",
  );
  const port = freePort();
  const ctl = (action: string) =>
    sh([
      join(bin, "pg_ctl"),
      "-D",
      data,
      "-l",
      join(dir, "log"),
      "-w",
      "-m",
      "fast",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      action,
    ], `pg_ctl ${action}`);
  await ctl("start");
  watchdog(dir, data);
  const url = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    user,
    password,
    async createDatabase(name: string) {
      const { default: postgres } = await import("postgres");
      const sql = postgres(url, { onnotice: () => {}, max: 1 });
      try {
        await sql.unsafe(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
      } finally {
        await sql.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop: async () => {
      await ctl("stop");
    },
    start: async () => {
      await ctl("start");
    },
    async destroy() {
      await ctl("stop").catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** What {@linkcode embedWorkerArgs} needs. */
export interface WorkerArgs {
  /** The run's database. */
  url: string;
  /** The collection, registered as the root named "music". */
  music: string;
  /** Weights file. */
  weights: string;
  /** Where the converted model is cached. */
  models: string;
  /** Network threads. */
  threads: number;
  /** More flags. */
  extra?: string[];
}

/** `deno` arguments that run one `embed` worker of a PostgreSQL run (native backend, CPU frontend, quiet). */
export function embedWorkerArgs(o: WorkerArgs): string[] {
  return [
    "run",
    "-A",
    "--config",
    new URL("../deno.json", import.meta.url).pathname,
    new URL("../embed.ts", import.meta.url).pathname,
    o.music,
    "--root",
    `music=${o.music}`,
    "--db",
    o.url,
    "--weights",
    o.weights,
    "--models-dir",
    o.models,
    "--backend",
    "native",
    "--device",
    "cpu",
    "--threads",
    String(o.threads),
    "--quiet",
    ...(o.extra ?? []),
  ];
}
