/**
 * `deno task bench-playlist`: playlists over many songs — a radio of 50 and a path of 30 at 100 000 and
 * 1 000 000 songs, on the vectors `bench-ann` uses (512-d, clustered around 1 000 centres), with the rules
 * on (an artist per 10 songs, at most 3 songs per artist) — time per playlist, median of 5, after the index
 * is loaded; and what the choices give:
 *
 * - the path's worst step against the plain great-circle fill and the nearest-neighbour chain (mean over
 *   10 random pairs of songs);
 * - the radio drawn from the 2 000 songs nearest the seeds against the same radio scoring every song
 *   (the share of its songs both lists hold), at 100 000 songs.
 *
 *     deno task bench-playlist [--sizes 100000,1000000] [--pairs 10]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { VectorIndex } from "../lib/analysis/vector_index.ts";
import { PlaylistRules, type SongFacts } from "../lib/analysis/playlist_rules.ts";
import { radio } from "../lib/analysis/radio.ts";
import { songPath } from "../lib/analysis/song_path.ts";
import { Rng } from "../lib/util/rng.ts";

const { values } = parseArgs({ options: { sizes: { type: "string" }, pairs: { type: "string" } } });
const sizes = (values.sizes ?? "100000,1000000").split(",").map(Number);
const pairs = Number(values.pairs ?? 10);
const d = 512;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

console.log(
  `playlists over clustered 512-d vectors (1 000 centres), ${navigator.hardwareConcurrency} cores; ` +
    "rules: at most 3 songs per artist, no artist twice in a row (an artist per 10 songs)",
);
console.log("| songs | playlist | median time (5 runs) | songs |");
console.log("|---|---|---|---|");
for (const n of sizes) {
  const rng = new Rng(n);
  const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: d }, () => rng.normal()));
  const raw = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[i % 1000];
    for (let k = 0; k < d; k++) raw[i * d + k] = c[k] + 0.6 * rng.normal();
  }
  const index = VectorIndex.fromMatrix(Array.from({ length: n }, (_, i) => `s${i}`), d, raw);
  const facts: SongFacts[] = Array.from({ length: n }, () => ({
    artist: `a${Math.floor(rng.uniform() * (n / 10))}`,
    artistFromFolder: false,
    duration: 180 + 120 * rng.uniform(),
  }));
  const rules = () => new PlaylistRules(facts, { maxPerArtist: 3 });
  const seed = (r: number) => ({ row: r, vector: index.vector(r) });
  const radioMs: number[] = [], pathMs: number[] = [];
  let radioLen = 0, pathLen = 0;
  for (let run = 0; run < 5; run++) {
    const a = Math.floor(rng.uniform() * n), b = Math.floor(rng.uniform() * n);
    let t = performance.now();
    radioLen = (await radio(index, rules(), { seeds: [seed(a)], count: 50 })).entries.length;
    radioMs.push(performance.now() - t);
    t = performance.now();
    pathLen = (await songPath(index, rules(), { anchors: [seed(a), seed(b)], count: 30 })).entries.length;
    pathMs.push(performance.now() - t);
  }
  const row = (what: string, ms: number[], len: number) =>
    console.log(`| ${n.toLocaleString("en")} | ${what} | ${median(ms).toFixed(0)} ms | ${len} |`);
  row("radio of 50", radioMs, radioLen);
  row("path of 30", pathMs, pathLen);

  if (n <= 100_000) {
    const worst = { path: [] as number[], gc: [] as number[], chain: [] as number[], direct: [] as number[] };
    let overlap = 0;
    for (let p = 0; p < pairs; p++) {
      const a = Math.floor(rng.uniform() * n), b = Math.floor(rng.uniform() * n);
      const r = await songPath(index, rules(), { anchors: [seed(a), seed(b)], count: 30 });
      worst.path.push(r.report.worst);
      worst.gc.push(r.greatCircle.worst);
      worst.chain.push(r.nearestChain.worst);
      worst.direct.push(r.direct);
      const pooled = await radio(index, rules(), { seeds: [seed(a)], count: 50 });
      const full = await radio(index, rules(), { seeds: [seed(a)], count: 50, pool: n });
      const inFull = new Set(full.entries.map((e) => e.row));
      overlap += pooled.entries.filter((e) => inFull.has(e.row)).length / full.entries.length;
    }
    console.log(
      `\nat ${
        n.toLocaleString("en")
      } songs, ${pairs} random pairs, a path of 30: mean worst step (lowest cosine between neighbours, higher is smoother) ` +
        `${mean(worst.path).toFixed(3)} (the great-circle fill ${
          mean(worst.gc).toFixed(3)
        }, the nearest-neighbour ` +
        `chain ${mean(worst.chain).toFixed(3)}, the direct jump ${mean(worst.direct).toFixed(3)}); ` +
        `the path beats or equals the fill in ${
          worst.path.filter((w, i) => w >= worst.gc[i] - 1e-9).length
        } ` +
        `of ${pairs}`,
    );
    console.log(
      `a radio of 50 from the 2 000 songs nearest its seed holds ${(100 * overlap / pairs).toFixed(1)} % ` +
        `of the songs the same radio scoring all ${n.toLocaleString("en")} songs picks\n`,
    );
  }
}
