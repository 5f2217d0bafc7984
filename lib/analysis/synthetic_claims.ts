/**
 * The original project's claims about its eight synthetic sounds, checked
 * on cosine similarities with the figures behind each verdict.
 *
 * @module
 */

import { cosineSimilarity } from "../util/vector_math.ts";

/** Named vectors, in a fixed order. */
export interface VectorSet {
  /** Song ids. */
  ids: string[];
  /** One vector per id, in the same order. */
  vectors: Float64Array[];
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
  // only as the original scripts store them: a file stem (SQLite), or previews:<file> (a PostgreSQL run); a
  // file of someone's own collection that happens to share a name is not the synthetic set
  const m = /^(?:previews:)?([^\\/:]+?)(?:\.[a-z0-9]+)?$/i.exec(id);
  return m && all.includes(m[1]) ? m[1] : undefined;
}

/** One claim of the validation report. */
export interface Claim {
  /** What the original project claims. */
  claim: string;
  /** The figures behind the verdict. */
  figures: string;
  /** Whether the figures bear it out. */
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
