/**
 * Similarity analysis of song vectors: cosine similarity and Euclidean
 * distance matrices, extreme pairs, nearest neighbours, k-means groups, and
 * the validation report of the original project's claims about its synthetic
 * test set. Everything in float64.
 *
 * @module
 */

import { ArgumentError } from "./errors.ts";
import { Rng } from "./rng.ts";

/** Named vectors, in a fixed order. */
export interface VectorSet {
  ids: string[];
  vectors: Float64Array[];
}

/** Cosine similarity of two vectors (0 when either is all zeros). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** Euclidean distance. */
export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** The n × n matrix of a pairwise function (symmetric, computed once per pair). */
export function pairwise(
  vs: Float64Array[],
  f: (a: Float64Array, b: Float64Array) => number,
): Float64Array[] {
  const n = vs.length;
  const m = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = f(vs[i], vs[j]);
      m[i][j] = v;
      m[j][i] = v;
    }
  }
  return m;
}

/** A pair of songs and their similarity. */
export interface Pair {
  a: string;
  b: string;
  value: number;
}

/** The `count` most (or least) similar distinct pairs of a similarity matrix. */
export function extremePairs(ids: string[], sim: Float64Array[], count: number, most = true): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) pairs.push({ a: ids[i], b: ids[j], value: sim[i][j] });
  }
  pairs.sort((x, y) => (most ? y.value - x.value : x.value - y.value));
  return pairs.slice(0, count);
}

/** A neighbour in a ranking. */
export interface Neighbour {
  id: string;
  value: number;
}

/**
 * The k nearest neighbours of row `i` of a matrix: by highest value for a
 * similarity, lowest for a distance.
 */
export function nearest(
  ids: string[],
  m: Float64Array[],
  i: number,
  k: number,
  similarity: boolean,
): Neighbour[] {
  const order = ids.map((id, j) => ({ id, value: m[i][j], j })).filter((x) => x.j !== i);
  order.sort((x, y) => (similarity ? y.value - x.value : x.value - y.value) || x.id.localeCompare(y.id));
  return order.slice(0, k).map(({ id, value }) => ({ id, value }));
}

/**
 * k-means (k-means++ seeding, Lloyd iterations) on L2-normalised vectors.
 * Returns a cluster index per vector.
 */
export function kMeans(vectors: Float64Array[], k: number, seed = 1, iterations = 50): number[] {
  const n = vectors.length;
  if (!Number.isInteger(k) || k < 1) {
    throw new ArgumentError(`--clusters must be a positive integer, got ${k}`);
  }
  if (n === 0) return [];
  k = Math.min(k, n);
  const rng = new Rng(seed);
  const xs = vectors.map(normalize);
  const centres: Float64Array[] = [xs[Math.floor(rng.uniform() * n)].slice()];
  while (centres.length < k) {
    const d = xs.map((x) => Math.min(...centres.map((c) => euclideanDistance(x, c) ** 2)));
    const total = d.reduce((s, v) => s + v, 0);
    let r = rng.uniform() * total, pick = 0;
    while (pick < n - 1 && r > d[pick]) r -= d[pick++];
    centres.push(xs[pick].slice());
  }
  const label = new Array(n).fill(0);
  for (let it = 0; it < iterations; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0, bestD = Infinity;
      centres.forEach((c, j) => {
        const dd = euclideanDistance(xs[i], c);
        if (dd < bestD) [best, bestD] = [j, dd];
      });
      if (label[i] !== best) [label[i], changed] = [best, true];
    }
    centres.forEach((c, j) => {
      const members = xs.filter((_, i) => label[i] === j);
      if (members.length === 0) return;
      c.fill(0);
      for (const m of members) for (let d = 0; d < c.length; d++) c[d] += m[d] / members.length;
    });
    if (!changed && it > 0) break;
  }
  return label;
}

/** L2-normalised copy. */
export function normalize(v: ArrayLike<number>): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s) || 1;
  return Float64Array.from(v, (x) => x / n);
}

/** The synthetic set's sounds by group. */
export const SYNTHETIC_GROUPS = {
  chords: ["c_major_chord", "g_major_chord", "f_major_chord"],
  noises: ["white_noise", "pink_noise"],
  tones: ["bass_sound", "bell_sound", "complex_harmonic"],
} as const;

/** The name of a synthetic sound an id stands for (id = stem, or a path ending in the stem and an extension). */
export function syntheticName(id: string): string | undefined {
  const all = Object.values(SYNTHETIC_GROUPS).flat() as string[];
  const stem = id.replace(/^.*[\\/]/, "").replace(/\.[^.]+$/, "");
  return all.includes(stem) ? stem : undefined;
}

/** One claim of the validation report. */
export interface Claim {
  claim: string;
  /** The figures behind the verdict. */
  figures: string;
  holds: boolean;
}

/**
 * The original project's claims about its eight synthetic sounds, checked on
 * cosine similarities. Returns null when the eight are not all present.
 */
export function validateSyntheticSet(set: VectorSet): Claim[] | null {
  const index = new Map<string, number>();
  set.ids.forEach((id, i) => {
    const name = syntheticName(id);
    if (name && !index.has(name)) index.set(name, i);
  });
  const all = Object.values(SYNTHETIC_GROUPS).flat() as string[];
  if (!all.every((n) => index.has(n))) return null;
  const cos = (a: string, b: string) =>
    cosineSimilarity(set.vectors[index.get(a)!], set.vectors[index.get(b)!]);
  const pairs = (xs: readonly string[]) => xs.flatMap((a, i) => xs.slice(i + 1).map((b) => cos(a, b)));
  const cross = (xs: readonly string[], ys: readonly string[]) => xs.flatMap((a) => ys.map((b) => cos(a, b)));
  const f = (x: number) => x.toFixed(4);
  const { chords, noises, tones } = SYNTHETIC_GROUPS;
  const chordChord = pairs(chords), chordNoise = cross(chords, noises);
  const noiseNoise = cos("white_noise", "pink_noise"), noiseTonal = cross(noises, [...chords, ...tones]);
  const toneTone = pairs(tones);
  return [
    {
      claim: "the three major chords are more similar to each other than to either noise",
      figures: `min chord–chord cosine ${f(Math.min(...chordChord))} vs max chord–noise ${
        f(Math.max(...chordNoise))
      }`,
      holds: Math.min(...chordChord) > Math.max(...chordNoise),
    },
    {
      claim: "white and pink noise are more similar to each other than to the tonal sounds",
      figures: `white–pink cosine ${f(noiseNoise)} vs max noise–tonal ${f(Math.max(...noiseTonal))}`,
      holds: noiseNoise > Math.max(...noiseTonal),
    },
    {
      claim: "bass, bell and complex harmonic are distinct (less alike than the chords are to each other)",
      figures: `max cosine among the three ${f(Math.max(...toneTone))} vs min chord–chord ${
        f(Math.min(...chordChord))
      }`,
      holds: Math.max(...toneTone) < Math.min(...chordChord),
    },
  ];
}

/** A matrix as CSV with a header row and column of ids. */
export function matrixCsv(ids: string[], m: Float64Array[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [["", ...ids].map(q).join(",")];
  ids.forEach((id, i) => lines.push([q(id), ...Array.from(m[i], (v) => String(v))].join(",")));
  return lines.join("\n") + "\n";
}

/** Short display names: the last path component without extension, disambiguated when needed. */
export function shortNames(ids: string[]): string[] {
  const base = ids.map((id) => id.replace(/^.*[\\/]/, "").replace(/\.[^.]+$/, ""));
  const counts = new Map<string, number>();
  for (const b of base) counts.set(b, (counts.get(b) ?? 0) + 1);
  return ids.map((id, i) => {
    if (counts.get(base[i]) === 1) return base[i];
    const parts = id.split(/[\\/]/);
    return parts.slice(-2).join("/").replace(/\.[^.]+$/, "");
  });
}

/** An aligned text table of a matrix. */
export function matrixTable(names: string[], m: Float64Array[], digits = 3): string {
  const w = Math.max(...names.map((n) => n.length), digits + 3);
  const head = " ".repeat(w) + " " + names.map((n) => n.slice(0, w).padStart(w)).join(" ");
  const rows = names.map((n, i) =>
    n.padEnd(w) + " " + Array.from(m[i], (v) => v.toFixed(digits).padStart(w)).join(" ")
  );
  return [head, ...rows].join("\n");
}
