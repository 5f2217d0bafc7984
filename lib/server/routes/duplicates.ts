/**
 * `GET /api/duplicates`: `{groups: [{kind: "copies" | "versions", best, why, songs: [{id, path, format,
 * size, duration, sampleRate, channels, score, offset}]}]}` — the copies of one recording and versions of one song among the stored
 * songs, as `deno task duplicates` finds them (computed once per change of the collection).
 *
 * @module
 */

import { groupJson } from "../../analysis/duplicates.ts";
import { json } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const duplicatesRoute: Route = {
  path: "/api/duplicates",
  methods: ["GET"],
  async handle({ explorer }) {
    await explorer.refresh();
    const groups = await explorer.duplicates();
    return json({
      groups: groups.map(groupJson),
    });
  },
};
