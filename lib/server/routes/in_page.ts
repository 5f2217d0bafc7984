/**
 * `GET /api/in-page`: `{config, module}` — how to embed a dropped file in the page as the songs were — or
 * `{config: null, why}`.
 *
 * @module
 */

import { json } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const inPageRoute: Route = {
  path: "/api/in-page",
  methods: ["GET"],
  async handle({ explorer, webDir }) {
    await explorer.refresh();
    const config = explorer.inPage;
    const built = await Deno.stat(new URL("browser.js", webDir)).then((i) => i.isFile, () => false);
    return json({
      config: built ? config : null,
      module: built && config ? "/web/browser.js" : null,
      why: !config
        ? "this explorer keeps uploads, or holds no songs: files are embedded by the server"
        : !built
        ? "no browser build (deno task build-web): files are embedded by the server"
        : undefined,
    });
  },
};
