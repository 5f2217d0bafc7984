import { assert } from "../../tests/helpers.ts";
import { jointProbabilities, tsne } from "./tsne.ts";
import { TSNEJS_MAX_POINTS, tsneMap } from "./tsne_map.ts";
import { Rng } from "../util/rng.ts";

function clusters(k: number, per: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: k }, () => Float64Array.from({ length: dim }, () => rng.normal(0, 1)));
  const x: Float64Array[] = [], label: number[] = [];
  for (let i = 0; i < k * per; i++) {
    x.push(centres[i % k].map((v) => v + rng.normal(0, 0.3)));
    label.push(i % k);
  }
  return { x, label };
}

/** Fraction of points whose nearest 2-D neighbour shares their cluster. */
function kept(points: [number, number][], label: number[]): number {
  let same = 0;
  points.forEach((p, i) => {
    let best = -1, bestD = Infinity;
    points.forEach((q, j) => {
      const d = (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2;
      if (j !== i && d < bestD) [best, bestD] = [j, d];
    });
    if (label[best] === label[i]) same++;
  });
  return same / points.length;
}

Deno.test("t-SNE: P is symmetric, sums to 1, and each row is calibrated to the perplexity", () => {
  const { x } = clusters(3, 10, 5, 1);
  const n = x.length;
  const p = jointProbabilities(x, 5);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      total += p[i * n + j];
      assert.ok(Math.abs(p[i * n + j] - p[j * n + i]) < 1e-15);
    }
  }
  assert.ok(Math.abs(total - 1) < 1e-6, `sum ${total}`);
});

Deno.test("t-SNE (typed arrays): clusters stay together, the same seed gives the same map", () => {
  const { x, label } = clusters(5, 40, 20, 2);
  const a = tsne(x, { perplexity: 20, seed: 4, iterations: 400 });
  assert.deepEqual(a, tsne(x, { perplexity: 20, seed: 4, iterations: 400 }));
  assert.ok(kept(a, label) >= 0.95, `kept ${kept(a, label)}`);
});

Deno.test("t-SNE map: tsne-js for small sets, the typed-array t-SNE above, sampling above the cap", () => {
  const small = clusters(4, 10, 8, 3);
  assert.equal(tsneMap(small.x, { seed: 1 }).method, "tsne-js");
  const big = clusters(6, Math.ceil((TSNEJS_MAX_POINTS + 40) / 6), 64, 5);
  const m = tsneMap(big.x, { seed: 1 });
  assert.equal(m.method, "exact t-SNE (typed arrays)");
  assert.match(m.note ?? "", /PCA to 50 dimensions/);
  assert.ok(kept(m.points, big.label) >= 0.95, `kept ${kept(m.points, big.label)}`);
  const capped = tsneMap(big.x, { seed: 1, maxPoints: 50 });
  assert.equal(capped.points.length, 50);
  assert.match(capped.note!, new RegExp(`50 of ${big.x.length} tracks`));
});
