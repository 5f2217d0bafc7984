/**
 * Caches and models are trusted only as far as they can be checked: a cached
 * model made from other weights (its sidecar rewritten to match) is rebuilt
 * from the weights asked for; a crafted `.onnx` that says "official" is not
 * recorded as official; a vector cache or a map cache whose numbers were
 * tampered with is rebuilt, never ranked or drawn.
 */
import { join } from "node:path";
import { assert, loadIndexOf } from "./helpers.ts";
import { convertedTestWeights } from "./test_model.ts";
import { loadModel } from "../lib/model/model_store.ts";
import { readOnnxMetadata } from "../lib/model/onnx_proto.ts";
import { bindWeights, readKerasFile } from "../lib/model/keras_weights.ts";
import { buildOpenL3Onnx } from "../lib/model/onnx_graph.ts";
import { openl3Architecture } from "../lib/model/architecture.ts";
import { sha256 } from "../lib/util/hash.ts";
import { Store } from "../lib/store/sqlite_store.ts";

import { decodeMap, encodeMap } from "../lib/analysis/collection_map.ts";
import { Rng } from "../lib/util/rng.ts";
import { run as similar } from "../similar.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-tampered-" });
const opts = { repr: "mel256", content: "music", embeddingSize: 512, verbose: false } as const;

Deno.test("a cached model made from other weights, its sidecar rewritten to match, is rebuilt from the asked weights", async () => {
  const models = join(root, "models");
  const mine = join(root, "mine.h5"), other = join(root, "other.h5");
  const a = await convertedTestWeights(mine, models, 1);
  const b = await convertedTestWeights(other, models, 2);
  // the attacker puts the other weights' model under my weights' cache name, with a matching sidecar
  await Deno.copyFile(b.cached!, a.cached!);
  await Deno.writeTextFile(`${a.cached!}.sha256`, `${await sha256(await Deno.readFile(a.cached!))}\n`);
  const again = await loadModel({ ...opts, weights: mine, modelsDir: models });
  assert.equal(again.weightsHash, a.weightsHash);
  assert.equal(readOnnxMetadata(again.onnx, "x").weights_sha256, a.weightsHash, "rebuilt from my weights");
  assert.deepEqual(again.onnx, a.onnx);
});

Deno.test("a crafted .onnx that says 'official' is recorded as custom", async () => {
  const w = join(root, "crafted.h5");
  await convertedTestWeights(w, join(root, "m2"), 3);
  const bytes = await Deno.readFile(w);
  const file = await readKerasFile(bytes, w);
  const onnx = buildOpenL3Onnx(bindWeights(file.layers, openl3Architecture("mel256", 512), w), {
    content_type: "music",
    weights_sha256: await sha256(bytes),
    weights_file: "openl3_audio_mel256_music-v0_4_0.h5.gz",
    weights_provenance: "official",
  });
  const path = join(root, "crafted.onnx");
  await Deno.writeFile(path, onnx);
  const m = await loadModel({ ...opts, weights: path, modelsDir: join(root, "empty") });
  assert.equal(m.provenance, "custom");
});

Deno.test("a tampered vector cache is rebuilt: no score above 1 is ever ranked", async () => {
  const db = join(root, "v.db");
  const store = Store.open(db);
  const rng = new Rng(4);
  for (let i = 0; i < 6; i++) {
    store.putVector(
      `s${i}`,
      Float64Array.from({ length: 512 }, () => rng.normal()),
    );
  }
  store.close();
  assert.equal((await loadIndexOf(db)).cached, false);
  assert.equal((await loadIndexOf(db)).cached, true);
  const cache = await Deno.readFile(`${db}.vectors-cache`);
  // scale the last row's first unit value by 1e31 (the last 512 float32 of the file)
  const view = new DataView(cache.buffer);
  const at = cache.length - 512 * 4;
  view.setFloat32(at, view.getFloat32(at, true) * 1e31, true);
  await Deno.writeFile(`${db}.vectors-cache`, cache);
  assert.equal((await loadIndexOf(db)).cached, false, "rebuilt");
  const { hits } = await similar({ query: "s0", db, k: 5, verbose: false });
  assert.ok(hits.every((h) => Math.abs(h.score) <= 1 + 1e-6), JSON.stringify(hits));
});

Deno.test("a map cache with positions that are not numbers is not used", () => {
  const map = {
    xy: new Float32Array([0, 1, 2, 3]),
    clusters: new Int32Array([0, 1]),
    method: "t-SNE",
    placed: 0,
  };
  const bytes = encodeMap(map, { databaseId: 1, version: 2, rows: 2 });
  assert.ok(decodeMap(bytes), "a sound cache is read");
  const bad = bytes.slice();
  const len = new DataView(bad.buffer).getUint32(0, true);
  new DataView(bad.buffer).setFloat32(4 + len + 4, NaN, true);
  assert.equal(decodeMap(bad), null);
});

Deno.test("tampered caches: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
