/**
 * The first hour, as a new user types the commands: the next step is always named, nothing is silent,
 * nothing is redone. `simple-embed` skips what is unchanged and says which weights it found; `embed`
 * without `--db` will not mix a collection into the demo's database; `similar` knows a song stored by its
 * file name from its path, and shows progress while it embeds a new file; a run asking for another
 * configuration is refused before any work, the difference first; progress in a log is lines, never
 * carriage returns; the explorer refuses a text file before it loads a model.
 */
import { join } from "node:path";
import { assert, denoTask, slowTest } from "./helpers.ts";
import { convertedTestWeights } from "./test_model.ts";
import { encodeMp3 } from "../lib/audio/mp3_encode.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { fetchOfficialWeights } from "../lib/model/model_store.ts";
import { run as serve } from "../serve.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-first-hour-" });
const weights = join(root, "w.h5"), models = join(root, "models");
await convertedTestWeights(weights, models, 6);
const previews = join(root, "previews");
await Deno.mkdir(previews);
const tone = (f: number, sr = 22050) =>
  Float32Array.from({ length: sr * 2 }, (_, t) => 0.3 * Math.sin(2 * Math.PI * f * t / sr));
for (const [name, f] of [["bell_sound", 880], ["low_hum", 110], ["mid_tone", 440]] as const) {
  await Deno.writeFile(join(previews, `${name}.mp3`), encodeMp3([tone(f)], 22050));
}
const db = join(root, "songs.db");
const script = (name: string) => new URL(`../${name}`, import.meta.url).pathname;

Deno.test("offline, the download's message names the demo that works here", async () => {
  await assert.rejects(
    () =>
      fetchOfficialWeights({
        repr: "mel256",
        content: "music",
        modelsDir: join(root, "none"),
        baseUrl: "http://127.0.0.1:9/",
      }),
    /the whole demo offline: deno task demo-test-weights/,
  );
});

Deno.test("simple-embed: a rerun skips the unchanged files and says which weights it found, and why", async () => {
  const first = await denoTask([
    "simple-embed",
    "--previews",
    previews,
    "--db",
    db,
    "--weights",
    weights,
    "--models-dir",
    models,
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /3 embedded, 0 skipped/);
  const again = await denoTask(["simple-embed", "--previews", previews, "--db", db, "--models-dir", models]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 embedded, 3 skipped/);
  assert.match(
    again.stderr,
    /note: weights .*\.(h5|onnx): .*songs\.db's songs were embedded with them \(UNTRAINED test weights, found by the hash it recorded\)/,
  );
});

slowTest(
  "embed without --db will not mix a collection into the demo's database (simple-embed's file-name ids)",
  async () => {
    const cwd = join(root, "cwd");
    await Deno.mkdir(join(cwd, "metadata"), { recursive: true });
    await Deno.copyFile(db, join(cwd, "metadata", "songs.db"));
    const mine = join(root, "mine");
    await Deno.mkdir(mine);
    await Deno.writeFile(join(mine, "song.wav"), encodeWav([tone(300, 16000)], 16000));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script("embed.ts"), mine, "--weights", weights, "--models-dir", models],
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.match(
      stderr,
      /^error: metadata\/songs\.db holds 3 songs of the demo .*Give --db PATH for your collection \(say --db metadata\/music\.db\)/,
    );
    assert.equal(stderr.trim().split("\n").length, 1);
  },
);

Deno.test("similar: a path that names a song stored by its file name is that song (not embedded again)", async () => {
  const r = await denoTask(["similar", join(previews, "bell_sound.mp3"), "--db", db, "--models-dir", models]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /embedding/);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 2, "the two other songs: not bell_sound itself");
  assert.ok(!lines.some((l) => /bell_sound/.test(l)));
});

Deno.test("similar NEWFILE says what it does while it embeds, with progress", async () => {
  const fresh = join(root, "fresh.wav");
  await Deno.writeFile(fresh, encodeWav([tone(660, 16000)], 16000));
  const r = await denoTask([
    "similar",
    fresh,
    "--db",
    db,
    "--models-dir",
    models,
    "--backend",
    "native",
    "--device",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /embedding .*fresh\.wav the way the stored songs were \(it is not stored\)…/);
  assert.match(r.stderr, /embedding: 100% · \d+ s/);
  assert.ok(!r.stderr.includes("\r"), "lines in a log, no carriage returns");
});

slowTest(
  "a run of another configuration is refused before any work (no calibration), the difference first",
  async () => {
    const r = await denoTask([
      "embed",
      previews,
      "--db",
      db,
      "--models-dir",
      join(root, "fresh-models"),
      "--weights",
      weights,
      "--precision",
      "int8",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^error: .*songs\.db holds fp32 embeddings; this run asks for int8 embeddings: use another --db, or leave out --precision/,
    );
    assert.doesNotMatch(r.stderr, /calibrating/);
  },
);

slowTest(
  "progress in a log: lines now and then, never a carriage return (the int8 calibration included)",
  async () => {
    const r = await denoTask([
      "embed",
      previews,
      "--db",
      join(root, "int8.db"),
      "--models-dir",
      join(root, "int8-models"),
      "--weights",
      weights,
      "--precision",
      "int8",
      "--hop",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /calibrating the int8 network \(once for these weights\): 77\/77 windows, [\d.]+ s\n/,
    );
    assert.ok(!r.stderr.includes("\r"), JSON.stringify(r.stderr.slice(0, 300)));
  },
);

Deno.test("explorer: a text file dropped is refused before any model is loaded", async () => {
  const running = await serve({ db, port: 0, verbose: false, model: { modelsDir: join(root, "no-models") } });
  try {
    const res = await fetch(`${running.url}api/embed`, {
      method: "POST",
      body: "just some notes\n",
      headers: { "x-filename": "notes.txt" },
    });
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.slice(0, -1), [{ stage: "received" }], "no model loaded");
    assert.match(lines.at(-1).error, /^notes\.txt: not an audio file this tool reads/);
  } finally {
    await running.shutdown();
  }
});

Deno.test("first hour: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
