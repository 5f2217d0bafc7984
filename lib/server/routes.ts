/**
 * The explorer's HTTP interface: the page, its JSON API and the audio.
 *
 * | route                         | answer                                                            |
 * | ----------------------------- | ----------------------------------------------------------------- |
 * | `GET /`                       | the page (`static/index.html`, `app.js`, `style.css`)             |
 * | `GET /api/status`             | `{ready, stage, fraction}`: while the map is computed, every other API route answers 503 |
 * | `GET /api/songs`              | `{count, config, songs: [{id, title, artist, album, genre, duration, path}]}` in map order (ETag, gzip) |
 * | `GET /api/map`                | `{count, method, x: [], y: [], cluster: []}` in the same order (ETag, gzip) |
 * | `GET /api/similar/:id?k=10`   | `{id, neighbours: [{id, score, title, …}]}`, cosine, as `similar` |
 * | `GET /api/audio/:id`          | the song's file, with `Range` requests (206)                      |
 * | `POST /api/embed`             | body: an audio file (header `X-Filename`); answers NDJSON lines `{stage}` then `{result}` or `{error}` |
 * | `GET /api/in-page`            | `{config, module}`: how to embed a dropped file in the page as the songs were, or `{config: null}` |
 * | `GET /api/model.onnx`         | the converted network the songs were embedded with (ETag, 304)    |
 * | `POST /api/place`             | body `{vector: []}` (a song vector the page computed); answers `{result}` as `/api/embed` |
 * | `GET /web/<file>.js`          | the browser build (`deno task build-web`, `dist/web/`)            |
 *
 * Ids are URL-encoded in the path. Errors are JSON `{error}` with a status
 * and one line: never a stack trace.
 *
 * @module
 */

import { extname, join } from "node:path";
import { OpenL3Error } from "../util/errors.ts";
import type { Explorer } from "./explorer.ts";
import { PLACEMENT_NEIGHBOURS } from "../analysis/collection_map.ts";
import { TOOL_VERSION } from "../util/version.ts";

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  /**
   * Largest upload, in bytes.
   * @default {200 MiB}
   */
  maxUploadBytes?: number;
  /** Called with a line for the server's log (errors that were answered with 500). */
  log?: (line: string) => void;
  /**
   * Host names a request may be addressed to (its Host header), against DNS rebinding: a page of another
   * site whose name is made to resolve to this machine is refused; null accepts any (listening on every
   * interface). Writes are refused from any other origin (a page of another site posting to the API).
   * @default {LOOPBACK_HOSTS}
   */
  allowedHosts?: readonly string[] | null;
  /**
   * Folder of the browser build (`browser.js` and its chunks), for pages that embed dropped files
   * themselves; without a `browser.js` there, pages upload them.
   * @default {"<project>/dist/web/"}
   */
  webDir?: URL;
}

/** Where `deno task build-web` writes the browser build. */
export const WEB_DIR: URL = new URL("../../dist/web/", import.meta.url);

/** The names of this machine that a local browser uses. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]", "::1"];

const STATIC: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

const AUDIO_TYPES: Record<string, string> = {
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
  ".flac": "audio/flac",
  ".ogg": "audio/ogg",
  ".oga": "audio/ogg",
  ".opus": "audio/ogg",
};

/** An HTTP error with its status; its message goes to the client. */
export class HttpError extends OpenL3Error {
  /** The status code. */
  readonly status: number;
  /** An error answered with `status`. */
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** Parse one `bytes=a-b` range of a file of `size` bytes (null: the whole file; throws 416 when unsatisfiable). */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = header.match(/^bytes=(\d*)-(\d*)$/);
  if (!m || (m[1] === "" && m[2] === "")) throw new HttpError(416, `unsupported range "${header}"`);
  let start: number, end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new HttpError(416, `range "${header}" is outside the file (${size} bytes)`);
  }
  return { start, end };
}

/** Answer a file with range support. */
async function serveFile(path: string, req: Request): Promise<Response> {
  const info = await Deno.stat(path);
  const size = info.size;
  const type = AUDIO_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
  let range;
  try {
    range = parseRange(req.headers.get("range"), size);
  } catch (e) {
    if (e instanceof HttpError && e.status === 416) {
      return new Response(e.message, { status: 416, headers: { "content-range": `bytes */${size}` } });
    }
    throw e;
  }
  const file = await Deno.open(path, { read: true });
  const start = range?.start ?? 0, end = range?.end ?? size - 1;
  const length = end - start + 1;
  if (req.method === "HEAD") {
    file.close();
    return new Response(null, {
      status: range ? 206 : 200,
      headers: { "content-type": type, "accept-ranges": "bytes", "content-length": String(length) },
    });
  }
  await file.seek(start, Deno.SeekMode.Start);
  let left = length;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = new Uint8Array(Math.min(64 * 1024, left));
      const n = left > 0 ? await file.read(buf) : null;
      if (n === null || n === 0) {
        file.close();
        controller.close();
        return;
      }
      left -= n;
      controller.enqueue(buf.subarray(0, n));
      if (left <= 0) {
        file.close();
        controller.close();
      }
    },
    cancel() {
      file.close();
    },
  });
  const headers: Record<string, string> = {
    "content-type": type,
    "accept-ranges": "bytes",
    "content-length": String(length),
  };
  if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
  return new Response(body, { status: range ? 206 : 200, headers });
}

/** The id in `/prefix/<encoded id>`. */
function idAfter(pathname: string, prefix: string): string {
  try {
    return decodeURIComponent(pathname.slice(prefix.length));
  } catch {
    throw new HttpError(400, "the song id is not validly URL-encoded");
  }
}

/** Write the request body to `file`, refusing more than `max` bytes. */
async function receive(req: Request, file: string, max: number): Promise<number> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) throw new HttpError(413, `the upload is ${declared} bytes; the limit is ${max}`);
  if (!req.body) throw new HttpError(400, "no file in the request body");
  const out = await Deno.open(file, { write: true, create: true, truncate: true });
  let total = 0;
  try {
    for await (const chunk of req.body) {
      total += chunk.length;
      if (total > max) throw new HttpError(413, `the upload exceeds the limit of ${max} bytes`);
      let off = 0;
      while (off < chunk.length) off += await out.write(chunk.subarray(off));
    }
  } finally {
    out.close();
  }
  if (total === 0) throw new HttpError(400, "the upload is empty");
  return total;
}

/** The `{vector}` of a request body: at most 1 MiB of JSON, an array of numbers. */
async function vectorOf(req: Request): Promise<number[]> {
  const max = 1 << 20;
  if (Number(req.headers.get("content-length") ?? 0) > max) {
    throw new HttpError(413, "the vector is over 1 MiB");
  }
  const text = await new Response(req.body).text();
  if (text.length > max) throw new HttpError(413, "the vector is over 1 MiB");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the body is not JSON: send {"vector": [numbers]}');
  }
  const vector = (body as { vector?: unknown })?.vector;
  if (!Array.isArray(vector)) throw new HttpError(400, 'send {"vector": [numbers]}');
  return vector;
}

/** Bytes gzipped (CompressionStream). */
async function gzipped(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Upload folders in use (received, or being embedded). */
const UPLOAD_DIRS = new Set<string>();

/** Remove every upload folder in use now (the server is stopping: Ctrl-C, SIGTERM). */
export function removeUploadDirs(): void {
  for (const dir of UPLOAD_DIRS) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone already */ }
  }
  UPLOAD_DIRS.clear();
}

/** An explorer still starting: filled in when its map is ready; `stage` and `fraction` say how far it is. */
export interface ExplorerSlot {
  /** The explorer, once ready. */
  explorer: Explorer | null;
  /** What it is doing (e.g. "t-SNE"). */
  stage: string;
  /** How far, 0–1. */
  fraction: number;
}

/** The request handler for an explorer (or for one still starting). */
export function createHandler(
  source: Explorer | ExplorerSlot,
  options: HandlerOptions = {},
): (req: Request) => Promise<Response> {
  // the explorer, once it is ready (a slot fills when its map is computed; until then the page is served,
  // /api/status says how far the map is, and the rest of the API answers 503)
  const slot: ExplorerSlot = "stage" in source ? source : { explorer: source, stage: "ready", fraction: 1 };
  let explorer!: Explorer;
  const maxUpload = options.maxUploadBytes ?? 200 * 1024 * 1024;
  const staticDir = new URL("./static/", import.meta.url);
  const log = options.log ?? ((line: string) => console.error(line));
  const webDir = options.webDir ?? WEB_DIR;

  const hosts = options.allowedHosts === undefined ? LOOPBACK_HOSTS : options.allowedHosts;

  /** The request is addressed to this explorer, and a write comes from its own page. */
  function checkOrigin(req: Request, url: URL): void {
    if (hosts && !hosts.includes(url.hostname)) {
      throw new HttpError(403, `this explorer answers to ${hosts.join(", ")}, not to ${url.hostname}`);
    }
    if (req.method === "GET" || req.method === "HEAD") return;
    const origin = req.headers.get("origin");
    const site = req.headers.get("sec-fetch-site");
    let sameOrigin = origin === null || origin === url.origin;
    if (origin !== null && !sameOrigin) {
      try {
        sameOrigin = new URL(origin).host === url.host;
      } catch { /* "null" or garbage: another origin */ }
    }
    if (!sameOrigin || site === "cross-site" || site === "same-site") {
      throw new HttpError(403, "a page of another site may not write to this explorer");
    }
  }

  /** The map, rounded to 4 decimals, in the order of the songs. */
  function mapBody() {
    const m = explorer.map;
    const round = (v: number) => Math.round(v * 1e4) / 1e4;
    const n = explorer.songs.length;
    return {
      count: n,
      method: m.placed
        ? `${m.method}; ${m.placed} song${m.placed === 1 ? "" : "s"} added since, each placed at the mean ` +
          `position of its ${PLACEMENT_NEIGHBOURS} nearest`
        : m.method,
      x: Array.from({ length: n }, (_, i) => round(m.xy[2 * i])),
      y: Array.from({ length: n }, (_, i) => round(m.xy[2 * i + 1])),
      cluster: Array.from(m.clusters),
    };
  }

  /** Serialised answers, kept until the explorer reloads: each with its ETag and, once asked for, gzipped. */
  const bodies = new Map<string, { revision: number; etag: string; raw: Uint8Array; gzip?: Uint8Array }>();
  const nonce = crypto.randomUUID().slice(0, 8); // ETags of another run of the server never match

  /** A large JSON answer: 304 to its ETag, gzipped when the client takes gzip. */
  async function cachedJson(req: Request, name: string, make: () => unknown): Promise<Response> {
    await explorer.refresh();
    const revision = explorer.revision;
    let c = bodies.get(name);
    if (!c || c.revision !== revision) {
      const raw = new TextEncoder().encode(JSON.stringify(make()));
      c = { revision, etag: `"${name}-${nonce}-${revision}"`, raw };
      bodies.set(name, c);
    }
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-cache",
      etag: c.etag,
      vary: "accept-encoding",
    };
    if ((req.headers.get("if-none-match") ?? "").split(/\s*,\s*/).includes(c.etag)) {
      return new Response(null, { status: 304, headers });
    }
    const gzip = /\bgzip\b/.test(req.headers.get("accept-encoding") ?? "");
    if (gzip) {
      c.gzip ??= await gzipped(c.raw);
      headers["content-encoding"] = "gzip";
    }
    const body = gzip ? c.gzip! : c.raw;
    headers["content-length"] = String(body.length);
    return new Response(req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, { headers });
  }

  async function route(req: Request): Promise<Response> {
    const url = new URL(req.url);
    checkOrigin(req, url);
    const path = url.pathname;
    const page = STATIC[path];
    if (page && (req.method === "GET" || req.method === "HEAD")) {
      return new Response(await Deno.readFile(new URL(page.file, staticDir)), {
        headers: { "content-type": page.type, "cache-control": "no-cache" },
      });
    }
    if (path.startsWith("/web/") && (req.method === "GET" || req.method === "HEAD")) {
      const name = path.slice("/web/".length);
      if (!/^[A-Za-z0-9_-]+\.js$/.test(name)) throw new HttpError(404, "not found");
      const bytes = await Deno.readFile(new URL(name, webDir)).catch(() => null);
      if (!bytes) throw new HttpError(404, "not found (the browser build: deno task build-web)");
      return new Response(bytes, {
        headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" },
      });
    }
    if (path === "/api/status") {
      return json({ ready: slot.explorer !== null, stage: slot.stage, fraction: slot.fraction });
    }
    if (!slot.explorer) {
      const e = new HttpError(
        503,
        `the collection's map is being computed (${slot.stage}, ${Math.round(slot.fraction * 100)}%)`,
      );
      throw e;
    }
    explorer = slot.explorer;
    if (path === "/api/place") {
      if (req.method !== "POST") throw new HttpError(405, "POST {vector} to /api/place");
      const vector = await vectorOf(req);
      try {
        return json({ result: explorer.place(vector) });
      } catch (e) {
        // the page's vector is not the songs' kind: the client's mistake, not the server's
        if (e instanceof OpenL3Error) throw new HttpError(400, e.message);
        throw e;
      }
    }
    if (path === "/api/embed") {
      if (req.method !== "POST") throw new HttpError(405, "POST an audio file to /api/embed");
      return await embed(req);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      throw new HttpError(405, `${req.method} is not allowed here`);
    }
    if (path === "/api/songs") {
      return await cachedJson(req, "songs", () => {
        const cfg = explorer.config;
        return {
          count: explorer.songs.length,
          config: cfg
            ? {
              inputRepr: cfg.inputRepr,
              contentType: cfg.contentType,
              embeddingSize: cfg.embeddingSize,
              pooling: cfg.pooling,
              provenance: cfg.weightsProvenance,
              precision: cfg.precision,
            }
            : null,
          songs: explorer.songs,
        };
      });
    }
    if (path === "/api/map") {
      return await cachedJson(req, "map", () => mapBody());
    }
    if (path === "/api/in-page") {
      await explorer.refresh();
      const config = explorer.inPage;
      const built = await Deno.stat(new URL("browser.js", webDir)).then((i) => i.isFile, () => false);
      return json({
        config: built ? config : null,
        module: built && config ? "/web/browser.js" : null,
        why: !config
          ? "this explorer keeps uploads, or holds no songs: files are embedded by the server"
          : !built
          ? "no browser build (deno task build-web): files are embedded by the server"
          : undefined,
      });
    }
    if (path === "/api/model.onnx") {
      const config = explorer.inPage;
      if (!config) throw new HttpError(404, "no model for pages here: files are embedded by the server");
      const tag = `"${
        config.weightsHash.slice(0, 32)
      }-${config.inputRepr}-${config.embeddingSize}-${TOOL_VERSION}"`;
      if (req.headers.get("if-none-match") === tag) {
        return new Response(null, { status: 304, headers: { etag: tag, "cache-control": "no-cache" } });
      }
      const bytes = await explorer.modelOnnx();
      return new Response(req.method === "HEAD" ? null : bytes as Uint8Array<ArrayBuffer>, {
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(bytes.length),
          etag: tag,
          "cache-control": "no-cache",
        },
      });
    }
    if (path.startsWith("/api/similar/")) {
      const id = idAfter(path, "/api/similar/");
      const kText = url.searchParams.get("k") ?? "10";
      const k = Number(kText);
      if (!Number.isInteger(k) || k < 1 || k > 1000) {
        throw new HttpError(400, `k must be 1 to 1000, got "${kText}"`);
      }
      const neighbours = explorer.similar(id, k);
      if (!neighbours) throw new HttpError(404, "no such song in the database");
      return json({ id, neighbours });
    }
    if (path.startsWith("/api/audio/")) {
      const file = await explorer.audioPath(idAfter(path, "/api/audio/"));
      if (!file) throw new HttpError(404, "no such song file in the database");
      return await serveFile(file, req);
    }
    throw new HttpError(404, "not found");
  }

  async function embed(req: Request): Promise<Response> {
    const name = (req.headers.get("x-filename") ?? "upload").slice(0, 200);
    const dir = await Deno.makeTempDir({ prefix: "openl3-upload-" });
    UPLOAD_DIRS.add(dir);
    const file = join(dir, `upload${extname(name).toLowerCase().replace(/[^.a-z0-9]/g, "").slice(0, 6)}`);
    try {
      await receive(req, file, maxUpload);
    } catch (e) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      UPLOAD_DIRS.delete(dir);
      throw e;
    }
    const encoder = new TextEncoder();
    // a client that goes away stops its upload's embedding: Deno cancels the answer's stream as soon as the
    // connection closes, bytes pending or not (request.signal would also abort after a successful answer)
    const gone = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (v: unknown) => {
          if (gone.signal.aborted) return;
          try {
            controller.enqueue(encoder.encode(JSON.stringify(v) + "\n"));
          } catch {
            gone.abort();
          }
        };
        send({ stage: "received" });
        try {
          const result = await explorer.embedUpload(file, name, (stage) => send({ stage }), gone.signal);
          send({ result });
        } catch (e) {
          // the upload's name once, never the server's temporary path
          const why = oneLine(e).replaceAll(`${file}: `, "").replaceAll(file, name).replaceAll(dir, "");
          send({ error: `${name}: ${why}` });
        } finally {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
          UPLOAD_DIRS.delete(dir);
          try {
            controller.close();
          } catch { /* cancelled by the client */ }
        }
      },
      cancel() {
        gone.abort();
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" },
    });
  }

  return async (req: Request) => {
    try {
      return await route(req);
    } catch (e) {
      if (e instanceof HttpError) {
        const r = json({ error: e.message }, e.status);
        if (e.status === 503) r.headers.set("retry-after", "1");
        return r;
      }
      log(`serve: ${new URL(req.url).pathname}: ${oneLine(e)}`);
      return json({ error: oneLine(e) }, e instanceof OpenL3Error ? 400 : 500);
    }
  };
}

/** An error's message on one line, without its stack. */
function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
