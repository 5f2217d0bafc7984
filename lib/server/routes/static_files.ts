/**
 * `GET /` and the page's files (`static/`): the page, its style and its script modules.
 *
 * @module
 */

import type { Route } from "../route.ts";

const STATIC = new URL("../static/", import.meta.url);

/** The page's script modules, one per concern (`app.js` starts the page and imports the others). */
export const PAGE_MODULES: readonly string[] = [
  "app.js",
  "core.js",
  "view.js",
  "colours.js",
  "songs.js",
  "search.js",
  "url_state.js",
  "uploads.js",
  "pointers.js",
  "playlist.js",
];

/** The page's files: path → file and type. */
export const PAGE_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  ...Object.fromEntries(
    PAGE_MODULES.map((f) => [`/${f}`, { file: f, type: "text/javascript; charset=utf-8" }]),
  ),
};

/** One route per file of the page. */
export const pageRoutes: Route[] = Object.entries(PAGE_FILES).map(([path, page]) => ({
  path,
  methods: ["GET"],
  early: true,
  handle: async () =>
    new Response(await Deno.readFile(new URL(page.file, STATIC)), {
      headers: { "content-type": page.type, "cache-control": "no-cache" },
    }),
}));
