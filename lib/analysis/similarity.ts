/**
 * Similarity analysis of song vectors: pairwise matrices (cosine similarity,
 * Euclidean distance), extreme pairs, nearest neighbours, and their text and
 * CSV forms. Everything in float64.
 *
 * @module
 */

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
  /** One song's id. */
  a: string;
  /** The other song's id. */
  b: string;
  /** Their similarity. */
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
  /** The neighbour's id. */
  id: string;
  /** Its similarity (or distance). */
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

/**
 * An aligned text table of a matrix: rows numbered and named (names cut to 28 characters, with …), columns
 * numbered, so its width grows with the values, not with the names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrixTable } from "./similarity.ts";
 * const t = matrixTable(["low", "high"], [Float64Array.of(1, -0.5), Float64Array.of(-0.5, 1)]);
 * assert.equal(t, "            1      2\n1 low   1.000 -0.500\n2 high -0.500  1.000");
 * ```
 */
export function matrixTable(names: string[], m: Float64Array[], digits = 3): string {
  const cut = names.map((n) => n.length > 28 ? `${n.slice(0, 27)}…` : n);
  const num = String(names.length).length;
  const nw = Math.max(...cut.map((n) => n.length));
  const cells = m.map((row) => Array.from(row, (v) => v.toFixed(digits)));
  const w = Math.max(String(names.length).length, ...cells.flat().map((c) => c.length));
  const head = " ".repeat(num + 1 + nw) + names.map((_, j) => ` ${String(j + 1).padStart(w)}`).join("");
  const rows = cut.map((n, i) =>
    `${String(i + 1).padStart(num)} ${n.padEnd(nw)}` + cells[i].map((c) => ` ${c.padStart(w)}`).join("")
  );
  return [head, ...rows].join("\n");
}
