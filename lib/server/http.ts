/**
 * The explorer's HTTP helpers, shared by its routes: errors answered with a
 * status and one line, JSON answers, files with ranges, request bodies read
 * with their size counted as they stream in (whatever the headers say), and
 * gzip.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import { audioMime } from "../audio/formats.ts";

/** An HTTP error with its status; its message goes to the client. */
export class HttpError extends OpenL3Error {
  /** The status code. */
  readonly status: number;
  /** An error answered with `status`. */
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A JSON answer (never cached). */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** Parse one `bytes=a-b` range of a file of `size` bytes (null: the whole file; throws 416 when unsatisfiable). */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = header.match(/^bytes=(\d*)-(\d*)$/);
  if (!m || (m[1] === "" && m[2] === "")) throw new HttpError(416, `unsupported range "${header}"`);
  let start: number, end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new HttpError(416, `range "${header}" is outside the file (${size} bytes)`);
  }
  return { start, end };
}

/** Answer a file with range support. */
export async function serveFile(path: string, req: Request): Promise<Response> {
  const info = await Deno.stat(path);
  const size = info.size;
  const type = audioMime(path);
  let range;
  try {
    range = parseRange(req.headers.get("range"), size);
  } catch (e) {
    if (e instanceof HttpError && e.status === 416) {
      return new Response(e.message, { status: 416, headers: { "content-range": `bytes */${size}` } });
    }
    throw e;
  }
  const file = await Deno.open(path, { read: true });
  const start = range?.start ?? 0, end = range?.end ?? size - 1;
  const length = end - start + 1;
  if (req.method === "HEAD") {
    file.close();
    return new Response(null, {
      status: range ? 206 : 200,
      headers: { "content-type": type, "accept-ranges": "bytes", "content-length": String(length) },
    });
  }
  await file.seek(start, Deno.SeekMode.Start);
  let left = length;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buf = new Uint8Array(Math.min(64 * 1024, left));
      const n = left > 0 ? await file.read(buf) : null;
      if (n === null || n === 0) {
        file.close();
        controller.close();
        return;
      }
      left -= n;
      controller.enqueue(buf.subarray(0, n));
      if (left <= 0) {
        file.close();
        controller.close();
      }
    },
    cancel() {
      file.close();
    },
  });
  const headers: Record<string, string> = {
    "content-type": type,
    "accept-ranges": "bytes",
    "content-length": String(length),
  };
  if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
  return new Response(body, { status: range ? 206 : 200, headers });
}

/** The id in `/prefix/<encoded id>`. */
export function idAfter(pathname: string, prefix: string): string {
  try {
    return decodeURIComponent(pathname.slice(prefix.length));
  } catch {
    throw new HttpError(400, "the song id is not validly URL-encoded");
  }
}

/** Write the request body to `file`, refusing more than `max` bytes. */
export async function receive(req: Request, file: string, max: number): Promise<number> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) throw new HttpError(413, `the upload is ${declared} bytes; the limit is ${max}`);
  if (!req.body) throw new HttpError(400, "no file in the request body");
  const out = await Deno.open(file, { write: true, create: true, truncate: true });
  let total = 0;
  try {
    for await (const chunk of req.body) {
      total += chunk.length;
      if (total > max) throw new HttpError(413, `the upload exceeds the limit of ${max} bytes`);
      let off = 0;
      while (off < chunk.length) off += await out.write(chunk.subarray(off));
    }
  } finally {
    out.close();
  }
  if (total === 0) throw new HttpError(400, "the upload is empty");
  return total;
}

/** The `{vector}` of a request body: at most 1 MiB of JSON, an array of numbers. */
export async function vectorOf(req: Request): Promise<number[]> {
  const text = new TextDecoder().decode(await readBody(req, 1 << 20, "the vector is over 1 MiB"));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the body is not JSON: send {"vector": [numbers]}');
  }
  const vector = (body as { vector?: unknown })?.vector;
  if (!Array.isArray(vector)) throw new HttpError(400, 'send {"vector": [numbers]}');
  return vector;
}

/**
 * A request's body, counted as it streams in and cut at `max` bytes (413 with `tooLarge`), whatever its
 * `Content-Length` or `Transfer-Encoding` say.
 */
export async function readBody(req: Request, max: number, tooLarge: string): Promise<Uint8Array> {
  if (Number(req.headers.get("content-length") ?? 0) > max) throw new HttpError(413, tooLarge);
  if (!req.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of req.body) {
    total += chunk.length;
    if (total > max) throw new HttpError(413, tooLarge);
    parts.push(chunk);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes gzipped (CompressionStream). */
export async function gzipped(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** An error's message on one line, without its stack. */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
