import { assert, fixture, relativeError, slowTest } from "./helpers.ts";
import { run as makeTestWeights } from "../make_test_weights.ts";
import { run as parity } from "../parity.ts";
import { decodeNpz } from "../lib/util/npz.ts";
import { compareEmbeddings } from "../lib/pipeline/parity_report.ts";
import { bindWeights, readKerasLayers } from "../lib/model/keras_weights.ts";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { spectrogramPatch64 } from "../lib/frontend/cpu_spectrogram.ts";
import { naiveOpenL3 } from "./naive_openl3.ts";
import { chirpWindows } from "./reference_windows.ts";

const dir = await Deno.makeTempDir({ prefix: "openl3-parity-" });
const weights = `${dir}/random.h5`;
await makeTestWeights({ out: weights, seed: 9 });
const chirp = fixture("openl3_chirp_44k.wav");
const common = { weights, audio: chirp, modelsDir: dir, verbose: false };

Deno.test("parity: OpenL3's reference .npz files are read with their shapes and timestamps", async () => {
  const a = await decodeNpz(await Deno.readFile(fixture("openl3_chirp_44k_mel256_music_6144.npz")));
  assert.deepEqual(a.embedding.shape, [16, 6144]);
  assert.deepEqual(Array.from(a.timestamps.data), Array.from({ length: 16 }, (_, i) => i * 0.1));
  const b = await decodeNpz(
    await Deno.readFile(fixture("openl3_chirp_44k_linear_env_512_hop0.5_nocenter.npz")),
  );
  assert.deepEqual(b.embedding.shape, [3, 512]);
  assert.deepEqual(Array.from(b.timestamps.data), [0, 0.5, 1]);
});

slowTest(
  "parity: native and WASM both equal the float64 network on the chirp (mel256, 6144) to 1e-5",
  async () => {
    const out = `${dir}/native.npz`;
    const ref = fixture("openl3_chirp_44k_mel256_music_6144.npz");
    // against OpenL3's own figures random weights must fail, and the report says by how much
    const official = await parity({ ...common, reference: ref, embeddingSize: 6144, backend: "native", out });
    assert.deepEqual(official.shape, [16, 6144]);
    assert.ok(official.timestampsEqual, "same framing and timestamps as OpenL3");
    assert.ok(!official.passOpenL3 && official.maxAbs > 1e-3);
    // the computed .npz is OpenL3-style and the WASM backend reproduces it
    const written = await decodeNpz(await Deno.readFile(out));
    assert.deepEqual(written.embedding.shape, [16, 6144]);
    assert.equal(written.embedding.descr, "<f4");
    const wasmOut = `${dir}/wasm.npz`;
    const wasm = await parity({
      ...common,
      reference: out,
      embeddingSize: 6144,
      backend: "wasm",
      out: wasmOut,
    });
    // two float32 implementations summing 4 608-term dot products in other orders: float32 tolerance
    assert.ok(wasm.passFloat32, `native vs WASM: max |diff| ${wasm.maxAbs}`);
    // each against the independent float64 network on the float64 patches, windows 0 and 8
    const w = bindWeights(
      await readKerasLayers(await Deno.readFile(weights), weights),
      openl3Architecture("mel256", 6144),
      weights,
    );
    const windows = await chirpWindows();
    const wasmNpz = await decodeNpz(await Deno.readFile(wasmOut));
    for (const k of [0, 8]) {
      const expected = naiveOpenL3(spectrogramPatch64(windows[k], "mel256"), w);
      for (const [name, npz] of [["native", written], ["WASM", wasmNpz]] as const) {
        const row = npz.embedding.data.subarray(k * 6144, (k + 1) * 6144);
        const e = relativeError(row, expected);
        assert.ok(e <= 1e-5, `${name}, window ${k}: ${e} of the largest value off the float64 network`);
      }
    }
  },
);

Deno.test("parity: linear / 512 / hop 0.5 / no centring gives OpenL3's 3 windows and timestamps", async () => {
  const r = await parity({
    ...common,
    reference: fixture("openl3_chirp_44k_linear_env_512_hop0.5_nocenter.npz"),
    inputRepr: "linear",
    contentType: "env",
    embeddingSize: 512,
    hopSize: 0.5,
    center: false,
    backend: "native",
  });
  assert.deepEqual(r.shape, [3, 512]);
  assert.ok(r.timestampsEqual);
});

Deno.test("parity: the comparison is np.allclose at rtol = atol = 1e-5", () => {
  const ts = [0];
  const base = { embedding: [1, 100], timestamps: ts };
  assert.ok(compareEmbeddings({ embedding: [1 + 1.9e-5, 100 + 1e-3], timestamps: ts }, base, 2).passOpenL3);
  const r = compareEmbeddings({ embedding: [1 + 2.1e-5, 100], timestamps: ts }, base, 2);
  assert.ok(!r.passOpenL3 && r.passFloat32);
  assert.equal(r.worst.col, 0);
  assert.throws(() => compareEmbeddings({ embedding: [1], timestamps: ts }, base, 2), /shape mismatch/);
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
