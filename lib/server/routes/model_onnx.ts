/**
 * `GET /api/model.onnx`: the converted network the songs were embedded with (ETag, 304), for a page that
 * embeds dropped files itself.
 *
 * @module
 */

import { TOOL_VERSION } from "../../util/version.ts";
import { HttpError } from "../http.ts";
import type { Route } from "../route.ts";

/** The route. */
export const modelOnnxRoute: Route = {
  path: "/api/model.onnx",
  methods: ["GET"],
  async handle({ req, explorer }) {
    const config = explorer.inPage;
    if (!config) throw new HttpError(404, "no model for pages here: files are embedded by the server");
    const tag = `"${
      config.weightsHash.slice(0, 32)
    }-${config.inputRepr}-${config.embeddingSize}-${TOOL_VERSION}"`;
    if (req.headers.get("if-none-match") === tag) {
      return new Response(null, { status: 304, headers: { etag: tag, "cache-control": "no-cache" } });
    }
    const bytes = await explorer.modelOnnx();
    return new Response(req.method === "HEAD" ? null : bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(bytes.length),
        etag: tag,
        "cache-control": "no-cache",
      },
    });
  },
};
