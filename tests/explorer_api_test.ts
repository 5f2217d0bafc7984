/**
 * The explorer's JSON API and audio, against a real embedded collection:
 * the neighbours are `similar`'s, ranges are exact, nothing outside the
 * database is served, uploads are capped and embedded, many clients at once
 * are answered, errors carry no stack trace.
 */
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { encodeWav } from "../lib/audio/wav.ts";
import { assert } from "./helpers.ts";
import { explorerFixture } from "./explorer_fixture.ts";
import { run as similar } from "../similar.ts";
import { run as serve } from "../serve.ts";
import { Explorer } from "../lib/server/explorer.ts";
import { createHandler } from "../lib/server/routes.ts";

const fx = await explorerFixture();
const model = {
  weights: fx.weights,
  modelsDir: fx.modelsDir,
  backend: "native" as const,
  device: "cpu" as const,
};
const explorer = await Explorer.open(fx.db, { model });
const handle = createHandler(explorer, { maxUploadBytes: 2 * 1024 * 1024, log: () => {} });
const get = (path: string, headers: Record<string, string> = {}) =>
  handle(new Request(`http://127.0.0.1${path}`, { headers }));
const enc = encodeURIComponent;

Deno.test("GET /api/songs and /api/map: every stored song once, in one order, finite positions", async () => {
  const songs = await (await get("/api/songs")).json();
  const map = await (await get("/api/map")).json();
  assert.equal(songs.count, fx.files.length);
  assert.deepEqual(songs.songs.map((s: { id: string }) => s.id).sort(), [...fx.files].sort());
  assert.equal(map.x.length, songs.count);
  assert.equal(map.cluster.length, songs.count);
  assert.ok([...map.x, ...map.y].every(Number.isFinite));
  assert.match(map.method, /t-SNE/);
  const bell = songs.songs.find((s: { id: string }) => s.id.endsWith("bell_sound.wav"));
  assert.equal(bell.title, "bell_sound");
  assert.ok(Math.abs(bell.duration - 2) < 0.01);
  assert.ok((await Deno.stat(`${fx.db}.map-cache`)).isFile, "the map is cached beside the database");
});

Deno.test("GET /api/songs and /api/map: gzipped when asked, an ETag answered with 304, the configuration", async () => {
  for (const path of ["/api/songs", "/api/map"]) {
    const plain = await get(path);
    const text = await plain.text();
    const etag = plain.headers.get("etag")!;
    assert.match(etag, /^"[a-z]+-[0-9a-f]{8}-\d+"$/);
    assert.equal(plain.headers.get("cache-control"), "no-cache");
    assert.equal(plain.headers.get("content-encoding"), null);
    const zipped = await get(path, { "accept-encoding": "gzip, deflate, br" });
    assert.equal(zipped.headers.get("content-encoding"), "gzip");
    assert.equal(zipped.headers.get("etag"), etag);
    const bytes = new Uint8Array(await zipped.arrayBuffer());
    assert.ok(bytes.length < text.length, `${path}: ${bytes.length} gzipped bytes < ${text.length}`);
    const unzipped = await new Response(
      new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).text();
    assert.equal(unzipped, text);
    const again = await get(path, { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    assert.equal((await get(path, { "if-none-match": '"songs-00000000-1"' })).status, 200);
  }
  const { config } = await (await get("/api/songs")).json();
  assert.deepEqual(
    [config.inputRepr, config.embeddingSize, config.provenance],
    ["mel256", 512, "untrained"],
  );
});

Deno.test("GET /api/similar/:id equals `similar`'s ranking; unknown ids 404, bad k 400", async () => {
  for (const id of fx.files.slice(0, 3)) {
    const body = await (await get(`/api/similar/${enc(id)}?k=5`)).json();
    const { hits } = await similar({ query: id, k: 5, db: fx.db, verbose: false });
    assert.deepEqual(body.neighbours.map((n: { id: string }) => n.id), hits.map((h) => h.id));
    body.neighbours.forEach((n: { score: number }, i: number) =>
      assert.ok(Math.abs(n.score - hits[i].score) < 1e-6)
    );
    assert.ok(body.neighbours.every((n: { title: string }) => typeof n.title === "string"));
  }
  assert.equal((await get(`/api/similar/${enc("/nowhere.wav")}`)).status, 404);
  const bad = await get(`/api/similar/${enc(fx.files[0])}?k=0`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /k must be 1 to 1000, got "0"/);
});

Deno.test("GET /api/audio/:id: whole file, byte ranges (206), suffix ranges, unsatisfiable ranges (416)", async () => {
  const file = fx.files[0];
  const bytes = await Deno.readFile(file);
  const whole = await get(`/api/audio/${enc(file)}`);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get("content-type"), "audio/wav");
  assert.equal(whole.headers.get("accept-ranges"), "bytes");
  assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), bytes);
  const part = await get(`/api/audio/${enc(file)}`, { range: "bytes=100-199" });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 100-199/${bytes.length}`);
  assert.deepEqual(new Uint8Array(await part.arrayBuffer()), bytes.subarray(100, 200));
  const tail = await get(`/api/audio/${enc(file)}`, { range: "bytes=-10" });
  assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), bytes.subarray(bytes.length - 10));
  const open = await get(`/api/audio/${enc(file)}`, { range: `bytes=${bytes.length - 4}-` });
  assert.deepEqual(new Uint8Array(await open.arrayBuffer()), bytes.subarray(bytes.length - 4));
  const beyond = await get(`/api/audio/${enc(file)}`, { range: `bytes=${bytes.length}-` });
  assert.equal(beyond.status, 416);
  await beyond.body?.cancel();
});

Deno.test("nothing outside the database is served: other paths, traversal, a link out of its folder", async () => {
  for (
    const path of [
      `/api/audio/${enc("/etc/passwd")}`,
      `/api/audio/${enc("../../../../etc/passwd")}`,
      `/api/audio/..%2F..%2F..%2Fetc%2Fpasswd`,
      `/api/audio/${enc(fx.files[0] + "/../../random.h5")}`,
      `/api/audio/${enc(fx.db)}`,
      "/api/audio/%E0%A4%A",
      "/../../etc/passwd",
      "/static/../routes.ts",
    ]
  ) {
    const r = await get(path);
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    const body = await r.text();
    assert.ok(!body.includes("root:") && !body.includes("import "), `${path} leaked a file`);
  }
  // a stored song whose file is replaced by a link out of its folder is refused; a link inside is served
  const victim = fx.files[1];
  const outside = join(fx.root, "secret.wav");
  await Deno.copyFile(victim, outside);
  const inside = join(dirname(victim), "inside_copy.wav");
  await Deno.copyFile(victim, inside);
  await Deno.rename(victim, `${victim}.bak`);
  try {
    await Deno.symlink(outside, victim);
    assert.equal((await get(`/api/audio/${enc(victim)}`)).status, 404, "link out of the folder");
    await Deno.remove(victim);
    await Deno.symlink(inside, victim);
    const ok = await get(`/api/audio/${enc(victim)}`);
    assert.equal(ok.status, 200, "link inside the folder");
    await ok.body?.cancel();
  } finally {
    await Deno.remove(victim).catch(() => {});
    await Deno.rename(`${victim}.bak`, victim);
    await Deno.remove(inside);
  }
});

Deno.test("audio only from inside the collection's folders, whatever a database row says (a path elsewhere, a parent folder linked out)", async () => {
  const copy = join(fx.root, "tampered.db");
  await Deno.copyFile(fx.db, copy);
  const outside = join(fx.root, "outside");
  await Deno.mkdir(outside, { recursive: true });
  await Deno.copyFile(fx.files[0], join(outside, "secret.wav"));
  const linked = join(dirname(fx.files[0]), "linkdir");
  await Deno.symlink(outside, linked);
  const raw = new DatabaseSync(copy);
  const set = raw.prepare("UPDATE songs SET path = ? WHERE song_id = ?");
  set.run("/etc/passwd", fx.files[1]);
  set.run(join(linked, "secret.wav"), fx.files[2]);
  raw.close();
  const refused: string[] = [];
  const tampered = await Explorer.open(copy, { model, onRefused: (l) => refused.push(l) });
  try {
    const h = createHandler(tampered, { log: () => {} });
    for (const id of [fx.files[1], fx.files[2]]) {
      const r = await h(new Request(`http://127.0.0.1/api/audio/${enc(id)}`));
      assert.equal(r.status, 404, id);
      const body = await r.text();
      assert.ok(!body.includes("root:") && !body.startsWith("RIFF"), "nothing of the file leaked");
    }
    assert.equal(refused.length, 2, refused.join("\n"));
    assert.match(refused[0], /outside the collection's folders/);
    const fine = await h(new Request(`http://127.0.0.1/api/audio/${enc(fx.files[0])}`));
    assert.equal(fine.status, 200, "a song inside the folder is still served");
    await fine.body?.cancel();
  } finally {
    await tampered.close();
    await Deno.remove(linked);
  }
});

Deno.test("requests to another host name are refused (DNS rebinding); writes from another site are refused (CSRF)", async () => {
  const songs = await handle(new Request("http://evil.example/api/songs"));
  assert.equal(songs.status, 403);
  assert.match((await songs.json()).error, /answers to 127\.0\.0\.1, localhost.*not to evil\.example/);
  const body = new TextEncoder().encode("not audio at all");
  for (
    const headers of [
      { origin: "http://evil.example" } as Record<string, string>,
      { origin: "null" },
      { origin: "http://127.0.0.1:1234" },
      { "sec-fetch-site": "cross-site" },
    ]
  ) {
    const r = await handle(
      new Request("http://127.0.0.1:8000/api/embed", {
        method: "POST",
        headers: { "x-filename": "x.wav", ...headers },
        body,
      }),
    );
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.match((await r.json()).error, /another site may not write/);
  }
  // the page's own origin, and clients that send none (curl), are answered
  const own: Record<string, string>[] = [
    { origin: "http://127.0.0.1:8000", "sec-fetch-site": "same-origin" },
    {},
  ];
  for (const headers of own) {
    const r = await handle(
      new Request("http://127.0.0.1:8000/api/embed", {
        method: "POST",
        headers: { "x-filename": "x.wav", ...headers },
        body,
      }),
    );
    assert.equal(r.status, 200, JSON.stringify(headers));
    await r.body?.cancel();
  }
  const ipv6 = await handle(new Request("http://[::1]:8000/api/songs"));
  assert.equal(ipv6.status, 200);
  await ipv6.body?.cancel();
});

Deno.test("POST /api/embed: a file is embedded as the stored songs were; caps, empty and bad files are refused in one line", async () => {
  const lines = async (r: Response) => (await r.text()).trim().split("\n").map((l) => JSON.parse(l));
  const copy = await Deno.readFile(fx.files[2]);
  const ok = await handle(
    new Request("http://127.0.0.1/api/embed", {
      method: "POST",
      body: copy,
      headers: { "x-filename": "copy.wav" },
    }),
  );
  const events = await lines(ok);
  assert.deepEqual(events.filter((e) => e.stage).map((e) => e.stage), [
    "received",
    "loading the model",
    "embedding",
  ]);
  const result = events.at(-1).result;
  assert.equal(result.neighbours[0].id, fx.files[2], "a copy of a stored song is nearest to it");
  assert.ok(result.neighbours[0].score > 0.99999, `${result.neighbours[0].score}`);
  const map = await (await get("/api/map")).json();
  const row = map.x.length &&
    (await (await get("/api/songs")).json()).songs.findIndex((s: { id: string }) => s.id === fx.files[2]);
  assert.ok(Number.isFinite(result.position[0]) && Number.isFinite(result.position[1]));
  assert.match(result.placement, /mean position of its 5 nearest/);
  assert.ok(row >= 0);
  assert.equal(result.storedId, undefined, "not stored without --store");
  assert.equal((await (await get("/api/songs")).json()).count, fx.files.length);

  const big = await handle(
    new Request("http://127.0.0.1/api/embed", { method: "POST", body: new Uint8Array(3 * 1024 * 1024) }),
  );
  assert.equal(big.status, 413);
  assert.match((await big.json()).error, /limit/);
  const empty = await handle(
    new Request("http://127.0.0.1/api/embed", { method: "POST", body: new Uint8Array(0) }),
  );
  assert.equal(empty.status, 400);
  await empty.body?.cancel();
  const junk = await lines(
    await handle(
      new Request("http://127.0.0.1/api/embed", {
        method: "POST",
        body: new TextEncoder().encode("not audio at all ".repeat(100)),
        headers: { "x-filename": "notes.mp3" },
      }),
    ),
  );
  const error = junk.at(-1).error as string;
  assert.match(error, /^notes\.mp3: /);
  assert.ok(!error.includes("\n") && !/\bat .*\.ts:\d+/.test(error), `no stack trace: ${error}`);
  assert.ok(!error.includes("openl3-upload-") && !error.includes("/upload."), `no server path: ${error}`);
  assert.equal(error.split("notes.mp3").length, 2, `the name once: ${error}`);
  assert.equal((await get("/api/embed")).status, 405);
});

Deno.test("an upload whose client goes away is not embedded to the end", async () => {
  const sr = 16000;
  const long = Float32Array.from({ length: sr * 60 }, (_, i) => 0.3 * Math.sin(i / 11));
  const r = await handle(
    new Request("http://127.0.0.1/api/embed", {
      method: "POST",
      headers: { "x-filename": "long.wav" },
      body: encodeWav([long], sr) as Uint8Array<ArrayBuffer>,
    }),
  );
  assert.equal(r.status, 200);
  const reader = r.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /"stage":"received"/);
  const before = explorer.uploadsAbandoned;
  await reader.cancel(); // the client goes away
  const until = Date.now() + 120_000;
  while (explorer.uploadsAbandoned === before) {
    if (Date.now() > until) throw new Error("the abandoned upload was embedded to the end");
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(explorer.uploadsAbandoned, before + 1);
});

Deno.test("--store keeps an upload: copied beside the database, stored, listed and mapped", async () => {
  const stored = await Explorer.open(fx.db, { model, store: true });
  try {
    const h = createHandler(stored, { log: () => {} });
    const before = await (await h(new Request("http://127.0.0.1/api/map"))).json();
    const beforeIds = stored.songs.map((s) => s.id);
    const tone = await Deno.readFile(fx.files[3]);
    tone[tone.length - 1] ^= 1; // other bytes: a new song, not a duplicate
    const text = await (await h(
      new Request("http://127.0.0.1/api/embed", {
        method: "POST",
        body: tone,
        headers: { "x-filename": "new.wav" },
      }),
    )).text();
    const result = JSON.parse(text.trim().split("\n").at(-1)!).result;
    assert.ok(result.storedId?.includes("/uploads/"), text);
    const songs = await (await h(new Request("http://127.0.0.1/api/songs"))).json();
    assert.equal(songs.count, fx.files.length + 1);
    const map = await (await h(new Request("http://127.0.0.1/api/map"))).json();
    assert.equal(map.x.length, fx.files.length + 1);
    // the map is kept: every song where it was, the new one where the upload's answer placed it
    const row = new Map<string, number>(songs.songs.map((s: { id: string }, i: number) => [s.id, i]));
    beforeIds.forEach((id, i) => {
      assert.equal(map.x[row.get(id)!], before.x[i], id);
      assert.equal(map.y[row.get(id)!], before.y[i], id);
    });
    const r = row.get(result.storedId)!;
    assert.ok(
      Math.abs(map.x[r] - result.position[0]) < 1e-3 && Math.abs(map.y[r] - result.position[1]) < 1e-3,
    );
    assert.match(map.method, /1 song added since, each placed at the mean position of its 5 nearest/);
    const audio = await h(new Request(`http://127.0.0.1/api/audio/${enc(result.storedId)}`));
    assert.equal(audio.status, 200);
    await audio.body?.cancel();
    // embedded once, and stored as embed stores the same file: the same vector, its timeline with it
    const { openStore } = await import("../lib/store/store.ts");
    const { embedCollection } = await import("../lib/pipeline/collection.ts");
    const alone = `${fx.root}/upload-alone.db`;
    await embedCollection({ inputs: [result.storedId], db: alone, ...model, hopSize: 0.5, quiet: true });
    const read = async (db: string) => {
      const s = await openStore(db, { readOnly: true });
      try {
        return {
          v: (await s.vectors()).vectors.get(result.storedId),
          t: (await s.timelines([result.storedId])).get(result.storedId),
        };
      } finally {
        await s.close();
      }
    };
    const [mine, theirs] = [await read(fx.db), await read(alone)];
    assert.deepEqual(mine.v, theirs.v);
    assert.deepEqual(mine.t, theirs.t);
  } finally {
    await stored.close();
  }
});

Deno.test("above the threshold, similar and the explorer rank through the SIMD scan: the same neighbours", async () => {
  // both opened now: an earlier test may have stored an upload since `explorer` was opened
  const approx = await Explorer.open(fx.db, { model, annThreshold: 2 });
  const exactExplorer = await Explorer.open(fx.db, { model, annThreshold: Infinity });
  try {
    assert.equal(approx.neighbourSearch, "simd-scan");
    assert.equal(exactExplorer.neighbourSearch, "exact");
    for (const id of fx.files) {
      const viaAnn = approx.similar(id, 5)!.map((h) => h.id);
      const exact = exactExplorer.similar(id, 5)!.map((h) => h.id);
      assert.deepEqual(viaAnn, exact);
      const { hits, search } = await similar({ query: id, k: 5, db: fx.db, verbose: false, annThreshold: 2 });
      assert.equal(search, "simd-scan");
      assert.deepEqual(hits.map((h) => h.id), exact);
    }
  } finally {
    await approx.close();
    await exactExplorer.close();
  }
});

Deno.test("serve: 127.0.0.1 by default; 50 clients at once all answered", async () => {
  const running = await serve({ db: fx.db, port: 0, verbose: false, model });
  try {
    assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const paths = Array.from({ length: 50 }, (_, i) => {
      const id = enc(fx.files[i % fx.files.length]);
      return [`api/songs`, `api/map`, `api/similar/${id}?k=3`, `api/audio/${id}`, ""][i % 5];
    });
    const responses = await Promise.all(paths.map((p) => fetch(running.url + p)));
    assert.deepEqual(responses.map((r) => r.status), paths.map(() => 200));
    const bodies = await Promise.all(responses.map((r) => r.arrayBuffer()));
    assert.ok(bodies.every((b) => b.byteLength > 0));
  } finally {
    await running.shutdown();
  }
});

Deno.test("cleanup", async () => {
  await explorer.close();
  await Deno.remove(fx.root, { recursive: true });
});
