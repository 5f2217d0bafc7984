/**
 * The playlist logic on constructed vectors, against answers known in advance: the radio's two extremes
 * (nearest to the seeds in order; a chain of nearest neighbours), the rules in every mode, the path's
 * endpoints and length, the path along an arc of songs built on the great circle, and the dynamic
 * programme against a brute-force search on small random cases.
 */
import { assert } from "../../tests/helpers.ts";
import { Rng } from "../util/rng.ts";
import { PlaylistRules, type SongFacts } from "./playlist_rules.ts";
import { radio } from "./radio.ts";
import { bestMonotonePath, slerp, songPath, splitSlots } from "./song_path.ts";
import { VectorIndex } from "./vector_index.ts";

const facts = (artists: string[], duration = 180): SongFacts[] =>
  artists.map((artist) => ({ artist, artistFromFolder: false, duration }));

/** Unit vectors in 3-d at angles (degrees) on the circle z = 0, plus extra rows. */
function circle(angles: number[], extra: number[][] = []): VectorIndex {
  const rows = new Map<string, number[]>();
  angles.forEach((a, i) =>
    rows.set(`s${i}`, [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180), 0])
  );
  extra.forEach((v, i) => rows.set(`x${i}`, v));
  return VectorIndex.from(rows);
}

Deno.test("radio, drift 0: the seed, then the songs nearest to it in order", async () => {
  const index = circle([0, 50, 10, 30, 20, 40]);
  const rules = new PlaylistRules(facts(["a", "b", "c", "d", "e", "f"]));
  const r = await radio(index, rules, { seeds: [{ row: 0, vector: index.vector(0) }], count: 4, drift: 0 });
  assert.deepEqual(r.entries.map((e) => e.row), [0, 2, 4, 3]);
  assert.ok(r.complete);
  assert.equal(r.entries[0].step, null);
  assert.ok(Math.abs(r.entries[1].step! - Math.cos((10 * Math.PI) / 180)) < 1e-6);
});

Deno.test("radio, drift 1: a chain of nearest neighbours, wherever it leads", async () => {
  // from 0°, the chain walks 0 → 12 → 24 → 36, although -15 is nearer the seed than 24 and 36
  const index = circle([0, 12, 24, 36, -15]);
  const rules = new PlaylistRules(facts(["a", "b", "c", "d", "e"]));
  const r = await radio(index, rules, { seeds: [{ row: 0, vector: index.vector(0) }], count: 4, drift: 1 });
  assert.deepEqual(r.entries.map((e) => e.row), [0, 1, 2, 3]);
  const near = await radio(index, new PlaylistRules(facts(["a", "b", "c", "d", "e"])), {
    seeds: [{ row: 0, vector: index.vector(0) }],
    count: 4,
    drift: 0,
  });
  assert.deepEqual(near.entries.map((e) => e.row), [0, 1, 4, 2]);
});

Deno.test("radio from two seeds: drawn towards both, starting with the first; --minutes counts durations", async () => {
  const index = circle([0, 90, 45, 80, 10, -60]);
  const rules = new PlaylistRules(facts(["a", "b", "c", "d", "e", "f"], 100));
  const r = await radio(index, rules, {
    seeds: [{ row: 0, vector: index.vector(0) }, { row: 1, vector: index.vector(1) }],
    minutes: 5,
    drift: 0,
  });
  // 5 minutes of 100-second songs: 3 songs; between the seeds (45°) first
  assert.deepEqual(r.entries.map((e) => e.row), [0, 2, 3]);
  assert.ok(r.entries.every((e) => e.row !== 5), "the song away from both seeds is not taken");
});

Deno.test("radio rules: no repeats, the artist cap, never the same artist twice in a row, duplicates, exclusions", async () => {
  const rng = new Rng(3);
  const n = 200;
  const rows = new Map<string, number[]>();
  for (let i = 0; i < n; i++) rows.set(`s${i}`, Array.from({ length: 16 }, () => rng.normal()));
  const index = VectorIndex.from(rows);
  const artists = Array.from({ length: n }, (_, i) => `artist${i % 7}`);
  const groupOf = (r: number) => (r < 40 ? Math.floor(r / 2) : -1); // rows 0–39 in copies of two
  const excluded = [5, 6, 7];
  for (const drift of [0, 0.5, 1]) {
    const rules = new PlaylistRules(facts(artists), { maxPerArtist: 4, groupOf, excluded });
    const r = await radio(index, rules, { seeds: [{ row: 10, vector: index.vector(10) }], count: 25, drift });
    const got = r.entries.map((e) => e.row!);
    assert.equal(got.length, 25);
    assert.equal(got[0], 10);
    assert.equal(new Set(got).size, got.length, "no song twice");
    const per = new Map<string, number>();
    for (const row of got) per.set(artists[row], (per.get(artists[row]) ?? 0) + 1);
    assert.ok([...per.values()].every((c) => c <= 4), "at most 4 per artist");
    for (let i = 1; i < got.length; i++) assert.notEqual(artists[got[i]], artists[got[i - 1]]);
    const groups = got.map(groupOf).filter((g) => g >= 0);
    assert.equal(new Set(groups).size, groups.length, "no two copies of one recording");
    assert.ok(!got.some((row) => excluded.includes(row)));
  }
});

Deno.test("radio the rules cannot fill: says how far it got and why", async () => {
  const index = circle([0, 10, 20, 30]);
  const rules = new PlaylistRules(facts(["a", "a", "a", "b"]), { maxPerArtist: 1 });
  const r = await radio(index, rules, { seeds: [{ row: 0, vector: index.vector(0) }], count: 4 });
  assert.equal(r.complete, false);
  assert.deepEqual(r.entries.map((e) => e.row), [0, 3]);
  assert.match(r.shortfall!, /let 2 of 4 songs in.*2 songs by the artist cap rule/);
});

Deno.test("path: starts with A, ends with B, n songs, walks the arc of songs in order past the decoys", async () => {
  // songs every 10° from 0° to 90° on the circle, and decoys off the plane that are near no point of it
  const arc = [0, 90, 30, 60, 10, 80, 20, 50, 40, 70];
  const index = circle(arc, [[0.2, 0.2, 0.96], [0.5, -0.1, -0.86], [-0.7, 0.7, 0.14]]);
  const rules = new PlaylistRules(facts(index.ids.map((id) => id)));
  const p = await songPath(index, rules, {
    anchors: [{ row: 0, vector: index.vector(0) }, { row: 1, vector: index.vector(1) }],
    count: 10,
  });
  const angles = p.entries.map((e) => arc[e.row!]);
  assert.deepEqual(angles, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
  assert.ok(p.complete);
  assert.ok(Math.abs(p.report.worst - Math.cos(Math.PI / 18)) < 1e-6, `worst step ${p.report.worst}`);
  assert.ok(p.report.worst >= p.greatCircle.worst - 1e-9);
  assert.ok(p.report.worst > p.direct, "every step is smaller than the jump from A to B");
  // fewer songs: every other one, still A first and B last
  const short = await songPath(index, new PlaylistRules(facts(index.ids.map((id) => id))), {
    anchors: [{ row: 0, vector: index.vector(0) }, { row: 1, vector: index.vector(1) }],
    count: 4,
  });
  assert.deepEqual(short.entries.map((e) => arc[e.row!]), [0, 30, 60, 90]);
});

Deno.test("path through a waypoint: A, then the waypoint, then B; slots split by the segments' angles", async () => {
  const arc = [0, 90, 45, 10, 20, 30, 60, 80, 70];
  const index = circle(arc);
  const p = await songPath(index, new PlaylistRules(facts(index.ids.map((id) => id))), {
    anchors: [0, 2, 1].map((row) => ({ row, vector: index.vector(row) })),
    count: 7,
  });
  const angles = p.entries.map((e) => arc[e.row!]);
  assert.equal(angles[0], 0);
  assert.equal(angles[3], 45, "the waypoint in the middle");
  assert.equal(angles[6], 90);
  assert.deepEqual(splitSlots([1, 1], 4), [2, 2]);
  assert.deepEqual(splitSlots([3, 1], 4), [3, 1]);
  assert.deepEqual(splitSlots([1, 1, 1], 2), [1, 1, 0]);
});

Deno.test("path rules: no same artist twice in a row, the artist cap, a duplicate left out", async () => {
  const arc = [0, 90, 10, 20, 30, 40, 50, 60, 70, 80, 25, 55];
  const index = circle(arc);
  const artists = ["A", "B", "x", "x", "y", "z", "w", "v", "u", "t", "s", "r"];
  // 20° and 25° are copies of one recording; x has two songs in a row on the arc
  const groupOf = (r: number) => (r === 3 || r === 10 ? 0 : -1);
  const rules = new PlaylistRules(facts(artists), { maxPerArtist: 1, groupOf });
  const p = await songPath(index, rules, {
    anchors: [{ row: 0, vector: index.vector(0) }, { row: 1, vector: index.vector(1) }],
    count: 8,
  });
  const rows = p.entries.map((e) => e.row!);
  assert.equal(rows[0], 0);
  assert.equal(rows.at(-1), 1);
  assert.equal(rows.length, 8);
  assert.equal(new Set(rows.map((r) => artists[r])).size, rows.length, "one song per artist");
  assert.ok(!(rows.includes(3) && rows.includes(10)), "not both copies");
});

Deno.test("the path's programme equals a brute-force search over forward sequences on small random cases", () => {
  const rng = new Rng(9);
  for (let trial = 0; trial < 40; trial++) {
    const n = 4 + Math.floor(rng.uniform() * 6), m = Math.floor(rng.uniform() * (n - 1));
    const w = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.uniform() * 2 - 1));
    const banned = new Set<string>();
    for (let k = 0; k < n; k++) {
      banned.add(`${Math.floor(rng.uniform() * n)},${Math.floor(rng.uniform() * n)}`);
    }
    const allowed = (i: number, j: number) => !banned.has(`${i},${j}`);
    const got = bestMonotonePath(n, m, (i, j) => w[i][j], allowed);
    // brute force: every increasing choice of m interior nodes
    let best: { worst: number; sum: number; path: number[] } | null = null;
    const choose = (start: number, left: number, acc: number[]) => {
      if (left === 0) {
        const seq = [0, ...acc, n - 1];
        let worst = Infinity, sum = 0;
        for (let k = 0; k + 1 < seq.length; k++) {
          if (!allowed(seq[k], seq[k + 1])) return;
          worst = Math.min(worst, w[seq[k]][seq[k + 1]]);
          sum += w[seq[k]][seq[k + 1]];
        }
        if (!best || worst > best.worst || (worst === best.worst && sum > best.sum + 1e-12)) {
          best = { worst, sum, path: acc.slice() };
        }
        return;
      }
      for (let j = start; j <= n - 2; j++) choose(j + 1, left - 1, [...acc, j]);
    };
    choose(1, m, []);
    const b = best as { worst: number; sum: number; path: number[] } | null;
    if (!b) {
      assert.equal(got, null, `trial ${trial}: no sequence exists`);
      continue;
    }
    assert.ok(got, `trial ${trial}: a sequence exists`);
    const seq = [0, ...got!, n - 1];
    const worst = Math.min(...seq.slice(1).map((j, k) => w[seq[k]][j]));
    assert.equal(worst, b.worst, `trial ${trial}: the worst step is the optimum's`);
  }
});

Deno.test("slerp: the points lie on the great circle, evenly spaced", () => {
  const u = Float32Array.of(1, 0, 0), v = Float32Array.of(0, 1, 0);
  const mid = slerp(u, v, 0.5);
  assert.ok(Math.abs(mid[0] - Math.SQRT1_2) < 1e-6 && Math.abs(mid[1] - Math.SQRT1_2) < 1e-6);
  const third = slerp(u, v, 1 / 3);
  assert.ok(Math.abs(Math.atan2(third[1], third[0]) - Math.PI / 6) < 1e-6);
});
