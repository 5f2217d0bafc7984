/**
 * `GET /web/<file>.js`: the browser build (`deno task build-web`), for pages that embed dropped files.
 *
 * @module
 */

import { HttpError } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const webBuildRoute: Route = {
  path: "/web/",
  methods: ["GET"],
  early: true,
  async handle({ rest, webDir }) {
    if (!/^[A-Za-z0-9_-]+\.js$/.test(rest)) throw new HttpError(404, "not found");
    const bytes = await Deno.readFile(new URL(rest, webDir)).catch(() => null);
    if (!bytes) throw new HttpError(404, "not found (the browser build: deno task build-web)");
    return new Response(bytes, {
      headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" },
    });
  },
};
