/**
 * `GET /api/map`: `{count, method, x: [], y: [], cluster: []}` in the order of `/api/songs` (ETag, gzip),
 * rounded to 4 decimals.
 *
 * @module
 */

import { PLACEMENT_NEIGHBOURS } from "../../analysis/collection_map.ts";
import type { Route } from "../route.ts";

/** The route. */
export const mapRoute: Route = {
  path: "/api/map",
  methods: ["GET"],
  handle: ({ explorer, cachedJson }) =>
    cachedJson("map", () => {
      const m = explorer.map;
      const round = (v: number) => Math.round(v * 1e4) / 1e4;
      const n = explorer.songs.length;
      return {
        count: n,
        method: m.placed
          ? `${m.method}; ${m.placed} song${
            m.placed === 1 ? "" : "s"
          } added since, each placed at the mean ` +
            `position of its ${PLACEMENT_NEIGHBOURS} nearest`
          : m.method,
        x: Array.from({ length: n }, (_, i) => round(m.xy[2 * i])),
        y: Array.from({ length: n }, (_, i) => round(m.xy[2 * i + 1])),
        cluster: Array.from(m.clusters),
      };
    }),
};
