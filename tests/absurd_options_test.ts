/**
 * Absurd values are one line each, before any work, on the command line and in the library: every numeric
 * option has a documented range (`OPTION_RANGES`); a hop of 1 000 s costs no more memory than one of 0.1 s;
 * the library refuses a batch of a million windows, a rate of 1e-300 Hz, a sparse list of clips, a closed
 * model, a NaN sample (naming its index) and a suffix that would write outside the output folder.
 */
import { join } from "node:path";
import { assert, denoTask } from "./helpers.ts";
import { convertedTestWeights } from "./test_model.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { planFrames, WindowFramer } from "../lib/audio/frame.ts";
import { getAudioEmbedding, loadAudioEmbeddingModel, OpenL3Error, processAudioFile } from "../mod.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-absurd-" });
const weights = join(root, "w.h5"), models = join(root, "models");
await convertedTestWeights(weights, models, 3);
const wav = join(root, "a.wav");
await Deno.writeFile(
  wav,
  encodeWav([Float32Array.from({ length: 48000 }, (_, i) => Math.sin(i / 9) / 3)], 16000),
);

Deno.test("embed: absurd values are one usage line (exit 2) before any work, naming the range", async () => {
  const cores = navigator.hardwareConcurrency ?? 1;
  const cases: [string[], RegExp][] = [
    [["--hop", "1e308"], /--hop must be at most 3600 seconds, got 1e\+308/],
    [["--batch-size", "1e9"], /--batch-size must be from 1 to 1024, got 1000000000/],
    [["--threads", String(cores + 1)], new RegExp(`--threads must be from 1 to ${cores}, got ${cores + 1}`)],
    [["--workers", "40"], /--workers must be from 0 to 16, got 40/],
    [["--max-duration", "1e12"], /--max-duration must be from 1 to 86400/],
    [["-o", join(root, "npz"), "--suffix", "a/b"], /--suffix must not hold a path separator/],
  ];
  for (const [args, message] of cases) {
    const db = join(root, `never-${args[0]}.db`);
    const r = await denoTask([
      "embed",
      wav,
      "--db",
      db,
      "--weights",
      weights,
      "--models-dir",
      models,
      ...args,
    ]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.equal(await Deno.stat(db).then(() => true, () => false), false, "nothing written");
  }
  assert.equal(await Deno.stat(join(root, "npz")).then(() => true, () => false), false);
});

Deno.test("framing: a hop of 1 000 s holds two windows and a batch, not (batch − 1) × hop samples", () => {
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;
  const before = rss();
  const framer = new WindowFramer({ hopSize: 1000, center: true }, 8);
  const chunk = new Float64Array(48000);
  let windows = 0;
  for (let s = 0; s < 3; s++) for (const b of framer.push(chunk)) windows += b.count;
  for (const b of framer.end().batches) windows += b.count;
  assert.equal(windows, planFrames(3 * 48000, { hopSize: 1000, center: true }).windows);
  assert.ok(rss() - before < 100 << 20, `framing took ${((rss() - before) / 2 ** 20).toFixed(0)} MiB`);
});

Deno.test("library: absurd arguments are OpenL3Error, before a model is loaded or anything is written", async () => {
  const clip = Float32Array.from({ length: 16000 }, (_, i) => Math.sin(i / 5));
  const cases: [() => Promise<unknown>, RegExp][] = [
    [
      () => getAudioEmbedding(clip, 16000, { batchSize: 1e6 }),
      /Invalid batch size 1000000: a whole number from 1 to 1024/,
    ],
    [() => getAudioEmbedding(clip, 1e-300), /Invalid sample rate 1e-300: from 1 Hz to 10 MHz/],
    [() => getAudioEmbedding(clip, 16000, { hopSize: 1e308 }), /Invalid hop size .*at most 3600 seconds/],
    // deno-lint-ignore no-sparse-arrays
    [() => getAudioEmbedding([clip, , clip] as Float32Array[], 16000), /holding undefined/],
    [
      () => getAudioEmbedding(Float32Array.of(0, 0.5, NaN, 0.2), 16000),
      /not a finite number: NaN at index 2/,
    ],
    [
      () => getAudioEmbedding([clip, Float64Array.of(1, Infinity)], 16000),
      /clip 1 holds a sample .*Infinity at index 1/,
    ],
    [
      () => processAudioFile(wav, { suffix: "../escape", outputDir: join(root, "out") }),
      /--suffix must not hold a path separator/,
    ],
  ];
  for (const [call, message] of cases) {
    await call().then(
      () => assert.fail(`no error: ${message}`),
      (e) => {
        assert.ok(e instanceof OpenL3Error, `${e}`);
        assert.match((e as Error).message, message);
      },
    );
  }
  assert.equal(await Deno.stat(join(root, "out")).then(() => true, () => false), false);
  const model = await loadAudioEmbeddingModel({
    weights,
    modelsDir: models,
    embeddingSize: 512,
    backend: "native",
    frontend: "cpu",
  });
  await model.close();
  await assert.rejects(() => getAudioEmbedding(clip, 16000, { model }), /the model was closed/);
  await model.close(); // twice: nothing happens
});

Deno.test("a link to / or into /proc in a collection is passed over, said in one line; other links are followed", async () => {
  const { findAudioFiles } = await import("../lib/pipeline/discovery.ts");
  const music = join(root, "linked");
  const elsewhere = join(root, "elsewhere");
  await Deno.mkdir(music);
  await Deno.mkdir(elsewhere);
  await Deno.copyFile(wav, join(music, "here.wav"));
  await Deno.copyFile(wav, join(elsewhere, "there.wav"));
  await Deno.symlink("/", join(music, "everything"));
  await Deno.symlink("/proc/self", join(music, "me"));
  await Deno.symlink("..", join(music, "up"));
  await Deno.symlink(elsewhere, join(music, "nas"));
  const found = await findAudioFiles([music]);
  assert.deepEqual(found.files.map((f) => f.split("/").pop()).sort(), ["here.wav", "there.wav"]);
  const skipped = new Map(found.linksSkipped.map((l) => [l.path.split("/").pop(), l.why]));
  assert.match(skipped.get("everything")!, /above the collection/);
  assert.match(skipped.get("me")!, /into \/proc, the system's/);
  assert.match(skipped.get("up")!, /above the collection/);
  assert.ok(!skipped.has("nas"));
  const r = await denoTask([
    "embed",
    music,
    "--db",
    join(root, "linked.db"),
    "--weights",
    weights,
    "--models-dir",
    models,
    "--hop",
    "1",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /note: passed over the link .*everything → \/: it leads to the collection's folder or above/,
  );
});

Deno.test("absurd options: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
