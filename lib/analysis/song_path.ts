/**
 * A path from one song to another (through waypoints, if given) in a given
 * number of songs: the playlist that drifts "from pop to jazz by bedtime".
 *
 * Each segment between two anchors (A, the waypoints, B) follows the great
 * circle between their unit vectors. Candidates are the songs nearest to
 * evenly spaced points along it (every point is a combination of the two
 * anchors, so one scan of the anchors serves all points). Then, rather
 * than filling each point with its nearest unused song (the plain
 * great-circle fill, kept as the baseline it is measured against), the
 * songs are chosen together: among the candidates ordered by where they
 * project onto the arc, a dynamic programme picks the sequence of exactly
 * the asked length that maximises the worst step (the lowest cosine between
 * two songs in a row), then the sum of the steps. So the list never jumps
 * where it could have walked, and it moves forward along the arc.
 *
 * The rules (`playlist_rules.ts`) hold throughout: no same artist twice in a
 * row is a constraint of the programme; a song beyond its artist's cap or a
 * second copy of a recording is removed from the candidates and the
 * programme run again.
 *
 * @module
 */

import { ArgumentError } from "../util/errors.ts";
import { nearestRowsInSpan, rowCosine, rowsCosine, unitVector } from "./nearest_rows.ts";
import type { PlaylistRules } from "./playlist_rules.ts";
import type { PlaylistEntry, PlaylistResult, Seed } from "./radio.ts";
import type { VectorIndex } from "./vector_index.ts";

/** Options of {@linkcode songPath}. */
export interface PathOptions {
  /** A, the waypoints in order, then B. */
  anchors: Seed[];
  /** Songs in the list, A and B and the waypoints included. */
  count: number;
  /**
   * Candidates per point along the arc.
   * @default {24}
   */
  candidates?: number;
  /** Told the rows that will be considered, before any is chosen (to load what the rules need of them). */
  prepare?: (rows: number[]) => Promise<void>;
}

/** The steps of a list, and its worst. */
export interface StepReport {
  /** Each step's cosine (song i to song i + 1). */
  steps: number[];
  /** The lowest. */
  worst: number;
}

/** A path, with the baselines it is measured against. */
export interface PathResult extends PlaylistResult {
  /** The path's steps. */
  report: StepReport;
  /** The plain great-circle fill: each point filled with its nearest unused song, in order (same rules). */
  greatCircle: StepReport;
  /**
   * The direct nearest-neighbour chain: from A, each time the nearest unused candidate that is nearer to B
   * than the song before it, then B (same number of songs, same rules where it can).
   */
  nearestChain: StepReport;
  /** The direct step from A to B. */
  direct: number;
}

/**
 * The weights `[a, b]` of the point `a·u + b·v` at fraction `t` along the great circle between unit vectors
 * `u` and `v` (slerp), given their dot product.
 */
export function slerpWeights(dot: number, t: number): [number, number] {
  const omega = Math.acos(Math.max(-1, Math.min(1, dot)));
  if (omega < 1e-6) return [1 - t, t];
  return [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)];
}

/** A point between unit vectors `u` and `v` at fraction `t` along the great circle (slerp). */
export function slerp(u: Float32Array, v: Float32Array, t: number): Float32Array {
  let dot = 0;
  for (let i = 0; i < u.length; i++) dot += u[i] * v[i];
  const [a, b] = slerpWeights(dot, t);
  return Float32Array.from(u, (x, i) => a * x + b * v[i]);
}

/** The steps and worst step of a list of unit vectors' rows/vectors. */
function stepsOf(cos: (i: number) => number, n: number): StepReport {
  const steps = Array.from({ length: Math.max(0, n - 1) }, (_, i) => cos(i));
  return { steps, worst: steps.length ? Math.min(...steps) : 1 };
}

/** Interior songs of each segment, in proportion to the segments' angles (largest remainders). */
export function splitSlots(angles: number[], slots: number): number[] {
  const total = angles.reduce((a, b) => a + b, 0);
  const exact = angles.map((a) => (total > 0 ? (a / total) * slots : slots / angles.length));
  const out = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const left = slots - out.reduce((a, b) => a + b, 0);
  for (let k = 0; k < left; k++) out[order[k][1]]++;
  return out;
}

/**
 * The best sequence of exactly `m` nodes between a start and an end node, moving forward in the given
 * order: the largest worst step, then the largest sum of steps. `cos(i, j)` for nodes 0 … n−1; `allowed(i,
 * j)` says whether j may follow i. Node 0 is the start and node n−1 the end; returns the interior nodes
 * chosen, or null when no sequence exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bestMonotonePath } from "./song_path.ts";
 * // five nodes on a line at 0, 1, 2, 2.1, 4: two interior nodes, the longest step as short as can be
 * // (0 → 1 → 2.1 → 4: steps 1, 1.1, 1.9; through 2 instead, the last step would be 2)
 * const at = [0, 1, 2, 2.1, 4];
 * const path = bestMonotonePath(5, 2, (i, j) => -Math.abs(at[i] - at[j]), () => true);
 * assert.deepEqual(path, [1, 3]);
 * ```
 */
export function bestMonotonePath(
  n: number,
  m: number,
  cos: (i: number, j: number) => number,
  allowed: (i: number, j: number) => boolean,
): number[] | null {
  if (n < 2 || m < 0 || m > n - 2) return null;
  // best[c][j]: the best (worst step, sum) of a sequence from node 0 to node j through c interior nodes
  const worst = Array.from({ length: m + 2 }, () => new Float64Array(n).fill(-Infinity));
  const sum = Array.from({ length: m + 2 }, () => new Float64Array(n).fill(-Infinity));
  const from = Array.from({ length: m + 2 }, () => new Int32Array(n).fill(-1));
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) w[i * n + j] = cos(i, j);
  worst[0][0] = Infinity;
  sum[0][0] = 0;
  const better = (aw: number, as: number, bw: number, bs: number) => aw > bw || (aw === bw && as > bs);
  for (let c = 0; c <= m; c++) {
    // into an interior node with c + 1 nodes so far (c < m), or into the end after exactly m
    for (let j = 1; j < n; j++) {
      const toEnd = j === n - 1;
      if (toEnd !== (c === m)) continue;
      const layer = toEnd ? m + 1 : c + 1;
      for (let i = 0; i < j; i++) {
        if (i === 0 ? c !== 0 : worst[c][i] === -Infinity) continue;
        if (!allowed(i, j)) continue;
        const step = w[i * n + j];
        const cw = Math.min(worst[c][i], step), cs = sum[c][i] + step;
        if (better(cw, cs, worst[layer][j], sum[layer][j])) {
          worst[layer][j] = cw;
          sum[layer][j] = cs;
          from[layer][j] = i;
        }
      }
    }
  }
  if (from[m + 1][n - 1] < 0) return null;
  const path: number[] = [];
  for (let layer = m + 1, j = n - 1; layer > 1;) {
    j = from[layer][j];
    layer--;
    path.unshift(j);
  }
  return path;
}

/**
 * A path from the first anchor to the last through the others (see the module's description).
 *
 * @throws {ArgumentError} for fewer than two anchors, the same song twice among them, or a count smaller
 *   than the anchors.
 */
export async function songPath(
  index: VectorIndex,
  rules: PlaylistRules,
  options: PathOptions,
): Promise<PathResult> {
  const { anchors, count } = options;
  if (anchors.length < 2) throw new ArgumentError("a path needs a start and an end");
  if (!Number.isInteger(count) || count < anchors.length) {
    throw new ArgumentError(
      `-n must be a whole number of at least ${anchors.length} (the path's start, end and waypoints), got ${count}`,
    );
  }
  const rowsGiven = anchors.map((a) => a.row).filter((r) => r !== undefined);
  if (new Set(rowsGiven).size !== rowsGiven.length) {
    throw new ArgumentError("the path's start, end and waypoints must be different songs");
  }
  const units = anchors.map((a) => unitVector(a.vector));
  const angle = (a: Float32Array, b: Float32Array) => {
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
    return Math.acos(Math.max(-1, Math.min(1, dot)));
  };
  const segments = units.length - 1;
  const slots = splitSlots(
    Array.from({ length: segments }, (_, s) => angle(units[s], units[s + 1])),
    count - anchors.length,
  );
  // every point of every segment (a combination of its two anchors), and its candidates, from one scan of
  // the anchors
  const points: Float32Array[] = [];
  const weights: number[][] = [];
  for (let s = 0; s < segments; s++) {
    const dot = units[s].reduce((x, y, i) => x + y * units[s + 1][i], 0);
    for (let i = 1; i <= slots[s]; i++) {
      const t = i / (slots[s] + 1);
      const [a, b] = slerpWeights(dot, t);
      points.push(slerp(units[s], units[s + 1], t));
      weights.push(units.map((_, j) => (j === s ? a : j === s + 1 ? b : 0)));
    }
  }
  const perPoint = options.candidates ?? 24;
  const near = points.length
    ? await nearestRowsInSpan(index, units, weights, Math.min(index.ids.length, perPoint))
    : [];
  await options.prepare?.([
    ...new Set([...near.flatMap((x) => Array.from(x.rows)), ...(rowsGiven as number[])]),
  ]);
  for (const r of rowsGiven) rules.take(r as number); // the anchors are in the list, whatever the rules
  const anchorRows = new Set(rowsGiven as number[]);

  const entries: PlaylistEntry[] = [{ row: anchors[0].row, seed: 0, score: 1, step: null }];
  const gcRows: (number | undefined)[] = [anchors[0].row];
  let shortfall: string | undefined;
  let pointAt = 0;
  for (let s = 0; s < segments; s++) {
    const m = slots[s];
    const u = units[s], v = units[s + 1];
    const segPoints = points.slice(pointAt, pointAt + m);
    const segNear = near.slice(pointAt, pointAt + m);
    pointAt += m;
    const pool = [...new Set(segNear.flatMap((x) => Array.from(x.rows)))].filter((r) =>
      !anchorRows.has(r) && !rules.has(r) && rules.refusal(r) !== "excluded"
    );
    // the baseline: each point its nearest unused song that the rules allow, in order (its own rules copy)
    const gcTaken = new Set<number>(rules.taken);
    for (let i = 0; i < m; i++) {
      const best = Array.from(segNear[i].rows).find((r) => !gcTaken.has(r) && !anchorRows.has(r));
      if (best !== undefined) gcTaken.add(best);
      gcRows.push(best);
    }
    gcRows.push(anchors[s + 1].row);
    // the arc: where each candidate projects (θ from u towards v)
    const uv = u.reduce((a, x, i) => a + x * v[i], 0);
    const wv = Float32Array.from(v, (x, i) => x - uv * u[i]);
    const wn = Math.hypot(...wv) || 1;
    const theta = (r: number) => Math.atan2(rowCosine(index, r, wv) / wn, rowCosine(index, r, u));
    let candidates = pool.slice();
    let chosen: number[] | null = null;
    for (let attempt = 0; attempt < 4 * m + 8; attempt++) {
      const ordered = candidates.map((r) => ({ r, t: theta(r) })).sort((a, b) => a.t - b.t || a.r - b.r);
      const nodes = [anchors[s].row ?? -1, ...ordered.map((o) => o.r), anchors[s + 1].row ?? -2];
      const vecOf = (k: number) => (k === 0 ? u : k === nodes.length - 1 ? v : null);
      const cos = (i: number, j: number) => {
        const a = vecOf(i), b = vecOf(j);
        if (a && b) return a.reduce((x, y, d) => x + y * b[d], 0);
        if (a) return rowCosine(index, nodes[j], a);
        if (b) return rowCosine(index, nodes[i], b);
        return rowsCosine(index, nodes[i], nodes[j]);
      };
      const artistOf = (k: number) => nodes[k] >= 0 ? rules.facts[nodes[k]].artist : null;
      const allowed = (i: number, j: number) =>
        rules.options.allowSameArtistInARow || artistOf(i) === null || artistOf(i) !== artistOf(j);
      const path = bestMonotonePath(nodes.length, Math.min(m, ordered.length), cos, allowed);
      if (!path) break;
      // the caps and the duplicates across the whole list: drop an offender and choose again
      const trial = new Map<string, number>();
      for (const r of rules.taken) {
        trial.set(rules.facts[r].artist, (trial.get(rules.facts[r].artist) ?? 0) + 1);
      }
      const groups = new Set(rules.taken.map((r) => rules.options.groupOf?.(r) ?? -1).filter((g) => g >= 0));
      const sofar = [...rules.taken];
      const offender = path.map((k) => nodes[k]).find((r) => {
        const a = rules.facts[r].artist, g = rules.options.groupOf?.(r) ?? -1;
        const over = (trial.get(a) ?? 0) >= (rules.options.maxPerArtist ?? Infinity);
        const dup = (g >= 0 && groups.has(g)) || !!rules.options.duplicateOf?.(r, sofar);
        trial.set(a, (trial.get(a) ?? 0) + 1);
        if (g >= 0) groups.add(g);
        sofar.push(r);
        return over || dup;
      });
      if (offender === undefined) {
        chosen = path.map((k) => nodes[k]);
        break;
      }
      rules.allows(offender); // counted for the report
      candidates = candidates.filter((r) => r !== offender);
    }
    const got = chosen ?? [];
    got.forEach((r, i) => {
      rules.take(r);
      entries.push({ row: r, score: rowCosine(index, r, segPoints[i] ?? v), step: null });
    });
    if (got.length < m && !shortfall) {
      shortfall =
        `segment ${s + 1} (${s === 0 ? "from the start" : `from waypoint ${s}`}) has ${got.length} of ` +
        `${m} songs: the rules left ${candidates.length} of its ${pool.length} candidates ` +
        `(refused: ${rules.describeRefusals()})`;
    }
    entries.push({ row: anchors[s + 1].row, seed: s + 1, score: 1, step: null });
  }
  // each step's cosine
  const vectorOf = (e: PlaylistEntry) => (e.row !== undefined ? null : units[e.seed!]);
  const cosEntries = (a: PlaylistEntry, b: PlaylistEntry) => {
    const va = vectorOf(a), vb = vectorOf(b);
    if (va && vb) return va.reduce((x, y, d) => x + y * vb[d], 0);
    if (va) return rowCosine(index, b.row!, va);
    if (vb) return rowCosine(index, a.row!, vb);
    return rowsCosine(index, a.row!, b.row!);
  };
  for (let i = 1; i < entries.length; i++) entries[i].step = cosEntries(entries[i - 1], entries[i]);
  const report = stepsOf((i) => entries[i + 1].step!, entries.length);
  // the baselines, on the same candidates
  const gc = gcRows.filter((r) => r !== undefined) as number[];
  const greatCircle = stepsOf((i) => rowsCosine(index, gc[i], gc[i + 1]), gc.length);
  const nearestChain = nearestChainOf(index, near, anchors, units, count);
  return {
    entries,
    complete: shortfall === undefined,
    shortfall,
    report,
    greatCircle,
    nearestChain,
    direct: units[0].reduce((x, y, d) => x + y * units[units.length - 1][d], 0),
  };
}

/** The direct nearest-neighbour chain from the first anchor to the last (see {@linkcode PathResult}). */
function nearestChainOf(
  index: VectorIndex,
  near: { rows: Int32Array }[],
  anchors: Seed[],
  units: Float32Array[],
  count: number,
): StepReport {
  const end = units[units.length - 1];
  const pool = [...new Set(near.flatMap((x) => Array.from(x.rows)))].filter((r) =>
    !anchors.some((a) => a.row === r)
  );
  const used = new Set<number>();
  const vec = (r: number | undefined, v: Float32Array) => (r === undefined ? v : null);
  const steps: number[] = [];
  let cur: number | undefined = anchors[0].row;
  const curVec = units[0];
  const toEnd = (r: number | undefined, v: Float32Array) =>
    r === undefined ? v.reduce((x, y, d) => x + y * end[d], 0) : rowCosine(index, r, end);
  for (let k = 0; k < count - 2; k++) {
    const here = toEnd(cur, curVec);
    let best = -1, bestCos = -Infinity;
    for (const r of pool) {
      if (used.has(r) || rowCosine(index, r, end) <= here) continue;
      const c = cur === undefined ? rowCosine(index, r, vec(cur, curVec)!) : rowsCosine(index, cur, r);
      if (c > bestCos) [best, bestCos] = [r, c];
    }
    if (best < 0) break;
    used.add(best);
    steps.push(bestCos);
    cur = best;
  }
  steps.push(toEnd(cur, curVec));
  return { steps, worst: Math.min(...steps) };
}
