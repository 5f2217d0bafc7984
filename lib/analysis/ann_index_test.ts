import { assert } from "../../tests/helpers.ts";
import { Rng } from "../util/rng.ts";
import { VectorIndex } from "./vector_index.ts";
import { QuantizedIndex } from "./ann_index.ts";

/** `n` random `d`-dimensional vectors: the hard case, no structure to exploit. */
function random(n: number, d: number, seed = 1): VectorIndex {
  const rng = new Rng(seed);
  const raw = Float32Array.from({ length: n * d }, () => rng.normal());
  return VectorIndex.fromMatrix(Array.from({ length: n }, (_, i) => `song${i}`), d, raw);
}

/** Share of the exact top k that `got` holds. */
function recall(exact: VectorIndex, index: QuantizedIndex, k: number, candidates: number): number {
  let found = 0, total = 0;
  for (let row = 0; row < exact.ids.length; row += 61) {
    const truth = new Set(exact.search(exact.vector(row), k, "cosine", exact.ids[row]).map((h) => h.id));
    for (const h of index.search(exact.vector(row), k, exact.ids[row], candidates)) {
      found += truth.has(h.id) ? 1 : 0;
    }
    total += k;
  }
  return found / total;
}

for (const precision of ["i8", "f32"] as const) {
  Deno.test(`QuantizedIndex (${precision}): with the default candidates, exactly the exact search's hits`, async () => {
    const exact = random(3000, 128);
    const index = await QuantizedIndex.build(exact, precision);
    for (let row = 0; row < 3000; row += 97) {
      const id = exact.ids[row];
      // same ids, same order, same scores: the candidates are re-ranked by the exact search's own arithmetic
      assert.deepEqual(
        index.search(exact.vector(row), 10, id),
        exact.search(exact.vector(row), 10, "cosine", id),
      );
    }
    // a query that is not a stored row, and k above the number of candidates
    const q = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
    assert.deepEqual(index.search(q, 5), exact.search(q, 5, "cosine"));
    assert.equal(index.search(q, 5000).length, 3000);
  });
}

Deno.test("QuantizedIndex: int8 codes rank well enough that twice k candidates hold the top 10", async () => {
  // per-dimension scales keep the codes' resolution where the rows' values are small: a dimension with a
  // large offset (as max-pooled ReLU embeddings have) must not flatten the others
  const rng = new Rng(5), n = 4000, d = 128;
  const raw = Float32Array.from({ length: n * d }, (_, j) => (j % d === 0 ? 30 : 0) + rng.normal());
  const exact = VectorIndex.fromMatrix(Array.from({ length: n }, (_, i) => `s${i}`), d, raw);
  const i8 = await QuantizedIndex.build(exact, "i8");
  const r = recall(exact, i8, 10, 20);
  assert.ok(r >= 0.97, `recall@10 with 20 candidates: ${r}`);
  const codes = i8.codes as Int8Array;
  let used = 0;
  for (let j = 1; j < codes.length; j += d) used = Math.max(used, Math.abs(codes[j]));
  assert.equal(used, 127, "a small dimension still spans the int8 range");
});

Deno.test("QuantizedIndex: bad arguments are refused with the value", async () => {
  const exact = random(50, 8);
  await assert.rejects(
    () => QuantizedIndex.build(exact, "f16" as "i8"),
    /precision must be "i8" or "f32", got "f16"/,
  );
  const index = await QuantizedIndex.build(exact);
  assert.throws(() => index.search([1, 2], 3), /query has 2 values, the index 8/);
  assert.throws(() => index.search(new Array(8).fill(NaN), 3), /NaN or infinite/);
  assert.throws(
    () => index.search(new Array(8).fill(1), 3, undefined, 0),
    /candidates must be a positive integer, got 0/,
  );
  assert.equal(index.search(new Array(8).fill(0), 3).length, 3, "a zero query still answers");
});
