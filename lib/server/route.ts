/**
 * What a route of the explorer is: the path it answers (exact, or a prefix
 * ending in `/` whose rest is its parameter), its methods, and its handler,
 * which gets the request with everything the server shares. The routes are
 * one file each in `routes/`, listed in one table (`routes.ts`).
 *
 * @module
 */

import type { Explorer } from "./explorer.ts";

/** What the server has for a handler. */
export interface RouteContext {
  /** The request. */
  req: Request;
  /** Its URL. */
  url: URL;
  /** The path after a prefix route's prefix (URL-encoded as it came). */
  rest: string;
  /** The explorer (for routes that wait for it: every route but the early ones). */
  explorer: Explorer;
  /** How far the explorer is while it starts. */
  slot: { explorer: Explorer | null; stage: string; fraction: number };
  /** Largest upload, in bytes. */
  maxUploadBytes: number;
  /** Folder of the browser build. */
  webDir: URL;
  /** A large JSON answer, kept until the explorer reloads: 304 to its ETag, gzipped when asked. */
  cachedJson(name: string, make: () => unknown): Promise<Response>;
  /** A line for the server's log. */
  log(line: string): void;
}

/** One route. */
export interface Route {
  /** An exact path (`/api/songs`) or a prefix ending in `/` (`/api/similar/`). */
  path: string;
  /** The methods it answers (HEAD goes with GET). */
  methods: readonly ("GET" | "POST")[];
  /** Answered while the map is still being computed (the page, the status, the browser build). */
  early?: boolean;
  /** The message of a 405 for another method (default: "<METHOD> is not allowed here"). */
  wrongMethod?: string;
  /** The answer. */
  handle(ctx: RouteContext): Promise<Response>;
}
