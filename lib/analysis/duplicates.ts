/**
 * The same recording, found from the audio's own time structure: two songs'
 * timelines (`frontend/timeline.ts`: band loudness every quarter second) are
 * aligned over every offset within {@linkcode MAX_OFFSET} seconds (trimmed or
 * padded copies start earlier or later), and compared moment by moment.
 *
 * - **Copies** (the same recording, re-encoded at any format, bitrate or rate,
 *   mono or stereo, louder or quieter, trimmed or padded): aligned, they agree
 *   nearly everywhere ({@linkcode COPY_SCORE}), at one offset from start to
 *   end (the offsets of the four quarters differ by at most a step), with the
 *   same average spectrum (within {@linkcode COPY_PROFILE} dB).
 * - **Versions** (another take of the song: a few percent faster, another key,
 *   another mix or room): aligned, they still agree far more than two songs do
 *   ({@linkcode VERSION_SCORE}), but their offset drifts (tempo), or their
 *   average spectrum moves (key, reverb).
 *
 * Each step is compared after the song's own normalisation: decibels below
 * that step's loudest band (gain does not matter), floored 60 dB down, each
 * band centred and scaled over the song; steps more than 40 dB under the
 * song's median loudness (silence, padding) are left out.
 *
 * Candidate pairs come from the songs' average spectra (a song is compared
 * with its {@linkcode DuplicateOptions.candidates} nearest), so a collection of
 * n songs costs n × candidates alignments, not n².
 *
 * @module
 */

import { type Timeline, TIMELINE_VERSION } from "../frontend/timeline.ts";

/** Seconds two copies may be shifted by (trimmed or padded). */
export const MAX_OFFSET = 10;
/** Least mean aligned agreement of two copies of a recording. */
export const COPY_SCORE = 0.75;
/** Largest difference of two copies' average spectra, dB (RMS over bands). */
export const COPY_PROFILE = 0.4;
/** Tempo ratios tried for another version of a song played faster or slower. */
export const STRETCHES: readonly number[] = [0.94, 0.95, 0.96, 0.97, 0.98, 1.02, 1.03, 1.04, 1.05, 1.06];
/** Least mean aligned agreement of two versions of a song. */
export const VERSION_SCORE = 0.5;
/**
 * Below this agreement of the one-second timelines (a pass 35 times cheaper), a pair is neither: measured on
 * the generated collection of `bench-duplicates`, copies and versions agree there at 0.55 or more, other
 * songs at 0.41 at most.
 */
export const COARSE_SCORE = 0.45;

const FLOOR = 60, SILENCE = 40;

/** A timeline made ready for comparison. */
export interface TimelineFeatures {
  /** Seconds per step. */
  step: number;
  /** Bands per step. */
  bands: number;
  /** steps × bands, each step centred, scaled and unit (zero for a silent step). */
  rows: Float32Array;
  /** Which steps are not silent. */
  sounding: Uint8Array;
  /** The song's average spectrum (dB below each step's loudest band, mean over bands removed). */
  profile: Float64Array;
  /** Steps. */
  steps: number;
}

/** Decode and normalise a timeline (see the module's description). */
export function timelineFeatures(t: Timeline): TimelineFeatures {
  const bands = t.bands, steps = Math.floor(t.codes.length / bands);
  const db = new Float64Array(steps * bands);
  const loud = new Float64Array(steps);
  for (let s = 0; s < steps; s++) {
    let top = -Infinity;
    for (let b = 0; b < bands; b++) top = Math.max(top, t.codes[s * bands + b] / 2);
    loud[s] = top;
    for (let b = 0; b < bands; b++) db[s * bands + b] = Math.max(t.codes[s * bands + b] / 2 - top, -FLOOR);
  }
  const sorted = Float64Array.from(loud).sort();
  const median = steps ? sorted[Math.floor(steps / 2)] : 0;
  const sounding = Uint8Array.from(loud, (l) => (l > median - SILENCE ? 1 : 0));
  const kept = sounding.reduce((a, b) => a + b, 0) || 1;
  const mean = new Float64Array(bands), sd = new Float64Array(bands);
  for (let s = 0; s < steps; s++) {
    if (sounding[s]) { for (let b = 0; b < bands; b++) mean[b] += db[s * bands + b] / kept; }
  }
  for (let s = 0; s < steps; s++) {
    if (sounding[s]) { for (let b = 0; b < bands; b++) sd[b] += (db[s * bands + b] - mean[b]) ** 2 / kept; }
  }
  const rows = new Float32Array(steps * bands);
  for (let s = 0; s < steps; s++) {
    if (!sounding[s]) continue;
    let n = 0;
    for (let b = 0; b < bands; b++) {
      const v = (db[s * bands + b] - mean[b]) / (Math.sqrt(sd[b]) + 0.5);
      rows[s * bands + b] = v;
      n += v * v;
    }
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let b = 0; b < bands; b++) rows[s * bands + b] *= inv;
  }
  const avg = mean.reduce((a, b) => a + b, 0) / bands;
  return { step: t.step, bands, rows, sounding, profile: mean.map((m) => m - avg), steps };
}

/** How two songs' timelines compare. */
export interface TimelineMatch {
  /** Mean agreement (cosine) of their aligned sounding steps, −1 to 1. */
  score: number;
  /** Seconds the second starts after the first (negative: before). */
  offset: number;
  /** Steps the best offset moves between the four quarters of the overlap (a tempo change drifts). */
  drift: number;
  /** RMS difference of their average spectra, dB. */
  profileDistance: number;
  /** The best agreement with the second played faster or slower (a ratio of {@linkcode STRETCHES}), when tried. */
  stretched?: { ratio: number; score: number };
}

/**
 * Mean aligned agreement at offset `o` (steps) over steps [lo, hi) of `a`, `b`'s step i·ratio + o against
 * `a`'s step i; null when under half overlap.
 */
function agreement(
  a: TimelineFeatures,
  b: TimelineFeatures,
  o: number,
  lo: number,
  hi: number,
  ratio = 1,
): number | null {
  const d = a.bands;
  let sum = 0, n = 0, possible = 0;
  const from = ratio === 1 ? Math.max(lo, -o) : lo, to = ratio === 1 ? Math.min(hi, b.steps - o) : hi;
  for (let i = from; i < to; i++) {
    const j = ratio === 1 ? i + o : Math.round(i * ratio) + o;
    if (j < 0 || j >= b.steps) continue;
    possible++;
    if (!a.sounding[i] || !b.sounding[j]) continue;
    let dot = 0;
    for (let k = 0; k < d; k++) dot += a.rows[i * d + k] * b.rows[j * d + k];
    sum += dot;
    n++;
  }
  const need = 0.5 * Math.min(hi - lo, b.steps);
  return possible >= need && n > 0 && n >= 0.5 * possible ? sum / n : null;
}

const coarseCache = new WeakMap<TimelineFeatures, TimelineFeatures>();

/** A timeline at one step a second: four steps averaged and made unit again. */
export function coarse(f: TimelineFeatures): TimelineFeatures {
  let c = coarseCache.get(f);
  if (c) return c;
  const k = Math.max(1, Math.round(1 / f.step)), steps = Math.floor(f.steps / k), d = f.bands;
  const rows = new Float32Array(steps * d), sounding = new Uint8Array(steps);
  for (let s = 0; s < steps; s++) {
    let n = 0;
    for (let j = 0; j < k; j++) {
      const i = s * k + j;
      if (!f.sounding[i]) continue;
      n++;
      for (let b = 0; b < d; b++) rows[s * d + b] += f.rows[i * d + b];
    }
    if (!n) continue;
    sounding[s] = 1;
    let m = 0;
    for (let b = 0; b < d; b++) m += rows[s * d + b] ** 2;
    const inv = m > 0 ? 1 / Math.sqrt(m) : 0;
    for (let b = 0; b < d; b++) rows[s * d + b] *= inv;
  }
  c = { ...f, step: f.step * k, rows, sounding, steps };
  coarseCache.set(f, c);
  return c;
}

/** The best mean agreement of two songs' one-second timelines over every offset (the cheap first pass). */
export function coarseAgreement(a: TimelineFeatures, b: TimelineFeatures): number {
  const ca = coarse(a), cb = coarse(b);
  const maxO = Math.round(MAX_OFFSET / ca.step);
  let best = -2;
  for (let o = -maxO; o <= maxO; o++) {
    const s = agreement(ca, cb, o, 0, ca.steps);
    if (s !== null && s > best) best = s;
  }
  return best;
}

/** The RMS difference of two average spectra, dB. */
export function profileDistance(a: TimelineFeatures, b: TimelineFeatures): number {
  let s = 0;
  for (let k = 0; k < a.bands; k++) s += (a.profile[k] - b.profile[k]) ** 2;
  return Math.sqrt(s / a.bands);
}

/**
 * Align two timelines and compare them (see {@linkcode TimelineMatch}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchTimelines, timelineFeatures } from "./duplicates.ts";
 * // a timeline of random steps, and the same shifted by 2 s (8 steps)
 * let seed = 7;
 * const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
 * const codes = Uint8Array.from({ length: 200 * 32 }, () => 180 + Math.floor(75 * rand()));
 * const t = { version: 1, step: 0.25, bands: 32, codes };
 * const shifted = { ...t, codes: codes.slice(8 * 32) };
 * const m = matchTimelines(timelineFeatures(t), timelineFeatures(shifted));
 * assert.equal(m.offset, -2);
 * assert.ok(m.score > 0.99 && m.drift === 0);
 * ```
 */
export function matchTimelines(a: TimelineFeatures, b: TimelineFeatures): TimelineMatch {
  const maxO = Math.round(MAX_OFFSET / a.step);
  let best = -2, bestO = 0;
  // coarse: every other offset; then the neighbours of the three best (music repeats: the true offset's
  // even neighbours may not be the best even offsets)
  const coarse: { o: number; s: number }[] = [];
  for (let o = -maxO; o <= maxO; o += 2) {
    const s = agreement(a, b, o, 0, a.steps);
    if (s !== null) coarse.push({ o, s });
  }
  coarse.sort((x, y) => y.s - x.s);
  for (const { o: c, s: cs } of coarse.slice(0, 3)) {
    if (cs > best) [best, bestO] = [cs, c];
    for (const o of [c - 1, c + 1]) {
      const s = agreement(a, b, o, 0, a.steps);
      if (s !== null && s > best) [best, bestO] = [s, o];
    }
  }
  const profile = profileDistance(a, b);
  if (best <= -2) return { score: -1, offset: 0, drift: Infinity, profileDistance: profile };
  // the best offset of each quarter, near the global one
  const offsets: number[] = [];
  const span = Math.round(8 / a.step);
  for (let q = 0; q < 4; q++) {
    const lo = Math.floor((q * a.steps) / 4), hi = Math.floor(((q + 1) * a.steps) / 4);
    let qBest = -2, qO = bestO;
    for (let o = bestO - span; o <= bestO + span; o++) {
      const s = agreement(a, b, o, lo, hi);
      if (s !== null && s > qBest) [qBest, qO] = [s, o];
    }
    // music repeats (a bar, a chorus): another offset counts only when clearly better than the global one
    const atGlobal = agreement(a, b, bestO, lo, hi);
    if (atGlobal !== null && atGlobal >= qBest - 0.03) qO = bestO;
    if (qBest > -2) offsets.push(qO);
  }
  const drift = offsets.length >= 2 ? Math.max(...offsets) - Math.min(...offsets) : 0;
  const match: TimelineMatch = { score: best, offset: bestO * a.step, drift, profileDistance: profile };
  // not a copy, yet not far: another take, faster or slower? (b's step i·ratio + o against a's step i)
  if (best >= 0.3 && (best < COPY_SCORE || drift > 1)) {
    let sBest = -2, sRatio = 1;
    for (const ratio of STRETCHES) {
      for (let o = -maxO; o <= maxO; o += 2) {
        const s = agreement(a, b, o, 0, a.steps, ratio);
        if (s !== null && s > sBest) [sBest, sRatio] = [s, ratio];
      }
    }
    if (sBest > -2) match.stretched = { ratio: sRatio, score: sBest };
  }
  return match;
}

/** What a match says two songs are. */
export function classify(m: TimelineMatch): "copies" | "versions" | null {
  if (m.score >= COPY_SCORE && m.drift <= 1 && m.profileDistance <= COPY_PROFILE) return "copies";
  if (Math.max(m.score, m.stretched?.score ?? -1) >= VERSION_SCORE) return "versions";
  return null;
}

/** A song as the duplicates search sees it. */
export interface DuplicateSong {
  /** Its id. */
  id: string;
  /** Its timeline. */
  timeline: Timeline;
  /** Its file (for the report). */
  path: string;
  /** Detected format (`flac`, `mp3`, …). */
  format?: string;
  /** Bytes. */
  size?: number;
  /** Seconds. */
  duration: number;
  /** The file's sample rate. */
  sampleRate?: number;
  /** The file's channels. */
  channels?: number;
}

/** A song of a group, with how it matched the group's best. */
export interface GroupedSong extends DuplicateSong {
  /** Its match with the group's best (the best's own: score 1). */
  match: TimelineMatch;
}

/** Songs that are one recording (copies) or one song (versions). */
export interface DuplicateGroup {
  /** Copies of one recording, or versions of one song. */
  kind: "copies" | "versions";
  /** The copy to keep (copies), or the first version (versions). */
  best: string;
  /** Why that one. */
  why: string;
  /** The songs, the best first. */
  songs: GroupedSong[];
}

/** What a store says of a song that {@linkcode duplicateSongs} needs: a {@linkcode DuplicateSong} by `songId`, without its timeline. */
export type StoredSongFacts = Omit<DuplicateSong, "id" | "timeline"> & {
  /** Its id. */
  songId: string;
};

/**
 * The songs to compare: each stored song with a timeline of this version, and how many have none (stored by
 * an older version, or a timeline of another version).
 */
export function duplicateSongs(
  summaries: readonly StoredSongFacts[],
  timelines: Map<string, Timeline>,
): { songs: DuplicateSong[]; without: number } {
  const songs: DuplicateSong[] = [];
  let without = 0;
  for (const s of summaries) {
    const t = timelines.get(s.songId);
    if (!t || t.version !== TIMELINE_VERSION) {
      without++;
      continue;
    }
    songs.push({
      id: s.songId,
      timeline: t,
      path: s.path,
      format: s.format,
      size: s.size,
      duration: s.duration,
      sampleRate: s.sampleRate,
      channels: s.channels,
    });
  }
  return { songs, without };
}

/** A group as JSON (`duplicates --json`, the explorer's `/api/duplicates`): the timelines left out. */
export function groupJson(g: DuplicateGroup): Record<string, unknown> {
  return {
    kind: g.kind,
    best: g.best,
    why: g.why,
    songs: g.songs.map((s) => ({
      id: s.id,
      path: s.path,
      format: s.format,
      size: s.size,
      duration: s.duration,
      sampleRate: s.sampleRate,
      channels: s.channels,
      score: s.match.score,
      offset: s.match.offset,
    })),
  };
}

/** Options of {@linkcode findDuplicates}. */
export interface DuplicateOptions {
  /**
   * Songs each song is compared with: those with the nearest average spectra.
   * @default {12}
   */
  candidates?: number;
  /** Told the fraction done, now and then. */
  onProgress?: (fraction: number) => void;
}

const LOSSLESS = new Set(["wav", "flac", "aiff", "alac", "wave"]);

/** Kilobits a second of a song's file (its size over its duration), or 0 when unknown. */
function bitrate(s: DuplicateSong): number {
  return s.size && s.duration > 0 ? (s.size * 8) / s.duration / 1000 : 0;
}

/** Which copy is best: lossless over lossy, then the higher bitrate, then the longer; and why, in words. */
export function bestCopy(songs: DuplicateSong[]): { best: DuplicateSong; why: string } {
  const rank = (s: DuplicateSong) => [
    LOSSLESS.has(s.format ?? "") ? 1 : 0,
    Math.round(bitrate(s) / 8), // 8 kbit/s apart or more
    Math.round(s.duration * 2), // half a second longer or more
    s.sampleRate ?? 0,
    s.channels ?? 0,
  ];
  const sorted = [...songs].sort((a, b) => {
    const ra = rank(a), rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i];
    return a.id < b.id ? -1 : 1;
  });
  const best = sorted[0], next = sorted[1];
  const [rb, rn] = [rank(best), next ? rank(next) : rank(best)];
  const why = !next
    ? "the only one"
    : rb[0] !== rn[0]
    ? `lossless (${best.format})`
    : rb[1] !== rn[1]
    ? `the highest bitrate (${Math.round(bitrate(best))} kbit/s against ${Math.round(bitrate(next))})`
    : rb[2] !== rn[2]
    ? `the longest (${best.duration.toFixed(1)} s against ${next.duration.toFixed(1)})`
    : rb[3] !== rn[3]
    ? `the highest sample rate (${best.sampleRate} Hz)`
    : "as good as the others (the first by id)";
  return { best, why };
}

/** The `k` songs with the nearest average spectra to each song (Euclidean), itself left out. */
function nearestProfiles(features: TimelineFeatures[], k: number): Int32Array[] {
  const n = features.length, d = features[0]?.bands ?? 0;
  const flat = new Float64Array(n * d);
  features.forEach((f, i) => flat.set(f.profile, i * d));
  const out: Int32Array[] = [];
  const dist = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = flat[i * d + c] - flat[j * d + c];
        s += t * t;
      }
      dist[j] = j === i ? Infinity : s;
    }
    // the k smallest, by insertion (k is small)
    const best: number[] = [];
    for (let j = 0; j < n; j++) {
      if (dist[j] === Infinity || (best.length === k && dist[j] >= dist[best[k - 1]])) continue;
      let at = best.length < k ? best.length : k - 1;
      if (best.length < k) best.push(j);
      while (at > 0 && dist[best[at - 1]] > dist[j]) {
        best[at] = best[at - 1];
        at--;
      }
      best[at] = j;
    }
    out.push(Int32Array.from(best));
  }
  return out;
}

/**
 * Group a collection's songs into copies of one recording and versions of one song (see the module's
 * description). Songs in no group are left out.
 */
export function findDuplicates(songs: DuplicateSong[], options: DuplicateOptions = {}): DuplicateGroup[] {
  const n = songs.length;
  const features = songs.map((s) => timelineFeatures(s.timeline));
  const near = nearestProfiles(features, Math.min(n - 1, options.candidates ?? 12));
  // union–find over copy pairs; version pairs kept for the second pass
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const versions: [number, number][] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (i % 64 === 0) options.onProgress?.(i / n);
    for (const j of near[i]) {
      const key = i < j ? `${i},${j}` : `${j},${i}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // a copy's average spectrum is within COPY_PROFILE; a version's not far beyond (a pitch a semitone off)
      if (profileDistance(features[i], features[j]) > 4 * COPY_PROFILE) continue;
      if (coarseAgreement(features[i], features[j]) < COARSE_SCORE) continue;
      const kind = classify(matchTimelines(features[i], features[j]));
      if (kind === "copies") parent[find(i)] = find(j);
      else if (kind === "versions") versions.push([i, j]);
    }
  }
  options.onProgress?.(1);
  const groups: DuplicateGroup[] = [];
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (!members.has(r)) members.set(r, []);
    members.get(r)!.push(i);
  }
  const bestOf = new Map<number, number>(); // copy group root → its best song
  for (const [root, rows] of members) {
    const { best, why } = bestCopy(rows.map((r) => songs[r]));
    const b = songs.indexOf(best);
    bestOf.set(root, b);
    if (rows.length < 2) continue;
    groups.push({
      kind: "copies",
      best: best.id,
      why,
      songs: [b, ...rows.filter((r) => r !== b)].map((r) => ({
        ...songs[r],
        match: r === b
          ? { score: 1, offset: 0, drift: 0, profileDistance: 0 }
          : matchTimelines(features[b], features[r]),
      })),
    });
  }
  // versions: copy groups linked by a version pair, each group by its best copy
  const vParent = new Map<number, number>();
  const vFind = (i: number): number => {
    const p = vParent.get(i) ?? i;
    if (p === i) return i;
    const r = vFind(p);
    vParent.set(i, r);
    return r;
  };
  for (const [i, j] of versions) {
    const a = vFind(find(i)), b = vFind(find(j));
    if (a !== b) vParent.set(a, b);
  }
  const vMembers = new Map<number, number[]>();
  for (const root of members.keys()) {
    const v = vFind(root);
    if (!vMembers.has(v)) vMembers.set(v, []);
    vMembers.get(v)!.push(bestOf.get(root)!);
  }
  for (const rows of vMembers.values()) {
    if (rows.length < 2) continue;
    rows.sort((a, b) => (songs[a].id < songs[b].id ? -1 : 1));
    const first = rows[0];
    groups.push({
      kind: "versions",
      best: songs[first].id,
      why: "versions are different recordings: each is kept (the best copy of each stands for its copies)",
      songs: rows.map((r) => ({
        ...songs[r],
        match: r === first
          ? { score: 1, offset: 0, drift: 0, profileDistance: 0 }
          : matchTimelines(features[first], features[r]),
      })),
    });
  }
  return groups.sort((
    a,
    b,
  ) => (a.kind !== b.kind ? (a.kind === "copies" ? -1 : 1) : a.best < b.best ? -1 : 1));
}
