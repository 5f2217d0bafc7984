/**
 * `POST /api/embed`: body an audio file (header `X-Filename`); answers NDJSON lines `{stage}` then
 * `{result}` or `{error}`. The upload is received (its size counted as it streams in) into a folder of its
 * own, removed when it is embedded, when the client goes away, or when the server stops.
 *
 * @module
 */

import { extname, join } from "node:path";
import type { Explorer } from "../explorer.ts";
import { oneLine, receive } from "../http.ts";
import type { Route } from "../route.ts";

/** Upload folders in use (received, or being embedded). */
const UPLOAD_DIRS = new Set<string>();

/** Remove every upload folder in use now (the server is stopping: Ctrl-C, SIGTERM). */
export function removeUploadDirs(): void {
  for (const dir of UPLOAD_DIRS) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone already */ }
  }
  UPLOAD_DIRS.clear();
}

/** The route. */
export const embedRoute: Route = {
  path: "/api/embed",
  methods: ["POST"],
  wrongMethod: "POST an audio file to /api/embed",
  handle: ({ req, explorer, maxUploadBytes }) => embed(req, explorer, maxUploadBytes),
};

async function embed(req: Request, explorer: Explorer, maxUpload: number): Promise<Response> {
  const name = (req.headers.get("x-filename") ?? "upload").slice(0, 200);
  const dir = await Deno.makeTempDir({ prefix: "openl3-upload-" });
  UPLOAD_DIRS.add(dir);
  const file = join(dir, `upload${extname(name).toLowerCase().replace(/[^.a-z0-9]/g, "").slice(0, 6)}`);
  try {
    await receive(req, file, maxUpload);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    UPLOAD_DIRS.delete(dir);
    throw e;
  }
  const encoder = new TextEncoder();
  // a client that goes away stops its upload's embedding: Deno cancels the answer's stream as soon as the
  // connection closes, bytes pending or not (request.signal would also abort after a successful answer)
  const gone = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (v: unknown) => {
        if (gone.signal.aborted) return;
        try {
          controller.enqueue(encoder.encode(JSON.stringify(v) + "\n"));
        } catch {
          gone.abort();
        }
      };
      send({ stage: "received" });
      try {
        const result = await explorer.embedUpload(file, name, (stage) => send({ stage }), gone.signal);
        send({ result });
      } catch (e) {
        // the upload's name once, never the server's temporary path
        const why = oneLine(e).replaceAll(`${file}: `, "").replaceAll(file, name).replaceAll(dir, "");
        send({ error: `${name}: ${why}` });
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        UPLOAD_DIRS.delete(dir);
        try {
          controller.close();
        } catch { /* cancelled by the client */ }
      }
    },
    cancel() {
      gone.abort();
    },
  });
  return new Response(body, {
    headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" },
  });
}
