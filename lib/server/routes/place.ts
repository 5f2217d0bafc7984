/**
 * `POST /api/place`: body `{vector: []}` (a song vector the page computed, at most 1 MiB counted as it
 * streams in); answers `{result}` as `/api/embed`.
 *
 * @module
 */

import { OpenL3Error } from "../../util/errors.ts";
import { HttpError, json, vectorOf } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const placeRoute: Route = {
  path: "/api/place",
  methods: ["POST"],
  wrongMethod: "POST {vector} to /api/place",
  async handle({ req, explorer }) {
    const vector = await vectorOf(req);
    try {
      return json({ result: explorer.place(vector) });
    } catch (e) {
      // the page's vector is not the songs' kind: the client's mistake, not the server's
      if (e instanceof OpenL3Error) throw new HttpError(400, e.message);
      throw e;
    }
  },
};
