import { assert, assertAllClose } from "./helpers.ts";
import { run as compare } from "../compare_embeddings.ts";
import { run as similar } from "../similar.ts";
import { Store } from "../lib/store/sqlite_store.ts";
import { cosineSimilarity, euclideanDistance } from "../lib/util/vector_math.ts";
import { validateSyntheticSet } from "../lib/analysis/synthetic_claims.ts";
import { rasterize } from "../lib/analysis/plot.ts";
import { tsneMap } from "../lib/analysis/tsne_map.ts";
import { VectorIndex } from "../lib/analysis/vector_index.ts";
import { Rng } from "../lib/util/rng.ts";
import { TEST_SOUNDS } from "../lib/audio/synthetic_set.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-compare-" });
const NAMES = TEST_SOUNDS.map((s) => s.name);

/** Vectors around group centres: chords near one direction, noises near another, tones apart. */
function syntheticVectors(noise: number, seed = 1): Map<string, Float64Array> {
  const rng = new Rng(seed);
  const dir = (k: number) => Float64Array.from({ length: 64 }, (_, d) => (d === k ? 10 : 0));
  const centre: Record<string, Float64Array> = {
    c_major_chord: dir(0),
    g_major_chord: dir(0),
    f_major_chord: dir(0),
    white_noise: dir(1),
    pink_noise: dir(1),
    bass_sound: dir(2),
    bell_sound: dir(3),
    complex_harmonic: dir(4),
  };
  return new Map(NAMES.map((n) => [n, centre[n].map((v) => v + 1 + rng.normal(0, noise))]));
}

function fillDb(path: string, vectors: Map<string, ArrayLike<number>>) {
  const s = Store.open(path);
  for (const [id, v] of vectors) s.putVector(id, v);
  s.close();
}

Deno.test("compare: similarities and neighbour lists equal a direct float64 computation (1e-9)", async () => {
  const db = `${root}/a.db`;
  const vectors = syntheticVectors(0.3);
  fillDb(db, vectors);
  const out = `${root}/out_a`;
  const r = await compare({ db, outDir: out, png: `${out}/map.png`, print: false });
  const ids = r.ids;
  for (let i = 0; i < ids.length; i++) {
    for (let j = 0; j < ids.length; j++) {
      const a = vectors.get(ids[i])!, b = vectors.get(ids[j])!;
      let ab = 0, aa = 0, bb = 0, dd = 0;
      for (let d = 0; d < a.length; d++) {
        [ab, aa, bb, dd] = [ab + a[d] * b[d], aa + a[d] ** 2, bb + b[d] ** 2, dd + (a[d] - b[d]) ** 2];
      }
      assert.ok(Math.abs(r.cosine[i][j] - ab / Math.sqrt(aa * bb)) < 1e-9);
      assert.ok(Math.abs(r.euclidean[i][j] - Math.sqrt(dd)) < 1e-9);
    }
  }
  // the CSV holds the same numbers, and the neighbour list is the direct ranking
  const csv = (await Deno.readTextFile(`${out}/cosine_similarity.csv`)).trim().split("\n");
  assert.deepEqual(csv[0].split(",").slice(1), ids);
  assertAllClose(csv[1].split(",").slice(1).map(Number), r.cosine[0], 1e-12);
  const nn = (await Deno.readTextFile(`${out}/nearest_neighbours.csv`)).trim().split("\n").slice(1)
    .filter((l) => l.startsWith(`"${ids[0]}"`)).map((l) => l.split(",")[2].replace(/"/g, ""));
  const direct = ids.slice(1).map((id) => ({
    id,
    s: cosineSimilarity(vectors.get(ids[0])!, vectors.get(id)!),
  }))
    .sort((x, y) => y.s - x.s).map((x) => x.id);
  assert.deepEqual(nn, direct);
  assert.match(r.report, /Most similar pairs/);
});

Deno.test("compare: the validation report holds on vectors built to satisfy it, and fails on each claim's counterexample", () => {
  const good = syntheticVectors(0.1);
  const ids = [...good.keys()];
  const claims = validateSyntheticSet({ ids, vectors: ids.map((id) => good.get(id)!) })!;
  assert.deepEqual(claims.map((c) => c.holds), [true, true, true]);
  // 1: one chord sits with the noises
  const bad1 = new Map(good);
  bad1.set("f_major_chord", good.get("white_noise")!.map((v) => v * 1.01));
  // 2: white noise sits with the chords
  const bad2 = new Map(good);
  bad2.set("white_noise", good.get("c_major_chord")!.map((v) => v * 0.99));
  // 3: bass and bell coincide
  const bad3 = new Map(good);
  bad3.set("bell_sound", good.get("bass_sound")!.slice());
  for (const [which, m] of [[0, bad1], [1, bad2], [2, bad3]] as const) {
    const c = validateSyntheticSet({ ids, vectors: ids.map((id) => m.get(id)!) })!;
    assert.equal(c[which].holds, false, `claim ${which + 1} should fail: ${c[which].figures}`);
  }
  assert.equal(
    validateSyntheticSet({ ids: ids.slice(1), vectors: ids.slice(1).map((id) => good.get(id)!) }),
    null,
  );
});

Deno.test("compare: the SVG has one mark per track and the PNG has the stated size and is not blank", async () => {
  const db = `${root}/b.db`;
  fillDb(db, syntheticVectors(0.3, 2));
  const out = `${root}/out_b`;
  await compare({ db, outDir: out, png: `${out}/embedding_visualization.png`, print: false });
  const svg = await Deno.readTextFile(`${out}/embedding_visualization.svg`);
  assert.equal(svg.match(/class="point"/g)?.length, 8);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/<svg/g)?.length, svg.match(/<\/svg>/g)?.length);
  const png = await Deno.readFile(`${out}/embedding_visualization.png`);
  assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  assert.equal(view.getUint32(16), 1500, "width");
  assert.equal(view.getUint32(20), 1140, "height");
  const raster = await rasterize(svg, 1500);
  let coloured = 0;
  for (let i = 0; i < raster.pixels.length; i += 4) {
    const [r, g, b] = [raster.pixels[i], raster.pixels[i + 1], raster.pixels[i + 2]];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
  }
  assert.ok(coloured > 8 * 100, `${coloured} coloured pixels: the points are drawn`);
  const heat = await Deno.readTextFile(`${out}/similarity_heatmap.svg`);
  assert.equal(heat.match(/class="cell"/g)?.length, 64);
});

Deno.test("t-SNE keeps near neighbours near (clustered vectors) and is reproducible", () => {
  const rng = new Rng(5);
  const vectors: Float64Array[] = [];
  const label: number[] = [];
  for (let c = 0; c < 4; c++) {
    const centre = Float64Array.from({ length: 512 }, () => rng.normal(0, 1));
    for (let i = 0; i < 15; i++) {
      vectors.push(centre.map((v) => v + rng.normal(0, 0.2)));
      label.push(c);
    }
  }
  const a = tsneMap(vectors, { seed: 3 });
  const b = tsneMap(vectors, { seed: 3 });
  assert.deepEqual(a.points, b.points);
  assert.match(a.note ?? "", /PCA to 50 dimensions/);
  let kept = 0;
  a.points.forEach((p, i) => {
    let best = -1, bestD = Infinity;
    a.points.forEach((q, j) => {
      const d = (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2;
      if (j !== i && d < bestD) [best, bestD] = [j, d];
    });
    if (label[best] === label[i]) kept++;
  });
  assert.ok(kept / vectors.length >= 0.95, `${kept}/${vectors.length} keep a same-cluster nearest neighbour`);
  const capped = tsneMap(vectors, { seed: 3, maxPoints: 20 });
  assert.equal(capped.points.length, 20);
  assert.match(capped.note!, /20 of 60 tracks/);
});

Deno.test("similar: exact search equals a direct ranking, for stored ids and both metrics", async () => {
  const rng = new Rng(9);
  const vectors = new Map(
    Array.from({ length: 200 }, (_, i) => [`s${i}`, Float64Array.from({ length: 32 }, () => rng.normal())]),
  );
  const db = `${root}/c.db`;
  fillDb(db, vectors);
  for (const metric of ["cosine", "euclidean"] as const) {
    const { hits } = await similar({ query: "s7", k: 5, metric, db, verbose: false });
    const f = metric === "cosine" ? cosineSimilarity : euclideanDistance;
    const direct = [...vectors].filter(([id]) => id !== "s7").map(([id, v]) => ({
      id,
      s: f(vectors.get("s7")!, v),
    }))
      .sort((x, y) => (metric === "cosine" ? y.s - x.s : x.s - y.s)).slice(0, 5);
    assert.deepEqual(hits.map((h) => h.id), direct.map((d) => d.id));
    assertAllClose(hits.map((h) => h.score), direct.map((d) => d.s), 1e-5);
  }
  // the index is cached beside the database, and a new vector makes the cache stale
  assert.ok(Deno.statSync(`${db}.vectors-cache`).isFile);
  const twin = Float64Array.from(vectors.get("s7")!, (x) => x * 2);
  fillDb(db, new Map([["s7_twin", twin]]));
  const again = await similar({ query: "s7", k: 1, db, verbose: false });
  assert.equal(again.hits[0].id, "s7_twin");
  assert.ok(Math.abs(again.hits[0].score - 1) < 1e-6);
  await assert.rejects(() => similar({ query: "nope", db, verbose: false }), /neither a stored song id/);
  assert.throws(() => VectorIndex.from(vectors).search(new Float64Array(3), 1), /query has 3 values/);
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
