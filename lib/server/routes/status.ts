/**
 * `GET /api/status`: `{ready, stage, fraction}` — while the map is computed, every other API route answers
 * 503.
 *
 * @module
 */

import { json } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const statusRoute: Route = {
  path: "/api/status",
  methods: ["GET"],
  early: true,
  handle: ({ slot }) =>
    Promise.resolve(json({ ready: slot.explorer !== null, stage: slot.stage, fraction: slot.fraction })),
};
