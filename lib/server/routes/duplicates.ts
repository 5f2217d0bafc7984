/**
 * `GET /api/duplicates`: `{groups: [{kind: "copies" | "versions", best, why, songs: [{id, path, format,
 * duration, score, offset}]}]}` — the copies of one recording and versions of one song among the stored
 * songs, as `deno task duplicates` finds them (computed once per change of the collection).
 *
 * @module
 */

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
      groups: groups.map((g) => ({
        kind: g.kind,
        best: g.best,
        why: g.why,
        songs: g.songs.map((s) => ({
          id: s.id,
          path: s.path,
          format: s.format,
          duration: s.duration,
          score: s.match.score,
          offset: s.match.offset,
        })),
      })),
    });
  },
};
