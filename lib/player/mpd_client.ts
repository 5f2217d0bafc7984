/**
 * A client of MPD, the Music Player Daemon (its text protocol over TCP:
 * https://mpd.readthedocs.io/en/latest/protocol.html): what a playlist needs
 * of a player — the song it plays, its queue, adding songs, and waiting for
 * the player or the queue to change (`idle`). Every failure is one line
 * naming the server: unreachable, a wrong password, a peer that does not
 * speak MPD, an answer that does not come.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";

/** MPD could not be used: the line says where and why. */
export class MpdError extends OpenL3Error {}

/** Options of {@linkcode MpdClient.connect}. */
export interface MpdOptions {
  /** The password (MPD's `password` command), when the server has one. */
  password?: string;
  /**
   * Milliseconds to wait for the greeting and for each answer (an `idle` waits as long as it takes).
   * @default {10000}
   */
  timeoutMs?: number;
}

/** A song as MPD lists it. */
export interface MpdSong {
  /** Its URI: the path under MPD's `music_directory`, `/`-separated. */
  file: string;
  /** Its place in the queue. */
  pos: number;
  /** Its queue id. */
  id: number;
  /** Title, when MPD read one. */
  title?: string;
  /** Artist, when MPD read one. */
  artist?: string;
}

/** `host:port` → parts (IPv6 in brackets), MPD's port by default. */
export function parseHostPort(text: string, defaultPort = 6600): { hostname: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new MpdError(`--mpd must be HOST or HOST:PORT (port 1–65535), got "${text}"`);
  }
  return { hostname: m[1], port };
}

/** An argument as MPD reads it: in double quotes, `"` and `\` escaped. */
export function quote(arg: string): string {
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A connection to MPD. */
export class MpdClient {
  /** `host:port`, for messages. */
  readonly label: string;
  /** The version MPD announced. */
  readonly version: string;
  readonly #conn: Deno.Conn;
  readonly #timeoutMs: number;
  #buffer = "";
  readonly #decoder = new TextDecoder();
  readonly #encoder = new TextEncoder();
  #busy: Promise<unknown> = Promise.resolve();

  private constructor(conn: Deno.Conn, label: string, version: string, timeoutMs: number) {
    this.#conn = conn;
    this.label = label;
    this.version = version;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Connect, read the greeting and log in.
   *
   * @throws {MpdError} when MPD cannot be reached, the peer does not speak MPD, or the password is wrong.
   */
  static async connect(hostname: string, port: number, options: MpdOptions = {}): Promise<MpdClient> {
    const label = `MPD at ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
    const timeoutMs = options.timeoutMs ?? 10_000;
    let conn: Deno.Conn;
    try {
      conn = await Deno.connect({ hostname, port });
    } catch (e) {
      throw new MpdError(`${label}: cannot connect (${(e as Error).message}); is mpd running?`, { cause: e });
    }
    const probe = new MpdClient(conn, label, "", timeoutMs);
    let greeting: string;
    try {
      greeting = await probe.#line(timeoutMs);
    } catch (e) {
      conn.close();
      if (e instanceof MpdError) {
        throw new MpdError(`${label}: no MPD greeting (${e.message.replace(`${label}: `, "")})`);
      }
      throw e;
    }
    const m = /^OK MPD (\S+)/.exec(greeting);
    if (!m) {
      conn.close();
      const shown = greeting.replace(/[^\x20-\x7e]/g, "?").slice(0, 40);
      throw new MpdError(`${label}: this peer does not speak MPD (it answered "${shown}")`);
    }
    const client = new MpdClient(conn, label, m[1], timeoutMs);
    client.#buffer = probe.#buffer;
    if (options.password !== undefined && options.password !== "") {
      try {
        await client.command("password", options.password);
      } catch (e) {
        client.close();
        throw new MpdError(`${label}: the password was refused (MPD_PASSWORD): ${(e as Error).message}`);
      }
    }
    return client;
  }

  async #line(timeoutMs: number | null): Promise<string> {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const l = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        return l;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const read = this.#conn.read(buf);
      const n = timeoutMs === null ? await read : await Promise.race([
        read,
        new Promise<"late">((r) => (timer = setTimeout(() => r("late"), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
      if (n === "late") throw new MpdError(`${this.label}: no answer within ${(timeoutMs ?? 0) / 1000} s`);
      if (n === null) throw new MpdError(`${this.label}: the connection was closed`);
      this.#buffer += this.#decoder.decode(buf.subarray(0, n), { stream: true });
    }
  }

  /**
   * Send a command and read its answer: the `key: value` pairs before `OK`, in order.
   *
   * @throws {MpdError} with MPD's own message when it answers `ACK`.
   */
  command(name: string, ...args: string[]): Promise<[string, string][]> {
    const run = this.#busy.then(() => this.#command(name, args, this.#timeoutMs));
    this.#busy = run.catch(() => {});
    return run;
  }

  async #command(name: string, args: string[], timeoutMs: number | null): Promise<[string, string][]> {
    const text = [name, ...args.map(quote)].join(" ") + "\n";
    try {
      await this.#conn.write(this.#encoder.encode(text));
    } catch (e) {
      throw new MpdError(`${this.label}: the connection broke (${(e as Error).message})`, { cause: e });
    }
    const pairs: [string, string][] = [];
    for (;;) {
      const l = await this.#line(timeoutMs);
      if (l === "OK") return pairs;
      if (l.startsWith("ACK ")) {
        const msg = /^ACK \[\d+@\d+\] \{[^}]*\} (.*)$/.exec(l)?.[1] ?? l.slice(4);
        throw new MpdError(`${this.label}: ${name}: ${msg}`);
      }
      const colon = l.indexOf(": ");
      if (colon > 0) pairs.push([l.slice(0, colon), l.slice(colon + 2)]);
    }
  }

  /** The song MPD plays (or is paused on), or null when it plays nothing. */
  async currentSong(): Promise<MpdSong | null> {
    const songs = songsOf(await this.command("currentsong"));
    return songs[0] ?? null;
  }

  /** The queue, in order. */
  async queue(): Promise<MpdSong[]> {
    return songsOf(await this.command("playlistinfo"));
  }

  /** MPD's status: its state (`play`, `pause`, `stop`), the current song's place, the queue's length. */
  async status(): Promise<{ state: string; song: number | null; length: number }> {
    const s = new Map(await this.command("status"));
    return {
      state: s.get("state") ?? "stop",
      song: s.has("song") ? Number(s.get("song")) : null,
      length: Number(s.get("playlistlength") ?? 0),
    };
  }

  /** Add a song (its URI) at the end of the queue. */
  async add(uri: string): Promise<void> {
    await this.command("add", uri);
  }

  /**
   * Wait until one of the subsystems changes (`player`, `playlist`, …); returns those that did. An `idle`
   * waits as long as it takes; {@linkcode close} ends it.
   */
  idle(...subsystems: string[]): Promise<string[]> {
    const run = this.#busy.then(async () =>
      (await this.#command("idle", subsystems, null)).filter(([k]) => k === "changed").map(([, v]) => v)
    );
    this.#busy = run.catch(() => {});
    return run;
  }

  /** Close the connection (an `idle` in progress ends with an error). */
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

/** Songs from `file:`-led groups of pairs (`playlistinfo`, `currentsong`). */
function songsOf(pairs: [string, string][]): MpdSong[] {
  const songs: MpdSong[] = [];
  for (const [k, v] of pairs) {
    if (k === "file") songs.push({ file: v, pos: -1, id: -1 });
    const s = songs.at(-1);
    if (!s) continue;
    if (k === "Pos") s.pos = Number(v);
    else if (k === "Id") s.id = Number(v);
    else if (k === "Title") s.title = v;
    else if (k === "Artist") s.artist = v;
  }
  return songs;
}
