/**
 * A guarded server for `guarded_server_test.ts`, run in a child process whose open-file limit the test
 * sets low: `/` answers "ok", `/slow` after 3 s, `/stats` the counters. Prints its port, then serves.
 */
import { serveGuarded } from "../lib/server/guarded_server.ts";

const [cap, idle] = Deno.args.map(Number);
let stats = () => ({});
const server = await serveGuarded(async (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/slow") await new Promise((r) => setTimeout(r, 3000));
  if (path === "/stats") return Response.json(stats());
  return new Response("ok");
}, {
  hostname: "127.0.0.1",
  port: 0,
  maxConnections: cap > 0 ? cap : undefined,
  idleTimeoutMs: idle,
  firstByteTimeoutMs: idle,
  log: () => {},
});
stats = () => ({ ...server.stats, max: server.maxConnections });
console.log(server.addr.port);
Deno.addSignalListener("SIGTERM", () => server.shutdown().then(() => Deno.exit(0)));
await server.finished;
