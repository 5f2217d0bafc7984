/**
 * `GET /api/audio/:id`: the song's file, with `Range` requests (206), only from inside the collection's
 * folders.
 *
 * @module
 */

import { HttpError, idAfter, serveFile } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const audioRoute: Route = {
  path: "/api/audio/",
  methods: ["GET"],
  async handle({ req, url, explorer }) {
    const file = await explorer.audioPath(idAfter(url.pathname, "/api/audio/"));
    if (!file) throw new HttpError(404, "no such song file in the database");
    return await serveFile(file, req);
  },
};
