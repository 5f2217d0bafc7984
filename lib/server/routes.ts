/**
 * The explorer's HTTP interface: the page, its JSON API and the audio. Each
 * route is one file in `routes/`, listed in {@linkcode ROUTES}:
 *
 * | route                         | answer                                                            |
 * | ----------------------------- | ----------------------------------------------------------------- |
 * | `GET /`                       | the page (`static/index.html`, its style and script modules)       |
 * | `GET /api/status`             | `{ready, stage, fraction}`: while the map is computed, every other API route answers 503 |
 * | `GET /api/songs`              | `{count, config, songs: [{id, title, artist, album, genre, duration, path}]}` in map order (ETag, gzip) |
 * | `GET /api/map`                | `{count, method, x: [], y: [], cluster: []}` in the same order (ETag, gzip) |
 * | `GET /api/similar/:id?k=10`   | `{id, neighbours: [{id, score, title, …}]}`, cosine, as `similar` |
 * | `GET /api/audio/:id`          | the song's file, with `Range` requests (206)                      |
 * | `GET /api/playlist?seed=…`    | a radio or a path, as `deno task playlist` makes it               |
 * | `GET /api/duplicates`         | copies of one recording and versions of one song                   |
 * | `POST /api/embed`             | body: an audio file (header `X-Filename`); answers NDJSON lines `{stage}` then `{result}` or `{error}` |
 * | `GET /api/in-page`            | `{config, module}`: how to embed a dropped file in the page as the songs were, or `{config: null}` |
 * | `GET /api/model.onnx`         | the converted network the songs were embedded with (ETag, 304)    |
 * | `POST /api/place`             | body `{vector: []}` (a song vector the page computed); answers `{result}` as `/api/embed` |
 * | `GET /web/<file>.js`          | the browser build (`deno task build-web`, `dist/web/`)            |
 *
 * Ids are URL-encoded in the path. Errors are JSON `{error}` with a status
 * and one line: never a stack trace. Every answer carries a content security
 * policy, `X-Content-Type-Options: nosniff` and `frame-ancestors 'none'`.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import type { Explorer } from "./explorer.ts";
import { gzipped, HttpError, json, oneLine } from "./http.ts";
import type { Route, RouteContext } from "./route.ts";
import { pageRoutes } from "./routes/static_files.ts";
import { webBuildRoute } from "./routes/web_build.ts";
import { statusRoute } from "./routes/status.ts";
import { songsRoute } from "./routes/songs.ts";
import { mapRoute } from "./routes/map.ts";
import { similarRoute } from "./routes/similar.ts";
import { audioRoute } from "./routes/audio.ts";
import { playlistRoute } from "./routes/playlist.ts";
import { duplicatesRoute } from "./routes/duplicates.ts";
import { embedRoute } from "./routes/embed_upload.ts";
import { inPageRoute } from "./routes/in_page.ts";
import { modelOnnxRoute } from "./routes/model_onnx.ts";
import { placeRoute } from "./routes/place.ts";

export { HttpError, parseRange } from "./http.ts";
export { removeUploadDirs } from "./routes/embed_upload.ts";

/** Every route: adding one is a file in `routes/` and a line here. */
export const ROUTES: readonly Route[] = [
  ...pageRoutes,
  webBuildRoute,
  statusRoute,
  placeRoute,
  embedRoute,
  songsRoute,
  mapRoute,
  inPageRoute,
  modelOnnxRoute,
  similarRoute,
  audioRoute,
  playlistRoute,
  duplicatesRoute,
];

/** The headers every answer carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; " +
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

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

/** An explorer still starting: filled in when its map is ready; `stage` and `fraction` say how far it is. */
export interface ExplorerSlot {
  /** The explorer, once ready. */
  explorer: Explorer | null;
  /** What it is doing (e.g. "t-SNE"). */
  stage: string;
  /** How far, 0–1. */
  fraction: number;
}

/** The route that answers a path, and the rest of the path after a prefix route's prefix. */
function routeOf(path: string): { route: Route; rest: string } | null {
  for (const route of ROUTES) {
    if (route.path.endsWith("/") && route.path !== "/") {
      if (path.startsWith(route.path)) return { route, rest: path.slice(route.path.length) };
    } else if (path === route.path) return { route, rest: "" };
  }
  return null;
}

/** The request handler for an explorer (or for one still starting). */
export function createHandler(
  source: Explorer | ExplorerSlot,
  options: HandlerOptions = {},
): (req: Request) => Promise<Response> {
  // the explorer, once it is ready (a slot fills when its map is computed; until then the page is served,
  // /api/status says how far the map is, and the rest of the API answers 503)
  const slot: ExplorerSlot = "stage" in source ? source : { explorer: source, stage: "ready", fraction: 1 };
  const maxUpload = options.maxUploadBytes ?? 200 * 1024 * 1024;
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
    // the origin the client connected to: this server speaks plain HTTP, at the host it was addressed by
    // (the request reaches the handler through a Unix socket, whose URL has no origin of its own). No
    // Origin: not a browser's write (a browser sends one with every POST); "null" (a sandboxed page, a
    // file, a redirect) is no origin this explorer has
    const sameOrigin = origin === null || origin === `http://${url.host}`;
    if (!sameOrigin || site === "cross-site" || site === "same-site") {
      throw new HttpError(403, "a page of another site may not write to this explorer");
    }
  }

  /** Serialised answers, kept until the explorer reloads: each with its ETag and, once asked for, gzipped. */
  const bodies = new Map<string, { revision: number; etag: string; raw: Uint8Array; gzip?: Uint8Array }>();
  const nonce = crypto.randomUUID().slice(0, 8); // ETags of another run of the server never match

  async function cachedJson(explorer: Explorer, req: Request, name: string, make: () => unknown) {
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
    const found = routeOf(url.pathname);
    const method = req.method === "HEAD" ? "GET" : req.method;
    const allowed = found && (found.route.methods as readonly string[]).includes(method);
    if (!found?.route.early || !allowed) {
      if (!slot.explorer) {
        throw new HttpError(
          503,
          `the collection's map is being computed (${slot.stage}, ${Math.round(slot.fraction * 100)}%)`,
        );
      }
      if (!found) throw new HttpError(404, "not found");
      if (!allowed) throw new HttpError(405, found.route.wrongMethod ?? `${req.method} is not allowed here`);
    }
    const explorer = slot.explorer!;
    const ctx: RouteContext = {
      req,
      url,
      rest: found!.rest,
      explorer,
      slot,
      maxUploadBytes: maxUpload,
      webDir,
      cachedJson: (name, make) => cachedJson(explorer, req, name, make),
      log,
    };
    return await found!.route.handle(ctx);
  }

  return async (req: Request) => {
    let res: Response;
    try {
      res = await route(req);
    } catch (e) {
      if (e instanceof HttpError) {
        res = json({ error: e.message }, e.status);
        if (e.status === 503) res.headers.set("retry-after", "1");
      } else {
        log(`serve: ${new URL(req.url).pathname}: ${oneLine(e)}`);
        res = json({ error: oneLine(e) }, e instanceof OpenL3Error ? 400 : 500);
      }
    }
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.headers.set(k, v);
    return res;
  };
}
