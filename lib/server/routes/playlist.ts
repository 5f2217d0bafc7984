/**
 * `GET /api/playlist?seed=ID[&seed=ID…][&to=ID&via=ID…][&n=20|&minutes=M][&drift=D][&max-per-artist=K][&exclude=ID…]`:
 * a radio from the seeds, or a path from the seed to `to`, as `deno task playlist` makes them (the same
 * options, checked the same way; seeds are stored ids). Answers `{mode, complete, shortfall, notes, steps,
 * songs: [{id, path, artist, title, duration, score, step}]}`.
 *
 * @module
 */

import { ArgumentError } from "../../util/errors.ts";
import { integerFlag, numberFlag } from "../../util/cli.ts";
import { HttpError, json } from "../http.ts";
import type { Route } from "../route.ts";

const KNOWN = new Set(["seed", "to", "via", "n", "minutes", "drift", "max-per-artist", "exclude"]);

/** The route. */
export const playlistRoute: Route = {
  path: "/api/playlist",
  methods: ["GET"],
  async handle({ url, explorer }) {
    const q = url.searchParams;
    for (const key of q.keys()) if (!KNOWN.has(key)) throw new HttpError(400, `unknown parameter "${key}"`);
    const one = (k: string) => (q.getAll(k).length > 1 ? bad(`${k} is given twice`) : q.get(k) ?? undefined);
    try {
      const n = one("n"), cap = one("max-per-artist");
      const playlist = await explorer.playlist({
        seeds: q.getAll("seed"),
        to: one("to"),
        via: q.getAll("via"),
        count: n === undefined ? undefined : integerFlag(n, "n", 20, 2),
        minutes: numberFlag(one("minutes"), "minutes"),
        drift: numberFlag(one("drift"), "drift"),
        maxPerArtist: cap === undefined ? undefined : integerFlag(cap, "max-per-artist", 1),
        excludeIds: q.getAll("exclude"),
      });
      const { mode, complete, shortfall, notes, steps, songs } = playlist;
      return json({ mode, complete, shortfall, notes, steps, songs });
    } catch (e) {
      if (e instanceof ArgumentError) throw new HttpError(400, e.message);
      throw e;
    }
  },
};

function bad(message: string): never {
  throw new HttpError(400, message);
}
