/**
 * Runs shared by several `embed` worker processes on a real PostgreSQL
 * server (a throwaway cluster, tests/pg_cluster.ts): a worker killed with
 * SIGKILL mid-run loses nothing, the server restarting mid-run is waited
 * out, a broken file fails after its attempts, a worker with other weights
 * refuses, bad credentials and unreachable servers are one-line errors.
 */
import { convertedTestWeights } from "./test_model.ts";
import { join } from "node:path";
import postgres from "postgres";
import { assert } from "./helpers.ts";
import { embedWorkerArgs, startCluster } from "./pg_cluster.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { Rng } from "../lib/util/rng.ts";
import { blobToVector } from "../lib/store/sqlite_store.ts";
import { run as similar } from "../similar.ts";
import { run as compare } from "../compare_embeddings.ts";
import { run as serve } from "../serve.ts";
import { run as simpleEmbed } from "../simple_embed.ts";
import { encodeMp3 } from "../lib/audio/mp3_encode.ts";
import { DatabaseSync } from "node:sqlite";

const cluster = await startCluster();
const root = await Deno.makeTempDir({ prefix: "openl3-pgrun-" });
const music = join(root, "music");
await Deno.mkdir(music);
const FILES = 30;
const rng = new Rng(12);
for (let i = 0; i < FILES; i++) {
  const sr = 16000, n = sr * 3;
  const x = Float32Array.from(
    { length: n },
    (_, t) => 0.3 * Math.sin(2 * Math.PI * (110 + 37 * i) * t / sr) + 0.05 * rng.normal(),
  );
  await Deno.mkdir(join(music, `disc${i % 3}`), { recursive: true });
  await Deno.writeFile(
    join(music, `disc${i % 3}`, `track${String(i).padStart(2, "0")}.wav`),
    encodeWav([x], sr),
  );
}
await Deno.writeFile(
  join(music, "broken.wav"),
  new TextEncoder().encode("RIFF this is not a wave file at all"),
);
const weights = join(root, "w.h5"), otherWeights = join(root, "other.h5"), models = join(root, "models");
// converted once, so the workers find the models cached
await convertedTestWeights(weights, models, 3);
await convertedTestWeights(otherWeights, models, 4);
const embedTs = new URL("../embed.ts", import.meta.url).pathname;
const config = new URL("../deno.json", import.meta.url).pathname;

function worker(url: string, extra: string[] = [], w = weights): Deno.ChildProcess {
  const args = embedWorkerArgs({
    url,
    music,
    weights: w,
    models,
    threads: 1,
    extra: ["--hop-size", "0.5", "--lease", "2", "--max-attempts", "2", ...extra],
  });
  return new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" }).spawn();
}

async function finished(p: Deno.ChildProcess): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await p.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function count(url: string, query: string): Promise<number> {
  const sql = postgres(url, { onnotice: () => {}, max: 1 });
  try {
    return Number((await sql.unsafe(query))[0].n);
  } finally {
    await sql.end();
  }
}

/** Every file stored exactly once; the broken one failed after its attempts; nothing else left. */
async function assertComplete(url: string) {
  assert.equal(await count(url, "SELECT count(*) AS n FROM songs"), FILES);
  assert.equal(await count(url, "SELECT count(DISTINCT content_hash) AS n FROM songs"), FILES);
  assert.equal(await count(url, "SELECT count(*) AS n FROM songs_vectors"), FILES);
  assert.equal(await count(url, "SELECT count(*) AS n FROM jobs WHERE status = 'done'"), FILES);
  assert.equal(await count(url, "SELECT count(*) AS n FROM jobs WHERE status = 'failed'"), 1);
  assert.equal(await count(url, "SELECT count(*) AS n FROM failures WHERE path = 'music:broken.wav'"), 1);
  assert.equal(await count(url, "SELECT count(*) AS n FROM jobs WHERE status IN ('pending', 'running')"), 0);
  const sql = postgres(url, { onnotice: () => {}, max: 1 });
  try {
    const rows = await sql`SELECT song_id, rel_path FROM songs ORDER BY song_id`;
    assert.deepEqual(
      rows.map((r) => String(r.song_id)),
      Array.from({ length: FILES }, (_, i) => `music:disc${i % 3}/track${String(i).padStart(2, "0")}.wav`)
        .sort(),
    );
  } finally {
    await sql.end();
  }
}

async function waitFor(what: string, fn: () => Promise<boolean>, seconds = 120) {
  const end = Date.now() + seconds * 1000;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test("three workers, one killed with SIGKILL mid-run: every file stored exactly once, none lost", async () => {
  const url = await cluster.createDatabase("killed");
  const workers = [worker(url), worker(url), worker(url)];
  await waitFor(
    "a few songs",
    async () => (await count(url, "SELECT count(*) AS n FROM songs").catch(() => 0)) >= 4,
  );
  workers[1].kill("SIGKILL");
  const results = await Promise.all(workers.map(finished));
  assert.equal(results[1].code, 137, "killed by SIGKILL");
  assert.equal(results[0].code, 0, results[0].stderr);
  assert.equal(results[2].code, 0, results[2].stderr);
  await assertComplete(url);
  const status = await finished(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, embedTs, "--status", "--db", url],
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  assert.equal(status.code, 0, status.stderr);
  assert.match(
    status.stdout,
    new RegExp(`: ${FILES} of ${FILES + 1} stored, 0 in flight, 0 waiting, 1 failed`),
  );
  assert.match(status.stdout, /music:broken\.wav: .* \(2 attempts\)/);
  assert.ok(!status.stdout.includes(cluster.password), "no password in the status");
});

Deno.test("similar, compare and serve read a PostgreSQL run (the explorer plays its files through --root)", async () => {
  const url = cluster.url.replace(/\/postgres$/, "/killed"); // made by the first test
  const sql = postgres(url, { onnotice: () => {}, max: 1 });
  const rows = await sql`SELECT song_id, vector FROM songs_vectors ORDER BY song_id`;
  await sql.end();
  const vectors = new Map(rows.map((r) => [String(r.song_id), blobToVector(new Uint8Array(r.vector))]));
  const query = "music:disc0/track00.wav";
  const q = vectors.get(query)!;
  const cos = (a: Float64Array, b: Float64Array) => {
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) {
      d += a[i] * b[i];
      na += a[i] ** 2;
      nb += b[i] ** 2;
    }
    return d / Math.sqrt(na * nb);
  };
  const exact = [...vectors.entries()].filter(([id]) => id !== query).map(([id, v]) => ({
    id,
    score: cos(q, v),
  }))
    .sort((a, b) => b.score - a.score).slice(0, 5);
  const { hits } = await similar({ query, k: 5, db: url, verbose: false });
  assert.deepEqual(hits.map((h) => h.id), exact.map((e) => e.id));
  hits.forEach((h, i) => assert.ok(Math.abs(h.score - exact[i].score) < 1e-6));

  const out = join(root, "compare-pg");
  const result = await compare({ db: url, outDir: out, png: join(out, "map.png"), print: false });
  assert.equal(result.ids.length, FILES);
  assert.ok((await Deno.stat(join(out, "map.png"))).size > 10_000);

  const running = await serve({ db: url, port: 0, verbose: false, roots: new Map([["music", music]]) });
  try {
    const songs = await (await fetch(`${running.url}api/songs`)).json();
    assert.equal(songs.count, FILES);
    const audio = await fetch(`${running.url}api/audio/${encodeURIComponent(query)}`, {
      headers: { range: "bytes=0-11" },
    });
    assert.equal(audio.status, 206);
    assert.equal(new TextDecoder().decode((await audio.arrayBuffer()).slice(0, 4)), "RIFF");
    const near = await (await fetch(`${running.url}api/similar/${encodeURIComponent(query)}?k=5`)).json();
    assert.deepEqual(near.neighbours.map((n: { id: string }) => n.id), exact.map((e) => e.id));
  } finally {
    await running.shutdown();
  }
});

Deno.test("the server stopped and restarted mid-run: workers retry with back-off and finish", async () => {
  const url = await cluster.createDatabase("restarted");
  const workers = [worker(url), worker(url)];
  await waitFor(
    "a few songs",
    async () => (await count(url, "SELECT count(*) AS n FROM songs").catch(() => 0)) >= 3,
  );
  await cluster.stop();
  await new Promise((r) => setTimeout(r, 3000));
  await cluster.start();
  const results = await Promise.all(workers.map(finished));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.ok(
    results.some((r) => /database unreachable .* retrying in/.test(r.stderr)),
    "the workers said they were waiting for the database",
  );
  await assertComplete(url);
});

Deno.test("a worker with other weights than the run's refuses to write", async () => {
  const url = await cluster.createDatabase("mismatch");
  const first = await finished(worker(url));
  assert.equal(first.code, 0, first.stderr);
  const songs = await count(url, "SELECT count(*) AS n FROM songs");
  const second = await finished(worker(url, [], otherWeights));
  assert.equal(second.code, 1);
  const lines = second.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(lines.length, 1, second.stderr);
  assert.match(lines[0], /another model configuration .* it will not write/);
  assert.equal(await count(url, "SELECT count(*) AS n FROM songs"), songs, "nothing written");
});

Deno.test("simple-embed --db postgres://: each mp3 once as previews:<file>, the same vectors as in SQLite", async () => {
  const url = await cluster.createDatabase("simple");
  const previews = join(root, "previews");
  await Deno.mkdir(join(previews, "more"), { recursive: true });
  const sr = 22050;
  for (const [name, f] of [["low.mp3", 220], ["high.mp3", 1760], ["more/mid.mp3", 660]] as const) {
    const x = Float32Array.from({ length: sr }, (_, t) => 0.4 * Math.sin(2 * Math.PI * f * t / sr));
    await Deno.writeFile(join(previews, name), encodeMp3([x], sr));
  }
  await Deno.writeTextFile(join(previews, "notes.wav.txt"), "not audio");
  const common = {
    previews,
    weights,
    modelsDir: models,
    backend: "native" as const,
    device: "cpu" as const,
    quiet: true,
  };
  const first = await simpleEmbed({ ...common, db: url });
  assert.ok("worker" in first);
  assert.equal(first.embedded, 3);
  const again = await simpleEmbed({ ...common, db: url });
  assert.equal(again.embedded, 0, "a second worker finds nothing left to do");
  const sql = postgres(url, { onnotice: () => {}, max: 1 });
  const rows = await sql`SELECT song_id, vector FROM songs_vectors ORDER BY song_id`;
  await sql.end();
  assert.deepEqual(rows.map((r) => r.song_id), [
    "previews:high.mp3",
    "previews:low.mp3",
    "previews:more/mid.mp3",
  ]);
  // the SQLite path (its vectors are checked against a direct embedding in embed_test.ts) gives the same bytes
  const db = join(root, "simple.db");
  const local = await simpleEmbed({ ...common, db });
  assert.equal(local.embedded, 3);
  const raw = new DatabaseSync(db);
  const stored = new Map(
    (raw.prepare("SELECT song_id, vector FROM songs_vectors").all() as {
      song_id: string;
      vector: Uint8Array;
    }[])
      .map((r) => [r.song_id, r.vector]),
  );
  raw.close();
  for (const r of rows) {
    const stem = String(r.song_id).replace(/^previews:(.*\/)?/, "").replace(/\.mp3$/, "");
    assert.deepEqual(new Uint8Array(r.vector), stored.get(stem), String(r.song_id));
  }
});

Deno.test("a wrong password, an unreachable server, a missing database: one clear line each", async () => {
  const cases: [string, RegExp][] = [
    [
      cluster.url.replace(cluster.password, "wrong-password"),
      /password authentication failed for user "openl3"/,
    ],
    [`postgres://openl3:secret@127.0.0.1:1/x`, /cannot connect \(.*ECONNREFUSED/],
    [cluster.url.replace(/\/postgres$/, "/nosuchdb"), /database "nosuchdb" does not exist/],
  ];
  for (const [url, expected] of cases) {
    const r = await finished(worker(url));
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0], expected);
    assert.ok(
      !errors[0].includes("wrong-password") && !errors[0].includes("secret"),
      "the password is not shown",
    );
    assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  }
});

Deno.test("cleanup", async () => {
  await cluster.destroy();
  await Deno.remove(root, { recursive: true });
});
