import { assert, assertRejects } from "../../tests/helpers.ts";
import { writeRandomWeights as makeTestWeights } from "./random_weights.ts";
import { bindWeights, readKerasLayers, WeightsError } from "./keras_weights.ts";
import { openl3Architecture, storedValueCount } from "./architecture.ts";
import { fetchOfficialWeights, loadModel, ModelFetchError, officialWeightsName } from "./model_store.ts";
import { readOnnxMetadata } from "./onnx_proto.ts";
import { gitBlobId } from "../util/hash.ts";
import { createEmbeddingSession, probePatches } from "./inference.ts";
import { OpenL3Error } from "../util/errors.ts";

const dir = await Deno.makeTempDir({ prefix: "openl3-models-" });
const full = `${dir}/random_full.h5`;
await makeTestWeights({ out: full, seed: 1 });
const fullModel = `${dir}/random_model_layout.h5.gz`;
await makeTestWeights({ out: fullModel, seed: 2, layout: "model" });

Deno.test("git blob id is SHA-1 of 'blob <size>\\0' + bytes (git hash-object)", async () => {
  // `printf 'hello\n' | git hash-object --stdin` and `git hash-object /dev/null`
  assert.equal(
    await gitBlobId(new TextEncoder().encode("hello\n")),
    "ce013625030ba8dba906f756967f9e9ca394464a",
  );
  assert.equal(await gitBlobId(new Uint8Array(0)), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
});

Deno.test("generated weights: official layout, 4 689 860 values, names differ between files", async () => {
  const a = await readKerasLayers(await Deno.readFile(full), full);
  const b = await readKerasLayers(await Deno.readFile(fullModel), fullModel); // gzip + full-model layout
  assert.equal(a.length, 16);
  assert.equal(b.length, 16);
  let values = 0;
  for (const l of a) for (const x of l.arrays) values += x.data.length;
  assert.equal(values, 4_689_860);
  assert.equal(storedValueCount(openl3Architecture("linear", 6144)), 4_689_860);
  assert.notEqual(a[1].name, b[1].name, "Keras auto-numbering differs");
  assert.deepEqual(a[1].arrays.map((x) => x.shape), [[3, 3, 1, 64], [64]]);
  assert.match(a[1].arrays[0].name, /^conv2d_\d+\/kernel:0$/);
  assert.deepEqual(a[15].arrays[0].shape, [3, 3, 512, 512]);
  assert.equal(a[15].name, "audio_embedding_layer");
});

Deno.test("every variant converts and runs: 512 is the max of the twelve 512-blocks of 6144", async () => {
  for (const repr of ["mel256", "mel128", "linear"] as const) {
    const outs: Float32Array[] = [];
    for (const size of [512, 6144] as const) {
      const m = await loadModel({
        repr,
        content: "music",
        embeddingSize: size,
        weights: full,
        modelsDir: dir,
        verbose: false,
      });
      const meta = readOnnxMetadata(m.onnx);
      assert.equal(meta.input_repr, repr);
      assert.equal(meta.embedding_size, String(size));
      const arch = openl3Architecture(repr, size);
      const s = await createEmbeddingSession(m.onnx, {
        backend: "native",
        input: arch.input,
        outputSize: size,
      });
      outs.push(await s.run(probePatches(1, arch.input[0], arch.input[1], 4), 1));
      await s.release();
    }
    const [e512, e6144] = outs;
    assert.equal(e512.length, 512);
    assert.equal(e6144.length, 6144);
    for (let ch = 0; ch < 512; ch++) {
      let m = -Infinity;
      for (let k = 0; k < 12; k++) m = Math.max(m, e6144[k * 512 + ch]);
      assert.ok(Math.abs(m - e512[ch]) <= 1e-5 * Math.max(1, Math.abs(m)), `${repr} channel ${ch}`);
    }
  }
});

Deno.test("converted models are cached by weights hash and variant, and reused", async () => {
  const opts = {
    repr: "mel128" as const,
    content: "env" as const,
    embeddingSize: 512 as const,
    modelsDir: dir,
  };
  const a = await loadModel({ ...opts, weights: full, verbose: false });
  assert.ok(a.cached && a.cached.includes(a.weightsHash.slice(0, 16)), String(a.cached));
  const stat1 = await Deno.stat(a.cached!);
  const b = await loadModel({ ...opts, weights: full, verbose: false });
  assert.equal(b.cached, a.cached);
  assert.equal((await Deno.stat(b.cached!)).mtime?.getTime(), stat1.mtime?.getTime(), "not rewritten");
  assert.deepEqual(b.onnx, a.onnx);
  // the converted .onnx loads directly, and refuses another variant
  const c = await loadModel({ ...opts, weights: a.cached, verbose: false });
  assert.equal(c.weightsHash, a.weightsHash);
  await assertRejects(
    () => loadModel({ ...opts, repr: "linear", weights: a.cached, verbose: false }),
    WeightsError,
    /this model is mel128\/512, but linear\/512 was asked for/,
  );
});

Deno.test("corrupt, truncated and wrong-variant weights give clear errors", async () => {
  const bytes = await Deno.readFile(full);
  const cases: [string, Uint8Array, RegExp][] = [
    ["garbage.h5", new TextEncoder().encode("this is not HDF5 at all"), /not an HDF5 file/],
    ["truncated.h5", bytes.subarray(0, Math.floor(bytes.length / 3)), /cannot be (opened|read)|truncated/],
    ["truncated.h5.gz", (await Deno.readFile(fullModel)).subarray(0, 5000), /corrupt or truncated gzip/],
  ];
  for (const [name, data, pattern] of cases) {
    const p = `${dir}/${name}`;
    await Deno.writeFile(p, data);
    const e = await assertRejects(
      () =>
        loadModel({
          repr: "mel256",
          content: "music",
          embeddingSize: 512,
          weights: p,
          modelsDir: dir,
          verbose: false,
        }),
      OpenL3Error,
      pattern,
    );
    assert.ok(e.message.includes(p), e.message);
  }
  // reduced widths: the first mismatching layer and array are named
  const small = `${dir}/small.h5`;
  await makeTestWeights({ out: small, seed: 5, widths: [4, 8, 8, 12] });
  const layers = await readKerasLayers(await Deno.readFile(small), small);
  assert.throws(
    () => bindWeights(layers, openl3Architecture("mel256", 512), small),
    /layer 1 'conv2d_\d+' array 'conv2d_\d+\/kernel:0' has shape \[3,3,1,4\], expected \[3,3,1,64\]/,
  );
  assert.throws(
    () => bindWeights(layers.slice(0, 15), openl3Architecture("mel256", 512), small),
    /15 layers carry weights/,
  );
  // an official file name for another variant
  const wrong = `${dir}/${officialWeightsName("linear", "env")}`;
  await Deno.copyFile(fullModel, wrong);
  await assertRejects(
    () =>
      loadModel({
        repr: "mel256",
        content: "music",
        embeddingSize: 512,
        weights: wrong,
        modelsDir: dir,
        verbose: false,
      }),
    WeightsError,
    /these are the linear\/env weights, but mel256\/music was asked for/,
  );
});

Deno.test("download: the blob id is checked before anything is stored; offline says what to put where", async () => {
  const genuine = await Deno.readFile(fullModel);
  const name = officialWeightsName("mel128", "music");
  const blobIds = { [name]: await gitBlobId(genuine) };
  let body = genuine;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => new Response(body));
  const base = `http://127.0.0.1:${server.addr.port}/`;
  const store = await Deno.makeTempDir();
  try {
    const seen: number[] = [];
    const path = await fetchOfficialWeights({
      repr: "mel128",
      content: "music",
      modelsDir: store,
      baseUrl: base,
      blobIds,
      onProgress: (p) => seen.push(p.received),
    });
    assert.deepEqual(await Deno.readFile(path), genuine);
    assert.equal(seen.at(-1), genuine.length);
    // tampered: one byte changed
    body = genuine.slice();
    body[1000] ^= 0xff;
    const other = await Deno.makeTempDir();
    await assertRejects(
      () =>
        fetchOfficialWeights({ repr: "mel128", content: "music", modelsDir: other, baseUrl: base, blobIds }),
      ModelFetchError,
      /failed the integrity check: git blob id [0-9a-f]{40}, expected [0-9a-f]{40}/,
    );
    assert.deepEqual([...Deno.readDirSync(other)], [], "nothing stored");
    // loadModel downloads on first use when the weights are missing
    body = genuine;
    const m = await loadModel({
      repr: "mel128",
      content: "music",
      embeddingSize: 512,
      modelsDir: other,
      baseUrl: base,
      blobIds,
      verbose: false,
    });
    assert.equal(m.source, `${other}/${name}`);
  } finally {
    await server.shutdown();
  }
  // nothing listens here any more: the message names the file and where to put it
  await assertRejects(
    () =>
      loadModel({
        repr: "mel128",
        content: "music",
        embeddingSize: 512,
        modelsDir: store + "/x",
        baseUrl: base,
        verbose: false,
      }),
    ModelFetchError,
    new RegExp(`cannot download ${name}.*put it at ${store}/x/${name}, or pass --weights PATH`),
  );
  await assertRejects(
    () =>
      loadModel({
        repr: "mel128",
        content: "env",
        embeddingSize: 512,
        modelsDir: store,
        download: false,
        verbose: false,
      }),
    ModelFetchError,
    /weights not found: put openl3_audio_mel128_env-v0_4_0.h5.gz/,
  );
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
