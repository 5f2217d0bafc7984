/**
 * One conformance suite, run against both stores (a SQLite file and a
 * PostgreSQL database on a throwaway cluster): the same answers whichever
 * store. Every file path is a song and byte-identical copies are embedded
 * once; a second model configuration is refused before any work; the
 * weights a database was made with are found again by their hash, and
 * without them the message names `--weights` and `make-test-weights`;
 * nothing non-finite is stored, and a non-finite row already there is
 * never read as a vector; a run killed mid-way (the command line, SIGKILL)
 * leaves a sound database that a rerun completes, every song once; the
 * precision is part of the one configuration (int8 songs refuse an fp32 run).
 */
import { join } from "node:path";
import postgres from "postgres";
import { DatabaseSync } from "node:sqlite";
import { assert } from "./helpers.ts";
import { startCluster } from "./pg_cluster.ts";
import { convertedTestWeights } from "./test_model.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { embedCollection } from "../lib/pipeline/collection.ts";
import { runPgWorker } from "../lib/pipeline/pg_worker.ts";
import { NonFiniteVectorError, openStore, type SongStore } from "../lib/store/store.ts";
import { vectorToBlob } from "../lib/store/vector_codec.ts";
import { PG_MIGRATIONS } from "../lib/store/pg_store.ts";
import { PgQueue } from "../lib/store/pg_queue.ts";
import { Rng } from "../lib/util/rng.ts";
import { run as similar } from "../similar.ts";

const cluster = await startCluster();
const root = await Deno.makeTempDir({ prefix: "openl3-conformance-" });
const weights = join(root, "w.h5"), models = join(root, "models");
await convertedTestWeights(weights, models, 5);
const MODEL = { backend: "native" as const, device: "cpu" as const, modelsDir: models, quiet: true };

function tone(f: number, seconds = 1, sr = 16000): Float32Array {
  return Float32Array.from({ length: sr * seconds }, (_, t) => 0.3 * Math.sin(2 * Math.PI * f * t / sr));
}

/** A store under test: where its database is, and how files are embedded into it. */
interface StoreKind {
  name: string;
  /** A new empty database. */
  create(name: string): Promise<string>;
  /** Embed files under the collection folder `music` (named root "c" on PostgreSQL). */
  embed(db: string, music: string, inputs: string[], extra?: Record<string, unknown>): Promise<unknown>;
  /** The song id of a file under `music`. */
  idOf(music: string, rel: string): string;
  /** Run SQL on the database (the tests' own access, to tamper with it). */
  exec(db: string, sql: string, params?: unknown[]): Promise<void>;
}

const KINDS: StoreKind[] = [
  {
    name: "SQLite",
    create: (name) => Promise.resolve(join(root, `${name}.db`)),
    embed: (db, _music, inputs, extra = {}) => embedCollection({ inputs, db, ...MODEL, ...extra }),
    idOf: (music, rel) => join(music, rel),
    exec(db, sql, params = []) {
      const raw = new DatabaseSync(db);
      try {
        raw.prepare(sql).run(...(params as never[]));
      } finally {
        raw.close();
      }
      return Promise.resolve();
    },
  },
  {
    name: "PostgreSQL",
    create: (name) => cluster.createDatabase(name.toLowerCase()),
    embed: (url, music, inputs, extra = {}) =>
      runPgWorker({ url, roots: [`c=${music}`], inputs, ...MODEL, leaseSeconds: 30, ...extra }),
    idOf: (_music, rel) => `c:${rel}`,
    async exec(url, sql, params = []) {
      const pg = postgres(url, { onnotice: () => {}, max: 1 });
      try {
        await pg.unsafe(
          sql.replace(
            /\?/g,
            (() => {
              let i = 0;
              return () => `$${++i}`;
            })(),
          ),
          params as never[],
        );
      } finally {
        await pg.end();
      }
    },
  },
];

/** Run `fn` on a database opened for writing through the one interface, and close it. */
async function withStore<T>(db: string, fn: (s: SongStore) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A song's record at `id` (its path, for the tests, is the id). */
function songAt(id: string) {
  return {
    songId: id,
    path: `/music/${id}`,
    duration: 2,
    sampleRate: 16000,
    channels: 1,
    format: "wav",
    size: 100,
    contentHash: `hash-${id}`,
    windows: 3,
    tags: { artist: "Ärtist", title: `title ${id}` },
  };
}

async function songIds(db: string): Promise<string[]> {
  const reader = await openStore(db, { readOnly: true });
  try {
    return (await reader.summaries()).map((s) => s.songId).sort();
  } finally {
    await reader.close();
  }
}

async function vectors(db: string): Promise<Map<string, Float64Array>> {
  const reader = await openStore(db, { readOnly: true });
  try {
    return (await reader.vectors()).vectors;
  } finally {
    await reader.close();
  }
}

for (const kind of KINDS) {
  Deno.test(`${kind.name}: the interface reads back what it wrote: songs, tags, frames, copies, failures, removal`, async () => {
    const db = await kind.create(`interface_${kind.name}`);
    const cfg = {
      inputRepr: "mel256",
      contentType: "music",
      embeddingSize: 512,
      weightsHash: "ab".repeat(32),
      hopSize: 0.5,
      center: true,
      pooling: "max",
      precision: "fp32",
      weightsProvenance: "untrained",
      frontend: "cpu",
      backend: "native",
      toolVersion: "t",
    } as const;
    const rng = new Rng(5);
    const vector = Float64Array.from({ length: 512 }, () => rng.normal());
    const embedding = Float32Array.from({ length: 3 * 512 }, () => rng.normal());
    const a = kind.idOf("/music", "a.wav"), b = kind.idOf("/music", "b.wav");
    await withStore(db, async (store) => {
      assert.deepEqual(await store.storedConfigs(), []);
      await store.putSong(songAt(a), vector, cfg, {
        embedding,
        timestamps: Float64Array.of(0, 0.5, 1),
        size: 512,
      });
      const song = await store.song(a);
      assert.equal(song?.duration, 2);
      assert.equal(song?.contentHash, `hash-${a}`);
      assert.deepEqual(song?.tags, { artist: "Ärtist", title: `title ${a}` });
      assert.equal(song?.configKey, "mel256|music|512|" + "ab".repeat(32) + "|0.5|1|max");
      const frames = await store.frames(a);
      assert.deepEqual(frames.timestamps, [0, 0.5, 1]);
      assert.deepEqual(frames.vectors[2], embedding.subarray(1024, 1536), "frames as float32, exactly");
      assert.deepEqual((await store.vectors()).vectors.get(a), vector, "the vector, exactly");
      assert.equal(await store.songByContent(`hash-${a}`, song!.configKey!), a);
      assert.equal(await store.songByContent(`hash-${a}`, song!.configKey!, a), undefined);
      await store.copySong(a, b, "/music/b.wav");
      assert.deepEqual((await store.vectors()).vectors.get(b), vector);
      assert.equal((await store.frames(b)).vectors.length, 3);
      assert.deepEqual((await store.summaries()).map((s) => s.songId).sort(), [a, b].sort());
      assert.deepEqual((await store.storedConfigs()).map((c) => c.hopSize), [0.5]);
      await store.putFailure("/music/c.wav", "broken");
      await store.putFailure("/music/c.wav", "still broken");
      const failures = await store.failures();
      assert.equal(failures.length, 1);
      assert.deepEqual([failures[0].error, failures[0].attempts], ["still broken", 2]);
      // a failure that makes a stored song stale removes it in the same step
      await store.putFailure("/music/b.wav", "changed and broken", b);
      assert.equal(await store.song(b), undefined);
      await store.remove([a]);
      assert.deepEqual((await store.summaries()).length, 0);
      assert.deepEqual((await store.vectors()).vectors.size, 0);
      assert.deepEqual((await store.frames(a)).vectors, []);
    });
  });

  Deno.test(`${kind.name}: every path is a song; byte-identical copies get the one vector, later copies too`, async () => {
    const db = await kind.create(`copies_${kind.name}`);
    const music = join(root, `copies-${kind.name}`);
    await Deno.mkdir(join(music, "a"), { recursive: true });
    await Deno.mkdir(join(music, "b"), { recursive: true });
    const one = encodeWav([tone(440)], 16000);
    await Deno.writeFile(join(music, "a", "one.wav"), one);
    await Deno.writeFile(join(music, "b", "one.wav"), one);
    await Deno.writeFile(join(music, "two.wav"), encodeWav([tone(1200)], 16000));
    await kind.embed(db, music, [music], { weights, hopSize: 0.5 });
    const ids = ["a/one.wav", "b/one.wav", "two.wav"].map((r) => kind.idOf(music, r));
    assert.deepEqual(await songIds(db), [...ids].sort());
    let v = await vectors(db);
    assert.deepEqual(v.get(ids[0]), v.get(ids[1]), "copies share the vector");
    assert.notDeepEqual(v.get(ids[0]), v.get(ids[2]));
    // a copy added later is stored from the stored song, not embedded again
    await Deno.mkdir(join(music, "c"));
    await Deno.writeFile(join(music, "c", "one.wav"), one);
    const summary = await kind.embed(db, music, [join(music, "c")], { weights, hopSize: 0.5 }) as {
      copied?: number;
      embedded: number;
      registered?: number;
    };
    assert.equal(summary.embedded, 0, "nothing embedded for a copy");
    if (kind.name === "SQLite") assert.equal(summary.copied, 1);
    else assert.equal(summary.registered, 0, "no new job for known content");
    v = await vectors(db);
    assert.deepEqual(v.get(kind.idOf(music, "c/one.wav")), v.get(ids[0]));
    const { hits } = await similar({ query: kind.idOf(music, "b/one.wav"), k: 3, db, verbose: false });
    assert.ok(Math.abs(hits[0].score - 1) < 1e-12, "its copies are its nearest, at cosine 1");
  });

  Deno.test(`${kind.name}: a run killed (SIGKILL) mid-way leaves a sound database; a rerun stores the rest once`, async () => {
    const db = await kind.create(`killed_${kind.name}`);
    const music = join(root, `killed-${kind.name}`);
    await Deno.mkdir(music, { recursive: true });
    const files = Array.from({ length: 16 }, (_, i) => `s${String(i).padStart(2, "0")}.wav`);
    for (const [i, f] of files.entries()) {
      await Deno.writeFile(join(music, f), encodeWav([tone(200 + 90 * i, 3)], 16000));
    }
    // the command line, as users run it, in a process of its own
    const args = ["run", "-A", "embed.ts", "--db", db, "--weights", weights, "--models-dir", models];
    args.push("--backend", "native", "--device", "cpu", "--hop", "0.5", "--quiet");
    // a short lease: the rerun takes over the killed worker's file when it lapses
    if (kind.name === "PostgreSQL") args.push("--root", `c=${music}`, "--lease", "5");
    const child = new Deno.Command(Deno.execPath(), {
      args: [...args, music],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "null",
      stderr: "null",
    }).spawn();
    let stored = 0;
    for (const until = Date.now() + 120_000; Date.now() < until;) {
      stored = (await vectors(db).catch(() => new Map())).size;
      if (stored > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGKILL");
    await child.status;
    assert.ok(stored > 0, "the run stored a song before it was killed");
    const before = await vectors(db);
    assert.ok(before.size < files.length, `killed mid-way (${before.size} of ${files.length} stored)`);
    for (const v of before.values()) assert.ok(v.length === 512 && v.every(Number.isFinite));
    // a rerun completes it: every song once, each vector the one an uninterrupted run stores
    await kind.embed(db, music, [music], { weights, hopSize: 0.5 });
    const after = await vectors(db);
    assert.deepEqual([...after.keys()].sort(), files.map((f) => kind.idOf(music, f)).sort());
    const clean = await kind.create(`unkilled_${kind.name}`);
    await kind.embed(clean, music, [music], { weights, hopSize: 0.5 });
    for (const [id, v] of await vectors(clean)) assert.deepEqual(after.get(id), v, id);
  });

  Deno.test(`${kind.name}: one configuration per database; its weights found again by hash, or a clear line`, async () => {
    const db = await kind.create(`config_${kind.name}`);
    const music = join(root, `config-${kind.name}`);
    await Deno.mkdir(music);
    await Deno.writeFile(join(music, "low.wav"), encodeWav([tone(220)], 16000));
    await Deno.writeFile(join(music, "high.wav"), encodeWav([tone(2000)], 16000));
    await kind.embed(db, music, [join(music, "low.wav"), join(music, "high.wav")], { weights, hopSize: 0.5 });
    const before = await songIds(db);

    // another configuration: refused before any file is read, nothing written
    await Deno.writeFile(join(music, "mid.wav"), encodeWav([tone(700)], 16000));
    await assert.rejects(
      () => kind.embed(db, music, [join(music, "mid.wav")], { weights, hopSize: 0.25 }),
      /another model configuration.*one configuration per database: use another --db/,
    );
    assert.deepEqual(await songIds(db), before, "nothing written");

    // a rerun without --weights, hop or pooling: the database's, its weights found by their hash
    const summary = await kind.embed(db, music, [join(music, "mid.wav")]) as { embedded: number };
    assert.equal(summary.embedded, 1);
    assert.equal((await songIds(db)).length, 3);
    const reader = await openStore(db, { readOnly: true });
    assert.equal((await reader.storedConfigs()).length, 1, "still one configuration");
    await reader.close();

    // similar FILE without --weights ranks as with them
    const query = join(root, `q-${kind.name}.wav`);
    await Deno.writeFile(query, encodeWav([tone(230)], 16000));
    const common = { query, db, k: 3, ...MODEL, verbose: false };
    const found = await similar(common);
    const given = await similar({ ...common, weights });
    assert.deepEqual(found.hits, given.hits);
    assert.equal(found.hits[0].id, kind.idOf(music, "low.wav"));

    // offline, with a models folder that does not hold them: one line naming both ways out
    await assert.rejects(
      () => similar({ ...common, modelsDir: join(root, "empty-models") }),
      /UNTRAINED test weights \(sha256 [0-9a-f]{16}…\), not found in .*: pass the same file with --weights PATH \(the seeded test weights: deno task make-test-weights/,
    );
  });

  Deno.test(`${kind.name}: runs started together with two configurations: the first to claim the database wins, the other writes nothing`, async () => {
    // the claim itself, raced from two connections many times: exactly one configuration holds each database
    const a = {
      inputRepr: "mel256",
      contentType: "music",
      embeddingSize: 512,
      weightsHash: "aa",
      hopSize: 1,
      center: true,
      pooling: "mean",
      precision: "fp32",
      weightsProvenance: "custom",
    } as const;
    const b = { ...a, precision: "int8" } as const;
    for (let i = 0; i < 8; i++) {
      const db = await kind.create(`claim_${kind.name}_${i}`);
      await withStore(db, () => Promise.resolve()); // created and migrated
      const [s1, s2] = [await openStore(db), await openStore(db)];
      try {
        const [h1, h2] = await Promise.all([s1.claimConfig(i % 2 ? a : b), s2.claimConfig(i % 2 ? b : a)]);
        assert.deepEqual(h1, h2, "both see the one claim");
        assert.equal(h1.length, 1);
        assert.ok([a.precision, b.precision].includes(h1[0].precision));
        assert.deepEqual(await s1.claimConfig(h1[0]), h1, "the holder claims it again");
      } finally {
        await s1.close();
        await s2.close();
      }
    }

    // whole runs, hop 1 against hop 0.5, started together: one embeds, the other refuses before storing
    const music = join(root, `together-${kind.name}`);
    await Deno.mkdir(music);
    for (const [name, f] of [["a", 300], ["b", 500], ["c", 900]] as const) {
      await Deno.writeFile(join(music, `${name}.wav`), encodeWav([tone(f)], 16000));
    }
    const inputs = ["a", "b", "c"].map((n) => join(music, `${n}.wav`));
    for (let i = 0; i < 3; i++) {
      const db = await kind.create(`together_${kind.name}_${i}`);
      const runs = await Promise.allSettled([
        kind.embed(db, music, inputs, { weights, hopSize: 1 }),
        kind.embed(db, music, inputs, { weights, hopSize: 0.5 }),
      ]);
      const refused = runs.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      assert.equal(
        refused.length,
        1,
        `run ${i}: exactly one refused (${refused.map((r) => r.reason).join("; ")})`,
      );
      assert.match(String(refused[0].reason), /Nothing written: it holds another model configuration/);
      const reader = await openStore(db, { readOnly: true });
      try {
        const configs = await reader.storedConfigs();
        assert.equal(configs.length, 1, `run ${i}: one configuration stored`);
        assert.equal((await reader.summaries()).length, 3, `run ${i}: every song, once`);
      } finally {
        await reader.close();
      }
    }
  });

  Deno.test(`${kind.name}: the precision is part of the configuration: int8 songs refuse fp32, adopt int8 when unset`, async () => {
    const db = await kind.create(`precision_${kind.name}`);
    const music = join(root, `precision-${kind.name}`);
    await Deno.mkdir(music, { recursive: true });
    await Deno.writeFile(join(music, "a.wav"), encodeWav([tone(300)], 16000));
    await Deno.writeFile(join(music, "b.wav"), encodeWav([tone(900)], 16000));
    await kind.embed(db, music, [join(music, "a.wav")], { weights, hopSize: 0.5, precision: "int8" });
    const configs = async () => {
      const reader = await openStore(db, { readOnly: true });
      try {
        return (await reader.storedConfigs()).map((c) => c.precision);
      } finally {
        await reader.close();
      }
    };
    assert.deepEqual(await configs(), ["int8"]);
    const before = await songIds(db);
    await assert.rejects(
      () => kind.embed(db, music, [join(music, "b.wav")], { weights, hopSize: 0.5, precision: "fp32" }),
      /another model configuration \(.*int8.*one configuration per database: use another --db/,
    );
    assert.deepEqual(await songIds(db), before, "nothing written");

    // unset: the database's precision (and weights, hop), so b is embedded by the int8 network
    await kind.embed(db, music, [join(music, "b.wav")]);
    assert.deepEqual(await configs(), ["int8"]);
    const stored = (await vectors(db)).get(kind.idOf(music, "b.wav"))!;
    const alone = join(root, `precision-alone-${kind.name}.db`);
    await embedCollection({ inputs: [join(music, "b.wav")], db: alone, ...MODEL, weights, hopSize: 0.5 });
    const fp32 = [...(await vectors(alone)).values()][0];
    assert.ok(stored.some((v, i) => v !== fp32[i]), "not the fp32 network's vector");

    // similar FILE embeds as the stored songs were: a copy of b scores 1 against b; fp32 is refused
    const query = join(root, `precision-q-${kind.name}.wav`);
    await Deno.copyFile(join(music, "b.wav"), query);
    const common = { query, db, k: 2, ...MODEL, verbose: false };
    const found = await similar(common);
    assert.equal(found.hits[0].id, kind.idOf(music, "b.wav"));
    assert.ok(found.hits[0].score > 0.999999, `${found.hits[0].score}`);
    await assert.rejects(
      () => similar({ ...common, precision: "fp32" }),
      /embedded with the int8 network, this is the fp32 one/,
    );
  });

  Deno.test(`${kind.name}: nothing non-finite is stored, and a non-finite row already there is never read`, async () => {
    const db = await kind.create(`finite_${kind.name}`);
    const music = join(root, `finite-${kind.name}`);
    await Deno.mkdir(music);
    await Deno.writeFile(join(music, "x.wav"), encodeWav([tone(330)], 16000));
    await Deno.writeFile(join(music, "y.wav"), encodeWav([tone(990)], 16000));
    await kind.embed(db, music, [music], { weights, hopSize: 0.5 });
    const bad = new Float64Array(512).fill(0.1);
    bad[7] = NaN;
    await withStore(db, async (store) => {
      const cfg = {
        ...(await store.storedConfigs())[0],
        frontend: "cpu",
        backend: "native",
        toolVersion: "t",
      } as const;
      const song = { ...songAt(kind.idOf(music, "nan.wav")), contentHash: "x" };
      await assert.rejects(() => store.putSong(song, bad, cfg), NonFiniteVectorError);
      const frames = {
        embedding: new Float32Array(512).fill(NaN),
        timestamps: new Float64Array([0]),
        size: 512,
      };
      await assert.rejects(
        () => store.putSong(song, new Float64Array(512).fill(0.1), cfg, frames),
        NonFiniteVectorError,
      );
      assert.equal(await store.song(song.songId), undefined, "nothing of it stored");
    });
    if (kind.name === "PostgreSQL") {
      // the queue's completion refuses it too
      const queue = await PgQueue.connect(db, { retryFor: 5 });
      try {
        const job = {
          id: 1,
          contentHash: "x",
          size: 1,
          root: "c",
          relPath: "nan.wav",
          attempts: 0,
          lapses: 0,
        };
        const cfg = (await queue.store.storedConfigs())[0];
        const song = { ...songAt("c:nan.wav"), root: "c", relPath: "nan.wav", contentHash: "x" };
        await assert.rejects(
          () =>
            queue.complete(job, "w", song, bad, {
              ...cfg,
              frontend: "cpu",
              backend: "native",
              toolVersion: "t",
            }),
          NonFiniteVectorError,
        );
      } finally {
        await queue.close();
      }
    }
    // tamper: a stored vector made non-finite is left out by every reader, with the reason
    const id = kind.idOf(music, "y.wav");
    await kind.exec(db, "UPDATE songs_vectors SET vector = ? WHERE song_id = ?", [vectorToBlob(bad), id]);
    const reader = await openStore(db, { readOnly: true });
    try {
      const { vectors, rejected } = await reader.vectors();
      assert.ok(!vectors.has(id));
      assert.equal(rejected.length, 1);
      assert.match(rejected[0].problem, /1 NaN or infinite values/);
    } finally {
      await reader.close();
    }
  });
}

Deno.test("PostgreSQL: a run written by schema version 1 is migrated in place and read (songs, jobs, status)", async () => {
  const url = await cluster.createDatabase("legacy_v1");
  const raw = postgres(url, { onnotice: () => {}, max: 1 });
  const rng = new Rng(21);
  const stored = [0, 1].map(() => Float64Array.from({ length: 512 }, () => rng.normal()));
  try {
    await raw`CREATE TABLE openl3_meta(key text PRIMARY KEY, value text NOT NULL)`;
    await raw.unsafe(PG_MIGRATIONS[0]);
    await raw`INSERT INTO openl3_meta(key, value) VALUES ('schema_version', '1')`;
    await raw`INSERT INTO model_configs(id, key, input_repr, content_type, embedding_size, weights_hash, hop_size,
                center, pooling, frontend, backend, tool_version, weights_provenance)
              VALUES (1, 'k', 'mel256', 'music', 512, 'h', 0.1, true, 'max', 'cpu', 'native', '0.1.0', 'custom')`;
    for (const [i, name] of ["a.wav", "b.wav"].entries()) {
      await raw`INSERT INTO songs(song_id, root, rel_path, path, duration, sample_rate, channels, format, size,
                  content_hash, windows, config_id)
                VALUES (${`m:${name}`}, 'm', ${name}, ${`/music/${name}`}, 1, 16000, 1, 'wav', 10, ${`hash${i}`}, 1, 1)`;
      await raw`INSERT INTO songs_vectors(song_id, vector) VALUES (${`m:${name}`}, ${
        vectorToBlob(stored[i])
      })`;
      await raw`INSERT INTO jobs(content_hash, size, root, rel_path, status, attempts, finished_at)
                VALUES (${`hash${i}`}, 10, 'm', ${name}, 'done', 1, now())`;
    }
    await raw`INSERT INTO jobs(content_hash, size, root, rel_path) VALUES ('hash2', 10, 'm', 'c.wav')`;
  } finally {
    await raw.end();
  }
  const store = await PgQueue.connect(url, { retryFor: 5 });
  try {
    const c = await store.counts();
    assert.deepEqual([c.done, c.pending, c.running, c.failed], [2, 1, 0, 0]);
    // a byte-identical copy of a stored song registered now is stored from it (v2's job_paths)
    await store.registerJobs([{
      contentHash: "hash0",
      size: 10,
      root: "m",
      relPath: "copy/a.wav",
      path: "/m/copy/a.wav",
    }]);
  } finally {
    await store.close();
  }
  assert.deepEqual(await songIds(url), ["m:a.wav", "m:b.wav", "m:copy/a.wav"]);
  const v = await vectors(url);
  assert.deepEqual(v.get("m:copy/a.wav"), stored[0]);
  const { hits } = await similar({ query: "m:copy/a.wav", db: url, k: 2, verbose: false });
  assert.equal(hits[0].id, "m:a.wav");
  assert.ok(Math.abs(hits[0].score - 1) < 1e-9);
});

Deno.test("conformance: cleanup", async () => {
  await cluster.destroy();
  await Deno.remove(root, { recursive: true });
});
