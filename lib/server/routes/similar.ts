/**
 * `GET /api/similar/:id?k=10`: `{id, neighbours: [{id, score, title, …}]}`, cosine, as `similar` ranks.
 *
 * @module
 */

import { HttpError, idAfter, json } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const similarRoute: Route = {
  path: "/api/similar/",
  methods: ["GET"],
  handle({ url, explorer }) {
    const id = idAfter(url.pathname, "/api/similar/");
    const kText = url.searchParams.get("k") ?? "10";
    const k = Number(kText);
    if (!Number.isInteger(k) || k < 1 || k > 1000) {
      throw new HttpError(400, `k must be 1 to 1000, got "${kText}"`);
    }
    const neighbours = explorer.similar(id, k);
    if (!neighbours) throw new HttpError(404, "no such song in the database");
    return Promise.resolve(json({ id, neighbours }));
  },
};
