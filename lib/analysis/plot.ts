/**
 * Pictures of a collection as SVG — the t-SNE scatter map and a similarity
 * heatmap — rasterised to PNG with resvg and the DejaVu Sans font from the
 * `dejavu-fonts-ttf` npm package, so labels render on machines with no fonts.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import { realFile } from "../util/standalone.ts";
import { printable } from "../util/errors.ts";

/** Tableau 10: distinct, colour-blind-friendlier colours for groups. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

const FONT = "DejaVu Sans";

/** Path of the bundled TTF. */
export function fontPath(): string {
  return new URL("../../node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf", import.meta.url).pathname;
}

/** Text for SVG: what XML cannot hold or a reader would misread (controls, bidi controls) escaped first. */
function esc(s: string): string {
  return printable(s).replace(/[\ud800-\udfff\ufffe\uffff]/g, "\ufffd").replace(/&/g, "&amp;").replace(
    /</g,
    "&lt;",
  ).replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Options of {@linkcode scatterSvg}. */
export interface ScatterOptions {
  /** Point positions (any units: the plot scales them). */
  points: [number, number][];
  /** One label per point (drawn when there are at most `maxLabels` points). */
  labels: string[];
  /** Group name per point; colours and legend follow the groups' names in order ("cluster 2" before "cluster 10"). */
  groups: string[];
  /** The title line. */
  title: string;
  /** A smaller line under the title. */
  subtitle?: string;
  /** Width in pixels of the SVG. */
  width?: number;
  /** Height in pixels of the SVG. */
  height?: number;
  /** Points labelled at most (the rest are drawn unlabelled). */
  maxLabels?: number;
}

/**
 * The t-SNE map: one circle per track (class `point`), labels when few,
 * colour by group with a legend, axes named without fake units.
 */
export function scatterSvg(o: ScatterOptions): string {
  const width = o.width ?? 1000, height = o.height ?? 760;
  const left = 60, right = 220, top = 80, bottom = 60;
  const pw = width - left - right, ph = height - top - bottom;
  const xs = o.points.map((p) => p[0]), ys = o.points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const pad = 30; // keep marks off the frame
  const sx = (x: number) => left + pad + (x1 > x0 ? ((x - x0) / (x1 - x0)) * (pw - 2 * pad) : pw / 2 - pad);
  const sy = (y: number) =>
    top + ph - pad - (y1 > y0 ? ((y - y0) / (y1 - y0)) * (ph - 2 * pad) : ph / 2 - pad);
  // colours by the groups' names, not by which point came first: the same groups, the same colours
  const groupNames = [...new Set(o.groups)].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const colour = (g: string) => PALETTE[groupNames.indexOf(g) % PALETTE.length];
  const showLabels = o.points.length <= (o.maxLabels ?? 40);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="36" font-size="22" font-weight="bold">${esc(o.title)}</text>`,
  ];
  if (o.subtitle) parts.push(`<text x="${left}" y="60" font-size="13" fill="#555">${esc(o.subtitle)}</text>`);
  parts.push(
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
    `<text x="${left + pw / 2}" y="${
      height - 20
    }" font-size="14" text-anchor="middle">t-SNE dimension 1</text>`,
    `<text transform="translate(22 ${
      top + ph / 2
    }) rotate(-90)" font-size="14" text-anchor="middle">t-SNE dimension 2</text>`,
  );
  const at = o.points.map((p) => [sx(p[0]), sy(p[1])] as const);
  o.points.forEach((_, i) => {
    const [x, y] = at[i];
    parts.push(
      `<circle class="point" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="6" fill="${
        colour(o.groups[i])
      }" stroke="#333" stroke-width="0.7"><title>${esc(o.labels[i])}</title></circle>`,
    );
  });
  if (showLabels) {
    const frame = { x0: left, y0: top, x1: left + pw, y1: top + ph };
    for (const l of placeLabels(at, o.labels.map((s) => esc(s)), frame)) {
      parts.push(
        `<text class="label" x="${l.x.toFixed(1)}" y="${l.y.toFixed(1)}" font-size="12" fill="#222"${
          l.anchor === "end" ? ' text-anchor="end"' : l.anchor === "middle" ? ' text-anchor="middle"' : ""
        }>${l.text}</text>`,
      );
    }
  }
  groupNames.forEach((g, k) => {
    const y = top + 10 + k * 24;
    parts.push(
      `<circle cx="${left + pw + 30}" cy="${y}" r="6" fill="${colour(g)}" stroke="#333" stroke-width="0.7"/>`,
      `<text x="${left + pw + 44}" y="${y + 5}" font-size="13">${esc(g)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** A label's box, as {@linkcode placeLabels} estimates it (12 px DejaVu Sans: 7 px a character). */
export interface LabelBox {
  /** The text (already escaped for SVG). */
  text: string;
  /** Its anchor point, as SVG `x`/`y`. */
  x: number;
  /** Its baseline. */
  y: number;
  /** `text-anchor`. */
  anchor: "start" | "end" | "middle";
  /** The box it covers: left, top, right, bottom. */
  box: [number, number, number, number];
}

/**
 * Labels beside their points without covering each other or another point: each, nearest-first from the
 * crowd's edge, takes the first of eight places around its point (right, left, above, below, the corners)
 * that overlaps no label already placed, no other point and stays in the frame; a label with no free place
 * takes the one it overlaps least.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { placeLabels } from "./plot.ts";
 * // two points 10 px apart: their labels do not share a line
 * const [a, b] = placeLabels([[100, 100], [100, 110]], ["first", "second"], { x0: 0, y0: 0, x1: 400, y1: 400 });
 * const overlap = a.box[0] < b.box[2] && b.box[0] < a.box[2] && a.box[1] < b.box[3] && b.box[1] < a.box[3];
 * assert.equal(overlap, false);
 * ```
 */
export function placeLabels(
  points: readonly (readonly [number, number])[],
  texts: string[],
  frame: { x0: number; y0: number; x1: number; y1: number },
): LabelBox[] {
  const charWidth = 7, ascent = 10, descent = 3, gap = 9;
  const placed: LabelBox[] = [];
  const area = (a: number[], b: number[]) =>
    Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) *
    Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const out = new Array<LabelBox>(points.length);
  // the most crowded points choose first (more of their places are taken by neighbours' labels otherwise)
  const crowd = points.map((p, i) =>
    points.reduce((n, q, j) => n + (j !== i && Math.hypot(p[0] - q[0], p[1] - q[1]) < 60 ? 1 : 0), 0)
  );
  const order = points.map((_, i) => i).sort((a, b) => crowd[b] - crowd[a] || a - b);
  for (const i of order) {
    const [px, py] = points[i];
    const w = texts[i].replace(/&[a-z]+;/g, "x").length * charWidth;
    const candidates: Omit<LabelBox, "text">[] = [
      {
        x: px + gap,
        y: py + 4,
        anchor: "start",
        box: [px + gap, py + 4 - ascent, px + gap + w, py + 4 + descent],
      },
      {
        x: px - gap,
        y: py + 4,
        anchor: "end",
        box: [px - gap - w, py + 4 - ascent, px - gap, py + 4 + descent],
      },
      {
        x: px,
        y: py - gap,
        anchor: "middle",
        box: [px - w / 2, py - gap - ascent, px + w / 2, py - gap + descent],
      },
      {
        x: px,
        y: py + gap + ascent,
        anchor: "middle",
        box: [px - w / 2, py + gap, px + w / 2, py + gap + ascent + descent],
      },
      { x: px + 6, y: py - 7, anchor: "start", box: [px + 6, py - 7 - ascent, px + 6 + w, py - 7 + descent] },
      { x: px - 6, y: py - 7, anchor: "end", box: [px - 6 - w, py - 7 - ascent, px - 6, py - 7 + descent] },
      {
        x: px + 6,
        y: py + 7 + ascent,
        anchor: "start",
        box: [px + 6, py + 7, px + 6 + w, py + 7 + ascent + descent],
      },
      {
        x: px - 6,
        y: py + 7 + ascent,
        anchor: "end",
        box: [px - 6 - w, py + 7, px - 6, py + 7 + ascent + descent],
      },
    ];
    let best = candidates[0], bestCost = Infinity;
    for (const c of candidates) {
      const b = c.box;
      const outside = (b[0] < frame.x0 || b[2] > frame.x1 || b[1] < frame.y0 || b[3] > frame.y1) ? 1e6 : 0;
      let cost = outside;
      for (const l of placed) cost += area(b, l.box);
      points.forEach((q, j) => {
        if (j !== i) cost += area(b, [q[0] - 6, q[1] - 6, q[0] + 6, q[1] + 6]);
      });
      if (cost < bestCost) [best, bestCost] = [c, cost];
      if (cost === 0) break;
    }
    out[i] = { text: texts[i], ...best };
    placed.push(out[i]);
  }
  return out;
}

/** `text` broken at spaces into lines of at most `columns` characters (a longer word is its own line). */
function wrapText(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** A colour on a dark-blue → yellow ramp for t in [0, 1]. */
export function rampColour(t: number): string {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x)), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** A similarity heatmap (rows and columns in the given order), with a colour scale. */
export function heatmapSvg(matrix: Float64Array[], names: string[], title: string): string {
  const n = names.length;
  // labels cut to 40 characters: the grid, not the longest name, decides the canvas
  const labels = names.map((l) => l.length > 40 ? `${l.slice(0, 39)}…` : l);
  const showLabels = n <= 40;
  const cell = Math.max(4, Math.min(40, Math.floor(700 / Math.max(1, n))));
  const labelSpace = showLabels ? 20 + 6.3 * Math.max(...labels.map((l) => l.length)) : 20; // 11 px type
  const grid = n * cell;
  const barHeight = Math.min(300, Math.max(100, grid));
  // the canvas fits the grid, its labels and the colour bar; a long title wraps to fit it (it does not widen it)
  const width = Math.max(labelSpace + grid + 120, 360);
  const titleLines = wrapText(title, Math.floor((width - 40) / 9.5));
  const top = 30 + 24 * titleLines.length;
  const height = top + Math.max(grid, barHeight) + labelSpace + 20;
  let lo = Infinity, hi = -Infinity;
  for (const row of matrix) {
    for (const v of row) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...titleLines.map((line, k) =>
      `<text x="20" y="${36 + 24 * k}" font-size="17" font-weight="bold">${esc(line)}</text>`
    ),
  ];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      parts.push(
        `<rect class="cell" x="${labelSpace + j * cell}" y="${
          top + i * cell
        }" width="${cell}" height="${cell}" fill="${rampColour(t(matrix[i][j]))}"><title>${esc(names[i])} / ${
          esc(names[j])
        }: ${matrix[i][j].toFixed(4)}</title></rect>`,
      );
    }
    if (showLabels) {
      const mid = cell / 2 + 4;
      parts.push(
        `<text x="${labelSpace - 6}" y="${top + i * cell + mid}" font-size="11" text-anchor="end">${
          esc(labels[i])
        }</text>`,
        `<text transform="translate(${labelSpace + i * cell + mid} ${
          top + grid + 6
        }) rotate(90)" font-size="11">${esc(labels[i])}</text>`,
      );
    }
  }
  const sx = labelSpace + grid + 30, steps = 50, step = barHeight / steps;
  for (let k = 0; k < steps; k++) {
    parts.push(
      `<rect x="${sx}" y="${(top + (steps - 1 - k) * step).toFixed(1)}" width="20" height="${
        (step + 0.5).toFixed(1)
      }" fill="${rampColour(k / (steps - 1))}"/>`,
    );
  }
  parts.push(
    `<text x="${sx + 26}" y="${top + 10}" font-size="12">${hi.toFixed(3)}</text>`,
    `<text x="${sx + 26}" y="${top + barHeight}" font-size="12">${lo.toFixed(3)}</text>`,
    "</svg>",
  );
  return parts.join("\n");
}

/**
 * Rasterise SVG to PNG at `width` pixels with the bundled font (system fonts are not used).
 *
 * @throws {OpenL3Error} when the font package is missing (run `deno install`).
 */
export async function renderPng(svg: string, width?: number): Promise<Uint8Array> {
  return (await rasterize(svg, width)).png;
}

/** A rasterised picture: PNG bytes and the raw RGBA pixels. */
export interface Raster {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** RGBA, row-major. */
  pixels: Uint8Array;
  /** The PNG file's bytes. */
  png: Uint8Array;
}

/**
 * Rasterise SVG with the bundled font, returning both the PNG and the pixels.
 * resvg (a native library) is loaded on first use only.
 */
export async function rasterize(svg: string, width?: number): Promise<Raster> {
  let font = fontPath();
  try {
    Deno.statSync(font);
    font = realFile(font); // in a compiled binary, resvg needs the font on disk
  } catch {
    throw new OpenL3Error(`font not found at ${font}: run \`deno install\` to fetch the npm packages`);
  }
  const { Resvg } = await import("@resvg/resvg-js");
  const r = new Resvg(svg, {
    font: { fontFiles: [font], loadSystemFonts: false, defaultFontFamily: FONT },
    fitTo: width ? { mode: "width", value: width } : { mode: "original" },
    background: "white",
  });
  const image = r.render();
  return {
    width: image.width,
    height: image.height,
    pixels: new Uint8Array(image.pixels),
    png: image.asPng(),
  };
}
