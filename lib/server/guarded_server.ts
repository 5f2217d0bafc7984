/**
 * The explorer's front door: an accept loop of our own in front of Deno's
 * HTTP server, which alone dies for good when the process runs out of file
 * descriptors (`Deno.serve` rejects `finished` with "Too many open files" and
 * stops listening) and keeps idle connections open forever.
 *
 * Each TCP connection is accepted here and piped to the HTTP server, which
 * listens on a Unix socket in a private folder (0700: no other local user can
 * reach it). Here:
 * - a connection cap, from the open-file limit (each client costs three
 *   descriptors); at the cap the longest-idle connection makes room, or the
 *   new one is closed at once;
 * - idle timeouts: a connection that sends nothing, or that waits with no
 *   request in flight, is closed (a request whose answer is still owed is
 *   never cut: an upload may embed for minutes);
 * - "too many open files" at accept closes the longest-idle connection, waits
 *   a moment and goes on — logged once a minute, never fatal.
 *
 * @module
 */

import { join } from "node:path";

/** Options of {@linkcode serveGuarded}. */
export interface GuardOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port (0: any free one). */
  port: number;
  /**
   * Most connections open at once.
   * @default {from the open-file limit: (soft limit − 64) / 3, between 16 and 4096}
   */
  maxConnections?: number;
  /**
   * A connection with no request in flight is closed after this many milliseconds.
   * @default {60000}
   */
  idleTimeoutMs?: number;
  /**
   * A connection that has sent nothing is closed after this many milliseconds.
   * @default {15000}
   */
  firstByteTimeoutMs?: number;
  /** Told a line when connections are refused or descriptors run out (default: stderr, once a minute). */
  log?: (line: string) => void;
}

/** What the front door has done. */
export interface GuardStats {
  /** Connections accepted. */
  accepted: number;
  /** Open now. */
  open: number;
  /** Closed at once: the cap was reached and none was idle. */
  refused: number;
  /** Closed for idling (or never sending). */
  idleClosed: number;
  /** Idle ones closed to make room for a new one. */
  evicted: number;
  /** Accepts that failed (descriptors exhausted) and were survived. */
  acceptErrors: number;
  /** Times the HTTP server behind stopped on its own and was started again. */
  restarts: number;
}

/** A running guarded server. */
export interface GuardedServer {
  /** Where it listens. */
  addr: Deno.NetAddr;
  /** Its counters. */
  stats: GuardStats;
  /** The cap in force. */
  maxConnections: number;
  /** Settles when it has stopped. */
  finished: Promise<void>;
  /** Stop accepting, close every connection, stop the HTTP server. */
  shutdown(): Promise<void>;
  /** Remove the private socket folder now (a signal handler about to exit). */
  removeSocket(): void;
}

/** The soft open-file limit (Linux's `/proc/self/limits`), or null where it cannot be read. */
export function openFileLimit(): number | null {
  try {
    const m = Deno.readTextFileSync("/proc/self/limits").match(/^Max open files\s+(\d+|unlimited)/m);
    if (!m) return null;
    return m[1] === "unlimited" ? 1 << 20 : Number(m[1]);
  } catch {
    return null;
  }
}

/** Descriptors this process has open now (Linux's `/proc/self/fd`), or null where it cannot be read. */
export function openFileCount(): number | null {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return null;
  }
}

/**
 * The default cap: three descriptors a client (its socket, and both ends of the pipe to the HTTP server),
 * from what the open-file limit leaves after those already open and 64 kept for files, the database and
 * the model; between 8 and 4096 (256 where the limit cannot be read).
 */
export function defaultMaxConnections(
  limit: number | null = openFileLimit(),
  open: number | null = openFileCount(),
): number {
  if (limit === null) return 256;
  return Math.max(8, Math.min(4096, Math.floor((limit - (open ?? 64) - 64) / 3)));
}

interface Piped {
  client: Deno.TcpConn;
  inner: Deno.UnixConn | null;
  opened: number;
  /** Last byte from the client, and from the server (0: none yet). */
  fromClient: number;
  fromServer: number;
  closed: boolean;
}

/**
 * Serve `handler` behind the front door.
 *
 * @throws {Deno.errors.AddrInUse} and the other errors of listening, as `Deno.listen` does.
 */
export async function serveGuarded(
  handler: Deno.ServeHandler<Deno.UnixAddr>,
  options: GuardOptions,
): Promise<GuardedServer> {
  const maxConnections = options.maxConnections ?? defaultMaxConnections();
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const firstMs = options.firstByteTimeoutMs ?? 15_000;
  let lastLog = -Infinity;
  const log = (line: string) => {
    const now = performance.now();
    if (now - lastLog < 60_000) return;
    lastLog = now;
    (options.log ?? ((l: string) => console.error(l)))(line);
  };
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const dir = await Deno.makeTempDir({ prefix: "openl3-serve-" }); // mkdtemp: 0700, this user's
  const path = join(dir, "http.sock");
  // the HTTP server; should it stop on its own (its accept failed: descriptors ran out), a new one starts
  let inner: Deno.HttpServer<Deno.UnixAddr>;
  let stopping = false;
  const startInner = () => {
    try {
      Deno.removeSync(path);
    } catch { /* first start */ }
    inner = Deno.serve({ path, onListen: () => {} }, handler);
    inner.finished.catch(async (e) => {
      if (stopping) return;
      stats.restarts++;
      log(`serve: the HTTP server stopped (${(e as Error).message}): started again`);
      await new Promise((r) => setTimeout(r, 50));
      if (!stopping) startInner();
    });
  };
  const live = new Set<Piped>();
  const stats: GuardStats = {
    accepted: 0,
    get open() {
      return live.size;
    },
    refused: 0,
    idleClosed: 0,
    evicted: 0,
    acceptErrors: 0,
    restarts: 0,
  };
  startInner();

  const close = (p: Piped) => {
    if (p.closed) return;
    p.closed = true;
    live.delete(p);
    for (const c of [p.client, p.inner]) {
      try {
        c?.close();
      } catch { /* closed already */ }
    }
  };
  /** Idle: nothing in flight (the server spoke last, or nobody did). */
  const idleSince = (p: Piped): number | null => {
    if (p.fromClient === 0) return p.opened;
    return p.fromServer >= p.fromClient ? p.fromServer : null;
  };
  const longestIdle = (): Piped | null => {
    let best: Piped | null = null, since = Infinity;
    for (const p of live) {
      const s = idleSince(p);
      if (s !== null && s < since) [best, since] = [p, s];
    }
    return best;
  };
  /** Close the longest-idle connection to make room; false when every one has a request in flight. */
  const evictIdle = (): boolean => {
    const idle = longestIdle();
    if (!idle) return false;
    stats.evicted++;
    close(idle);
    return true;
  };
  const copy = async (from: Deno.Conn, to: Deno.Conn, p: Piped, mark: "fromClient" | "fromServer") => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        p[mark] = performance.now();
        for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
      }
    } catch { /* either side went away */ }
    close(p);
  };
  const pipe = async (p: Piped) => {
    try {
      p.inner = await Deno.connect({ transport: "unix", path });
    } catch {
      close(p);
      return;
    }
    if (p.closed) return close(p);
    await Promise.all([copy(p.client, p.inner, p, "fromClient"), copy(p.inner, p.client, p, "fromServer")]);
  };

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const p of [...live]) {
      const since = idleSince(p);
      if (since === null) continue;
      const limit = p.fromClient === 0 ? firstMs : idleMs;
      if (now - since > limit) {
        stats.idleClosed++;
        close(p);
      }
    }
  }, Math.max(50, Math.min(1000, firstMs / 4, idleMs / 4)));

  const accepting = (async () => {
    while (!stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept() as Deno.TcpConn;
      } catch (e) {
        if (stopping || e instanceof Deno.errors.BadResource) break;
        // out of descriptors (or another passing failure): make room, wait, go on
        stats.acceptErrors++;
        log(`serve: cannot accept a connection (${(e as Error).message}); ${live.size} open, going on`);
        evictIdle();
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      stats.accepted++;
      if (live.size >= maxConnections && !evictIdle()) {
        stats.refused++;
        log(`serve: ${live.size} connections open, the most allowed: refusing new ones until some close`);
        try {
          conn.close();
        } catch { /* gone */ }
        continue;
      }
      const now = performance.now();
      const p: Piped = {
        client: conn,
        inner: null,
        opened: now,
        fromClient: 0,
        fromServer: 0,
        closed: false,
      };
      live.add(p);
      pipe(p);
    }
  })();

  let removed = false;
  const removeSocket = () => {
    if (removed) return;
    removed = true;
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone */ }
  };
  let finish!: () => void;
  const finished = new Promise<void>((r) => finish = r);
  return {
    addr: listener.addr as Deno.NetAddr,
    stats,
    maxConnections,
    finished,
    async shutdown() {
      if (stopping) return await finished;
      stopping = true;
      clearInterval(sweep);
      try {
        listener.close();
      } catch { /* closed */ }
      await accepting;
      await inner!.shutdown().catch(() => {});
      for (const p of [...live]) close(p);
      removeSocket();
      finish();
    },
    removeSocket,
  };
}
