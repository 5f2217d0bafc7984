/**
 * `--precision int8` as users meet it: the quantized model and its calibration cached beside the converted
 * model (measured once per weights, rebuilt when damaged), an int8 `.onnx` refused without the flag, the
 * GPU backends refused in one line, and the flag through every `deno task` that takes it — `embed`,
 * `simple-embed`, `similar`, `parity` and `serve` — with the permissions `deno.json` gives them.
 */
import { join } from "node:path";
import { assert, slowTest } from "./helpers.ts";
import { writeRandomWeights } from "../lib/model/random_weights.ts";
import { calibrationPath, loadModel } from "../lib/model/model_store.ts";
import { readOnnxMetadata } from "../lib/model/onnx_proto.ts";
import { WeightsError } from "../lib/model/keras_weights.ts";
import { encodeMp3 } from "../lib/audio/mp3_encode.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { Store } from "../lib/store/sqlite_store.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-int8-" });
const weights = join(root, "w.h5"), models = join(root, "models");
await writeRandomWeights({ out: weights, seed: 8 });
const VARIANT = { repr: "mel256", content: "music", embeddingSize: 512 } as const;

/** A `deno task` as users run it: the permissions written in deno.json, from the repository's root. */
async function task(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const mtime = async (p: string) => (await Deno.stat(p)).mtime!.getTime();

slowTest(
  "loadModel --precision int8: calibrated once, cached by weights hash and calibration version, rebuilt when damaged",
  async () => {
    const first = await loadModel({
      ...VARIANT,
      weights,
      modelsDir: models,
      precision: "int8",
      verbose: false,
    });
    assert.equal(first.precision, "int8");
    assert.match(first.cached!, /openl3_mel256_music_512-[0-9a-f]{16}\.int8-c1\.onnx$/);
    const meta = readOnnxMetadata(first.onnx);
    assert.equal(meta.precision, "int8");
    assert.equal(meta.weights_sha256, first.weightsHash);
    assert.equal(meta.weights_provenance, "untrained");
    const calibration = calibrationPath(models, first);
    const saved = JSON.parse(await Deno.readTextFile(calibration));
    assert.equal(saved.version, 1);
    assert.equal(saved.ranges.length, 8);
    const [calibrated, built] = [await mtime(calibration), await mtime(first.cached!)];

    // again: the same bytes from the cache, nothing measured or written
    const again = await loadModel({
      ...VARIANT,
      weights,
      modelsDir: models,
      precision: "int8",
      verbose: false,
    });
    assert.deepEqual(again.onnx, first.onnx);
    assert.equal(await mtime(calibration), calibrated);
    assert.equal(await mtime(first.cached!), built);

    // the fp32 model is untouched by it, and is what fp32 loads
    const fp32 = await loadModel({ ...VARIANT, weights, modelsDir: models, verbose: false });
    assert.equal(fp32.precision, "fp32");
    assert.equal(readOnnxMetadata(fp32.onnx).precision, undefined);

    // a damaged int8 model is rebuilt from the cached calibration (not measured again), to the same bytes
    const bytes = await Deno.readFile(first.cached!);
    bytes[bytes.length >> 1] ^= 0xff;
    await Deno.writeFile(first.cached!, bytes);
    const repaired = await loadModel({
      ...VARIANT,
      weights,
      modelsDir: models,
      precision: "int8",
      verbose: false,
    });
    assert.deepEqual(repaired.onnx, first.onnx);
    assert.equal(await mtime(calibration), calibrated, "the calibration was not measured again");

    // an int8 .onnx given as weights: used with --precision int8, refused without
    const asWeights = await loadModel({
      ...VARIANT,
      weights: first.cached!,
      modelsDir: models,
      precision: "int8",
      verbose: false,
    });
    assert.equal(asWeights.precision, "int8");
    assert.equal(asWeights.weightsHash, first.weightsHash);
    await assert.rejects(
      () => loadModel({ ...VARIANT, weights: first.cached!, modelsDir: models, verbose: false }),
      (e: Error) =>
        e instanceof WeightsError && /this is an int8 model: pass --precision int8/.test(e.message),
    );
  },
);

Deno.test("--precision: a bad value and a GPU backend with int8 are usage errors, before any model is loaded", async () => {
  const dir = join(root, "usage");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(join(dir, "a.wav"), encodeWav([new Float32Array(16000)], 16000));
  const base = ["embed", dir, "--db", join(root, "usage.db"), "--models-dir", join(root, "no-models")];
  const bad = await task([...base, "--precision", "int4"]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /^error: --precision must be one of fp32, int8; got "int4"/);
  const gpu = await task([...base, "--precision", "int8", "--backend", "wgsl"]);
  assert.equal(gpu.code, 2, gpu.stderr);
  assert.match(
    gpu.stderr,
    /^error: --precision int8 runs on the CPU backends \(native, wasm\), not --backend wgsl/,
  );
  assert.equal(gpu.stderr.trim().split("\n").length, 1, gpu.stderr);
});

slowTest(
  "--precision int8 through deno task: embed, simple-embed, similar, parity, serve; one precision per database",
  async () => {
    const music = join(root, "music");
    await Deno.mkdir(music, { recursive: true });
    const tone = (f: number, seconds = 3) =>
      Float32Array.from({ length: 22050 * seconds }, (_, t) => 0.3 * Math.sin(2 * Math.PI * f * t / 22050));
    for (const [name, f] of [["low", 220], ["mid", 660], ["high", 2000]] as const) {
      await Deno.writeFile(join(music, `${name}.mp3`), encodeMp3([tone(f)], 22050));
    }
    const db = join(root, "int8.db");
    const common = ["--weights", weights, "--models-dir", models, "--device", "cpu", "--hop", "0.5"];
    const embed = await task(["embed", music, "--db", db, ...common, "--precision", "int8"]);
    assert.equal(embed.code, 0, embed.stderr);
    assert.match(embed.stderr, /network: +int8, native CPU/);
    const store = Store.open(db);
    const configs = store.storedConfigs();
    store.close();
    assert.deepEqual(configs.map((c) => c.precision), ["int8"]);

    // another precision is refused, nothing written; unset, the database's is adopted
    const fp32 = await task(["embed", music, "--db", db, ...common, "--precision", "fp32", "--force"]);
    assert.equal(fp32.code, 1, fp32.stderr);
    assert.match(
      fp32.stderr,
      /holds int8 embeddings; this run asks for fp32 embeddings: use another --db, or leave out --precision .*Nothing written/,
    );
    const adopted = await task([
      "embed",
      music,
      "--db",
      db,
      "--models-dir",
      models,
      "--device",
      "cpu",
      "--force",
    ]);
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.match(adopted.stderr, /network: +int8/);

    // similar NEWFILE embeds as the stored songs were: a copy of a stored song scores 1 against it
    const query = join(root, "query-mid.mp3");
    await Deno.copyFile(join(music, "mid.mp3"), query);
    const near = await task([
      "similar",
      query,
      "--db",
      db,
      "--models-dir",
      models,
      "--device",
      "cpu",
      "-k",
      "3",
    ]);
    assert.equal(near.code, 0, near.stderr);
    const top = near.stdout.trim().split("\n")[0];
    assert.match(top, /^\s*1\s+1\.0000\s+.*mid\.mp3$/, near.stdout);
    const mixed = await task(["similar", query, "--db", db, "--models-dir", models, "--precision", "fp32"]);
    assert.equal(mixed.code, 1, mixed.stderr);
    assert.match(mixed.stderr, /embedded with the int8 network, this is the fp32 one/);

    // simple-embed into a database of its own
    const simple = await task([
      "simple-embed",
      "--previews",
      music,
      "--db",
      join(root, "simple.db"),
      "--weights",
      weights,
      "--models-dir",
      models,
      "--device",
      "cpu",
      "--precision",
      "int8",
      "--quiet",
    ]);
    assert.equal(simple.code, 0, simple.stderr);
    const s2 = Store.open(join(root, "simple.db"));
    assert.deepEqual(s2.storedConfigs().map((c) => c.precision), ["int8"]);
    s2.close();

    // parity: the int8 network against the fp32 one's .npz passes its gate, not OpenL3's tolerance
    const ref = join(root, "ref.npz");
    const missing = await task([
      "parity",
      "--audio",
      join(music, "mid.mp3"),
      "--reference",
      join(root, "missing.npz"),
      ...common,
    ]);
    assert.equal(missing.code, 1, "a missing reference is an error");
    const write = await task([
      "embed",
      join(music, "mid.mp3"),
      "--db",
      join(root, "npz.db"),
      "-o",
      join(root, "npz"),
      ...common,
    ]);
    assert.equal(write.code, 0, write.stderr);
    await Deno.rename(join(root, "npz", "mid.npz"), ref);
    const parity = await task([
      "parity",
      "--audio",
      join(music, "mid.mp3"),
      "--reference",
      ref,
      ...common,
      "--precision",
      "int8",
    ]);
    assert.equal(parity.code, 0, parity.stdout + parity.stderr);
    assert.match(parity.stdout, /OpenL3 tolerance .*: FAIL/);
    assert.match(parity.stdout, /int8 network gate \(median per-window cosine ≥ 0\.999\): PASS/);
    const cosine = Number(/cosine median ([0-9.]+)/.exec(parity.stdout)![1]);
    assert.ok(cosine >= 0.999 && cosine < 1, parity.stdout);

    // serve: an upload is embedded with the int8 network (a copy of a stored song scores 1); the page is not
    // offered the model (it cannot run int8); --precision fp32 is refused for uploads in one line
    for (const precision of ["int8", "fp32"]) {
      const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (probe.addr as Deno.NetAddr).port;
      probe.close();
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "task",
          "--quiet",
          "serve",
          "--db",
          db,
          "--port",
          String(port),
          "--models-dir",
          models,
          "--device",
          "cpu",
          "--precision",
          precision,
        ],
        cwd: new URL("..", import.meta.url).pathname,
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        const url = `http://127.0.0.1:${port}`;
        const until = Date.now() + 120_000;
        for (;;) {
          const s = await fetch(`${url}/api/status`).then((r) => r.json(), () => null);
          if (s?.ready) break;
          if (Date.now() > until) throw new Error("serve did not start");
          await new Promise((r) => setTimeout(r, 200));
        }
        const inPage = await (await fetch(`${url}/api/in-page`)).json();
        assert.equal(inPage.config, null);
        const r = await fetch(`${url}/api/embed`, {
          method: "POST",
          headers: { "X-Filename": "mid.mp3" },
          body: await Deno.readFile(query),
        });
        const lines = (await r.text()).trim().split("\n").map((l) => JSON.parse(l));
        const last = lines.at(-1);
        if (precision === "int8") {
          assert.ok(last.result, JSON.stringify(last));
          assert.ok(last.result.neighbours[0].score > 0.99999, JSON.stringify(last.result.neighbours[0]));
        } else {
          assert.match(last.error, /embedded with the int8 network, this is the fp32 one/);
        }
      } finally {
        child.kill("SIGTERM");
        await child.status;
      }
    }
  },
);

Deno.test("int8 cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
