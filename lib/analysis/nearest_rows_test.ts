import assert from "node:assert/strict";
import { nearestRows, nearestRowsInSpan, SCAN_THRESHOLD } from "./nearest_rows.ts";
import { VectorIndex } from "./vector_index.ts";
import { Rng } from "../util/rng.ts";

/** Clustered random rows (so that near-ties are rare but neighbours are real). */
function clustered(n: number, d: number, seed: number): VectorIndex {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 50 }, () => Float64Array.from({ length: d }, () => rng.normal()));
  const raw = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) raw[i * d + k] = centres[i % 50][k] + 0.7 * rng.normal();
  }
  return VectorIndex.fromMatrix(Array.from({ length: n }, (_, i) => `s${i}`), d, raw);
}

/** The k best rows for a query, in float64 from the rows as stored: the figure to agree with. */
function bruteForce(index: VectorIndex, q: Float64Array, k: number): number[] {
  const d = index.dim, n = index.ids.length;
  let qn = 0;
  for (const x of q) qn += x * x;
  const scores = Array.from({ length: n }, (_, r) => {
    let dot = 0;
    for (let i = 0; i < d; i++) dot += index.unit[r * d + i] * q[i];
    return dot / Math.sqrt(qn);
  });
  return scores.map((s, r) => [s, r]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map((x) => x[1]);
}

for (const n of [3000, SCAN_THRESHOLD + 5000]) {
  Deno.test(`nearestRowsInSpan, ${n} rows (${n < SCAN_THRESHOLD ? "scored here" : "usearch's scan"}): the rows nearest each combination of the basis, as a brute-force float64 search finds them`, async () => {
    const d = 64, index = clustered(n, d, n);
    const basis = [index.vector(7), index.vector(1234), index.vector(2001)];
    const unit = basis.map((v) => {
      const s = Math.sqrt(Array.from(v).reduce((a, x) => a + x * x, 0));
      return Float64Array.from(v, (x) => x / s);
    });
    // (never two basis vectors weighed equally: their rows would tie exactly)
    const weights = [[1, 0, 0], [0.7, 0.4, 0], [0.3, 0.8, 0], [0, 0.45, 0.55], [0, 0, 1], [0.2, 0.25, 0.3]];
    const found = await nearestRowsInSpan(index, basis, weights, 10);
    assert.equal(found.length, weights.length);
    weights.forEach((w, j) => {
      const q = Float64Array.from({ length: d }, (_, i) => w.reduce((a, x, b) => a + x * unit[b][i], 0));
      assert.deepEqual(Array.from(found[j].rows), bruteForce(index, q, 10), `weights [${w}]`);
      for (let i = 1; i < 10; i++) assert.ok(found[j].scores[i] <= found[j].scores[i - 1]);
    });
    // the same answer as asking for every point separately
    const points = weights.map((w) =>
      Float32Array.from({ length: d }, (_, i) => w.reduce((a, x, b) => a + x * unit[b][i], 0))
    );
    const each = await nearestRows(index, points, 10);
    each.forEach((e, j) => assert.deepEqual(Array.from(found[j].rows), Array.from(e.rows)));
  });
}

Deno.test("nearestRowsInSpan: bad arguments are refused with the value", async () => {
  const index = clustered(10, 4, 1);
  await assert.rejects(
    () => nearestRowsInSpan(index, [[1, 0, 0]], [[1]], 2),
    /basis vector of 3 values: the index has 4/,
  );
  await assert.rejects(
    () => nearestRowsInSpan(index, [[1, 0, 0, 0]], [[1, 2]], 2),
    /weight row of 2 values: the basis has 1/,
  );
  await assert.rejects(() => nearestRowsInSpan(index, [[1, 0, 0, 0]], [[NaN]], 2), /finite, got \[NaN\]/);
  await assert.rejects(
    () => nearestRowsInSpan(index, [[1, 0, 0, 0]], [[1]], 0),
    /k must be a whole number ≥ 1, got 0/,
  );
});
