/**
 * `GET /api/songs`: `{count, config, songs: [{id, title, artist, album, genre, duration, path, copies}]}` in
 * map order (ETag, gzip).
 *
 * @module
 */

import type { Route } from "../route.ts";

/** The route. */
export const songsRoute: Route = {
  path: "/api/songs",
  methods: ["GET"],
  handle: ({ explorer, cachedJson }) =>
    cachedJson("songs", () => {
      const cfg = explorer.config;
      return {
        count: explorer.songs.length,
        config: cfg
          ? {
            inputRepr: cfg.inputRepr,
            contentType: cfg.contentType,
            embeddingSize: cfg.embeddingSize,
            pooling: cfg.pooling,
            provenance: cfg.weightsProvenance,
            precision: cfg.precision,
          }
          : null,
        songs: explorer.songs,
      };
    }),
};
