/**
 * Runs shared by several `embed` worker processes on a real PostgreSQL
 * server (a throwaway cluster, tests/pg_cluster.ts), with the CPU saturated
 * by the test itself where the outcome must not depend on an idle machine:
 * a worker killed with SIGKILL or paused past its lease loses nothing and
 * writes nothing twice, the server restarting or cutting connections
 * mid-run is waited out, a late worker joins, a lapsed lease is never
 * counted against the file, leases are renewed while the main thread is
 * blocked, a broken file fails after its attempts, a worker with other
 * weights refuses, bad credentials and unreachable servers are one line.
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
import { type Job, PgQueue } from "../lib/store/pg_queue.ts";
import type { ModelConfig } from "../lib/store/model_config.ts";
import { LeaseKeeper } from "../lib/pipeline/lease_keeper.ts";
import { formatStatus } from "../lib/pipeline/pg_worker.ts";
import { startBusyLoops } from "./busy_cpu.ts";

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

/** A worker's last line, and its exit status, for a run that ended with the broken file failed. */
function assertEndedWithFailedFile(r: { code: number; stdout: string; stderr: string }) {
  assert.equal(r.code, 1, r.stderr);
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  assert.match(last, new RegExp(`^run finished with failed files: ${FILES} stored, 1 failed`), r.stdout);
}

Deno.test("on a saturated CPU, three workers, one SIGKILLed and one SIGSTOPped past its lease: every file stored once", async () => {
  const url = await cluster.createDatabase("killed");
  const busy = startBusyLoops();
  try {
    const workers = [worker(url), worker(url), worker(url)];
    await waitFor(
      "a few songs",
      async () => (await count(url, "SELECT count(*) AS n FROM songs").catch(() => 0)) >= 4,
    );
    workers[1].kill("SIGKILL");
    workers[2].kill("SIGSTOP");
    // its leases (2 s) lapse while it is stopped; the other worker takes its jobs over
    await waitFor(
      "a lapsed lease taken over",
      async () => (await count(url, "SELECT coalesce(sum(lapses), 0) AS n FROM jobs")) >= 1,
      120,
    );
    await new Promise((r) => setTimeout(r, 3000));
    workers[2].kill("SIGCONT");
    const results = await Promise.all(workers.map(finished));
    assert.equal(results[1].code, 137, "killed by SIGKILL");
    assertEndedWithFailedFile(results[0]);
    assertEndedWithFailedFile(results[2]);
    await assertComplete(url);
  } finally {
    await busy.stop();
  }
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
  assert.match(status.stdout, /windows\/s .* [1-9]\d* leases lapsed and taken over/);
  assert.match(status.stdout, /worst renewal gap \d+\.\d\d s/);
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
    // a row pointing out of its root (any worker holds the credentials to write one) is refused
    const tamper = postgres(url, { onnotice: () => {}, max: 1 });
    const victim = "music:disc1/track01.wav";
    await tamper`UPDATE songs SET rel_path = '../../../../../../../../etc/passwd', path = '/etc/passwd'
                 WHERE song_id = ${victim}`;
    await tamper`UPDATE songs_vectors SET vector = vector WHERE song_id = ${victim}`; // the explorer reloads
    try {
      await running.explorer.refresh();
      const r = await fetch(`${running.url}api/audio/${encodeURIComponent(victim)}`);
      assert.equal(r.status, 404);
      assert.ok(!(await r.text()).includes("root:"), "/etc/passwd not served");
    } finally {
      await tamper`UPDATE songs SET rel_path = 'disc1/track01.wav', path = ${
        join(music, "disc1", "track01.wav")
      }
                   WHERE song_id = ${victim}`;
      await tamper.end();
    }
  } finally {
    await running.shutdown();
  }
});

Deno.test("on a saturated CPU, the server stopped and restarted mid-run: workers retry with back-off and finish", async () => {
  const url = await cluster.createDatabase("restarted");
  const busy = startBusyLoops();
  try {
    const workers = [worker(url), worker(url)];
    await waitFor(
      "a few songs",
      async () => (await count(url, "SELECT count(*) AS n FROM songs").catch(() => 0)) >= 3,
    );
    await cluster.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await cluster.start();
    const results = await Promise.all(workers.map(finished));
    for (const r of results) assertEndedWithFailedFile(r);
    assert.ok(
      results.some((r) => /database unreachable .* retrying in/.test(r.stderr)),
      "the workers said they were waiting for the database",
    );
    await assertComplete(url);
  } finally {
    await busy.stop();
  }
});

Deno.test("on a saturated CPU, connections terminated by the server (pg_terminate_backend) mid-run: the run finishes", async () => {
  const url = await cluster.createDatabase("terminated");
  const busy = startBusyLoops();
  const admin = postgres(url, { onnotice: () => {}, max: 1 });
  try {
    const workers = [worker(url), worker(url)];
    let terminated = 0;
    for (const atLeast of [2, 8, 16]) {
      await waitFor(
        `${atLeast} songs`,
        async () => (await count(url, "SELECT count(*) AS n FROM songs").catch(() => 0)) >= atLeast,
      );
      const rows = await admin`SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
                               WHERE application_name = 'openl3' AND pid <> pg_backend_pid()`;
      terminated += rows.filter((r) => r.t === true).length;
    }
    assert.ok(terminated >= 4, `terminated ${terminated} connections`);
    const results = await Promise.all(workers.map(finished));
    for (const r of results) assertEndedWithFailedFile(r);
    await assertComplete(url);
  } finally {
    await admin.end();
    await busy.stop();
  }
});

Deno.test("a worker started after the others finished registering joins the run; every file stored once", async () => {
  const url = await cluster.createDatabase("late");
  const workers = [worker(url), worker(url)];
  await waitFor(
    "the files registered and a few stored",
    async () =>
      (await count(url, "SELECT count(*) AS n FROM jobs").catch(() => 0)) === FILES + 1 &&
      (await count(url, "SELECT count(*) AS n FROM songs").catch(() => 0)) >= 2,
  );
  workers.push(worker(url));
  const results = await Promise.all(workers.map(finished));
  for (const r of results) assertEndedWithFailedFile(r);
  assert.match(results[2].stdout, /registered 0 new/, "its files were registered already");
  await assertComplete(url);
});

Deno.test("a lapsed lease is retried without limit and never counted against the file; its old holder cannot write", async () => {
  const url = await cluster.createDatabase("lapses");
  const store = await PgQueue.connect(url, { retryFor: 10 });
  try {
    await store.registerJobs([{ contentHash: "c0ffee", size: 1, root: "music", relPath: "a.wav" }]);
    const holders: string[] = [];
    let job: Job | undefined;
    for (let i = 0; i < 5; i++) { // more lapses than any --max-attempts below
      const w = `w${i}`;
      await store.registerWorker(w, "k");
      const [claimed] = await store.claim(w, 2, 2);
      assert.ok(claimed, `claim ${i} took the lapsed job over`);
      assert.equal(claimed.lapses, i);
      assert.equal(claimed.attempts, 0, "a lapse is not an attempt");
      holders.push(w);
      job = claimed;
      assert.deepEqual(await store.claim(`other${i}`, 2, 2), [], "a live lease is not taken");
      const s = await store.status();
      assert.equal(s.inFlight.length, 1);
      assert.equal(s.inFlight[0].worker, w);
      await new Promise((r) => setTimeout(r, 2300));
      const lapsed = await store.status();
      assert.equal(lapsed.lapsed, 1, "the status shows the lease lapsed");
      assert.match(formatStatus("db", lapsed).join("\n"), /music:a\.wav: LEASE LAPSED/);
    }
    // the first holder wakes up: its error is not counted, its result is not written
    assert.equal(await store.fail(job!, holders[0], "boom", 1), "lost");
    const song = {
      songId: "music:a.wav",
      root: "music",
      relPath: "a.wav",
      path: "/m/a.wav",
      duration: 1,
      sampleRate: 48000,
      channels: 1,
      format: "wav",
      size: 1,
      contentHash: "c0ffee",
      windows: 1,
    };
    const cfg: ModelConfig = {
      inputRepr: "mel256",
      contentType: "music",
      embeddingSize: 512,
      weightsHash: "h",
      hopSize: 0.1,
      center: true,
      pooling: "max",
      precision: "fp32",
      weightsProvenance: "untrained",
      frontend: "cpu",
      backend: "native",
      toolVersion: "t",
    };
    const v = new Float64Array(512).fill(0.5);
    assert.equal(await store.complete(job!, holders[0], song, v, cfg), false, "the old holder cannot write");
    // the holder of the lapsed lease may still finish while nobody took the job over
    assert.equal(await store.complete(job!, holders[4], song, v, cfg), true);
    const c = await store.counts();
    assert.deepEqual([c.done, c.failed, c.pending, c.running], [1, 0, 0, 0]);
    assert.equal(await count(url, "SELECT count(*) AS n FROM songs"), 1);
    assert.equal(await count(url, "SELECT lost AS n FROM workers WHERE id = 'w0'"), 2);
  } finally {
    await store.close();
  }
});

Deno.test("on a saturated CPU, leases are renewed while the main thread is blocked for three leases", async () => {
  const url = await cluster.createDatabase("keeper");
  const store = await PgQueue.connect(url, { retryFor: 10 });
  const busy = startBusyLoops();
  try {
    await store.registerJobs([{ contentHash: "beef", size: 1, root: "music", relPath: "b.wav" }]);
    await store.registerWorker("w", "k");
    const keeper = await LeaseKeeper.start({ url, worker: "w", leaseSeconds: 1 });
    const [job] = await store.claim("w", 1, 1);
    assert.ok(job);
    const until = performance.now() + 3000;
    while (performance.now() < until) { /* the main thread starved, as a long decode would starve it */ }
    const { worstGap } = await keeper.stop();
    assert.ok(keeper.renewals >= 5, `${keeper.renewals} renewals in 3 s`);
    assert.ok(worstGap < 1, `worst gap between renewals ${worstGap.toFixed(3)} s, under the 1 s lease`);
    assert.deepEqual(await store.claim("thief", 1, 1), [], "the lease never lapsed");
    assert.ok(
      await count(url, "SELECT (worst_renewal_gap * 1000)::int AS n FROM workers WHERE id = 'w'") > 0,
    );
  } finally {
    await busy.stop();
    await store.close();
  }
});

Deno.test("a worker with other weights than the run's refuses to write", async () => {
  const url = await cluster.createDatabase("mismatch");
  const first = await finished(worker(url));
  assertEndedWithFailedFile(first);
  const songs = await count(url, "SELECT count(*) AS n FROM songs");
  const second = await finished(worker(url, [], otherWeights));
  assert.equal(second.code, 1);
  const lines = second.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(lines.length, 1, second.stderr);
  assert.match(
    lines[0],
    /holds weights sha256 [0-9a-f]+….*Nothing written: it holds another model configuration/,
  );
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

Deno.test("a wrong password, an unreachable server, a missing database, a peer that is not PostgreSQL: one clear line each", async () => {
  // a peer on 127.0.0.1 that accepts connections and answers something else
  const fake = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const fakePort = (fake.addr as Deno.NetAddr).port;
  let peerConnections = 0;
  const serving = (async () => {
    for await (const c of fake) {
      peerConnections++;
      c.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\nnot postgres")).catch(() => {});
      setTimeout(() => c.close(), 100);
    }
  })().catch(() => {});
  const cases: [string, RegExp][] = [
    [
      `postgres://openl3:secret@127.0.0.1:${fakePort}/x`,
      /does not speak PostgreSQL \(it answered "HTTP\/1\.1 400 Bad Request"\)/,
    ],
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
  fake.close();
  await serving;
  assert.equal(peerConnections, 1, "one connection to the fake peer, no retries");
});

/** A `deno task` as users run it: the permissions written in deno.json, from the repository's root. */
function task(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("every task that takes --db runs on a postgres:// URL through deno task, with its own permissions", async () => {
  const url = cluster.url.replace(/\/postgres$/, "/killed"); // made by the first test
  const status = await finished(task(["embed", "--status", "--db", url]));
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`${FILES} of ${FILES + 1} stored`));

  const near = await finished(task(["similar", "music:disc0/track00.wav", "--db", url, "-k", "3"]));
  assert.equal(near.code, 0, near.stderr);
  assert.equal(near.stdout.trim().split("\n").filter((l) => /music:disc/.test(l)).length, 3, near.stdout);

  const out = join(root, "compare-task");
  const cmp = await finished(task(["compare", "--db", url, "--out-dir", out, "--png", join(out, "map.png")]));
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.ok((await Deno.stat(join(out, "map.png"))).size > 10_000);

  // a new worker through the task (nothing left to do: the run is finished, with its failed file)
  const embed = await finished(task([
    "embed",
    "--db",
    url,
    "--root",
    `music=${music}`,
    "--weights",
    weights,
    "--models-dir",
    models,
    "--backend",
    "native",
    "--device",
    "cpu",
    "--hop-size",
    "0.5",
    "--quiet",
  ]));
  assert.equal(embed.code, 1, embed.stderr);
  assert.match(embed.stdout, /run finished with failed files/);

  const previews = join(root, "previews-task");
  await Deno.mkdir(previews);
  await Deno.writeFile(
    join(previews, "tone.mp3"),
    encodeMp3([Float32Array.from({ length: 22050 }, (_, t) => 0.4 * Math.sin(t / 9))], 22050),
  );
  const simpleUrl = await cluster.createDatabase("simpletask");
  const simple = await finished(task([
    "simple-embed",
    "--db",
    simpleUrl,
    "--previews",
    previews,
    "--weights",
    weights,
    "--models-dir",
    models,
    "--backend",
    "native",
    "--device",
    "cpu",
    "--quiet",
  ]));
  assert.equal(simple.code, 0, simple.stderr);
  assert.match(simple.stdout, /run finished: all 1 files stored/);

  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const server = task(["serve", "--db", url, "--port", String(port), "--root", `music=${music}`]);
  const reader = server.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  try {
    while (!/ at (http:\/\/\S+)/.test(log)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve ended: ${log}`);
      log += value;
    }
    assert.ok(!log.includes(cluster.password), "no password in serve's start line");
    const base = / at (http:\/\/\S+)/.exec(log)![1];
    const songs = await (await fetch(`${base}api/songs`)).json();
    assert.equal(songs.count, FILES);
  } finally {
    try {
      server.kill("SIGTERM");
    } catch { /* it ended by itself: the assertion above says why */ }
    await server.status;
    await reader.cancel().catch(() => {});
    await server.stdout.cancel().catch(() => {});
  }
});

Deno.test("cleanup", async () => {
  await cluster.destroy();
  await Deno.remove(root, { recursive: true });
});
