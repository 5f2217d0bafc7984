/**
 * Generated songs with known answers, for the duplicates test and benchmark:
 * seeded "songs" (drums, bass, chords and a melody, each song its own tempo,
 * key, progression, timbres and rhythm), the same recording re-encoded by
 * ffmpeg every way a collection meets it (MP3 96–320 kbit/s, Ogg Vorbis,
 * Opus, FLAC, M4A/AAC, 22.05–96 kHz, mono, ±6 dB, 0–3 s trimmed or padded at
 * either end), and other versions of a song (tempo ±3–6 %, pitch ±1
 * semitone, another reverb), made with ffmpeg's atempo, rubberband and
 * aecho filters.
 *
 * @module
 */

import { join } from "node:path";
import { encodeWav } from "../lib/audio/wav.ts";
import { Rng } from "../lib/util/rng.ts";

/** Samples per second of the generated masters. */
export const SONG_RATE = 44100;

/** One generated song, stereo, at {@linkcode SONG_RATE}. */
export function synthesizeSong(seed: number, seconds: number): [Float32Array, Float32Array] {
  const rng = new Rng(seed * 7919 + 13);
  const sr = SONG_RATE, n = Math.round(seconds * sr);
  const left = new Float32Array(n), right = new Float32Array(n);
  const bpm = 80 + rng.uniform() * 80, beat = 60 / bpm;
  const root = 40 + Math.floor(rng.uniform() * 12); // MIDI note of the key
  const minor = rng.uniform() < 0.5;
  const scale = minor ? [0, 2, 3, 5, 7, 8, 10] : [0, 2, 4, 5, 7, 9, 11];
  const progression = Array.from({ length: 4 }, () => Math.floor(rng.uniform() * 7));
  const hz = (midi: number) => 440 * 2 ** ((midi - 69) / 12);
  const harmonics = (count: number) => Array.from({ length: count }, (_, h) => rng.uniform() / (h + 1));
  const chordTone = harmonics(2 + Math.floor(rng.uniform() * 5));
  const leadTone = harmonics(1 + Math.floor(rng.uniform() * 7));
  const bassTone = harmonics(2 + Math.floor(rng.uniform() * 3));
  const pan = rng.uniform() * 0.6 + 0.2;
  const add = (start: number, length: number, freq: number, tone: number[], gain: number, p: number) => {
    const a = Math.max(0, Math.round(start * sr)), b = Math.min(n, Math.round((start + length) * sr));
    for (let i = a; i < b; i++) {
      const t = (i - a) / sr;
      const env = Math.min(1, t * 200) * Math.exp(-t * (1.5 + 2 / length));
      let v = 0;
      for (let h = 0; h < tone.length; h++) v += tone[h] * Math.sin(2 * Math.PI * freq * (h + 1) * t);
      v *= gain * env;
      left[i] += v * (1 - p);
      right[i] += v * p;
    }
  };
  const noise = (start: number, length: number, gain: number, decay: number, bright: number) => {
    const a = Math.round(start * sr), b = Math.min(n, Math.round((start + length) * sr));
    let lp = 0;
    for (let i = a; i < b; i++) {
      const t = (i - a) / sr;
      const w = rng.uniform() * 2 - 1;
      lp += bright * (w - lp);
      const v = (w - lp * (1 - bright)) * gain * Math.exp(-t * decay);
      left[i] += v;
      right[i] += v;
    }
  };
  const kickEvery = rng.uniform() < 0.5 ? 1 : 2;
  const hatDivision = rng.uniform() < 0.5 ? 2 : 4;
  const melodyDensity = 0.3 + rng.uniform() * 0.6;
  for (let b = 0, t = 0; t < seconds; b++, t += beat) {
    const bar = Math.floor(b / 4);
    const degree = progression[bar % 4];
    const chordRoot = root + scale[degree];
    if (b % 4 === 0) {
      for (const step of [0, 2, 4]) {
        const d = (degree + step) % 7;
        add(t, beat * 4, hz(root + 12 + scale[d] + (degree + step >= 7 ? 12 : 0)), chordTone, 0.05, pan);
      }
    }
    if (b % kickEvery === 0) add(t, 0.25, 55, [1], 0.5, 0.5);
    if (b % 2 === 1) noise(t, 0.2, 0.15, 18, 0.6);
    for (let h = 0; h < hatDivision; h++) noise(t + (h * beat) / hatDivision, 0.05, 0.04, 60, 0.95);
    add(t, beat * 0.9, hz(chordRoot - 12), bassTone, 0.18, 0.5);
    for (let s = 0; s < 2; s++) {
      if (rng.uniform() < melodyDensity) {
        const note = root + 24 + scale[Math.floor(rng.uniform() * 7)] + (rng.uniform() < 0.2 ? 12 : 0);
        add(t + (s * beat) / 2, beat / 2, hz(note), leadTone, 0.09, 1 - pan);
      }
    }
  }
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(left[i]), Math.abs(right[i]));
  const g = peak > 0 ? 0.45 / peak : 1; // +6 dB still below full scale
  for (let i = 0; i < n; i++) {
    left[i] *= g;
    right[i] *= g;
  }
  return [left, right];
}

/** How a copy of a recording was made: ffmpeg's arguments and a name. */
export interface Rendering {
  /** For names and reports. */
  name: string;
  /** The file's extension. */
  ext: string;
  /** ffmpeg output arguments (codec, rate, channels, filters). */
  args: string[];
}

/** Every way a collection meets the same recording (the copies). */
export const COPY_RENDERINGS: Rendering[] = [
  { name: "mp3-96k", ext: "mp3", args: ["-c:a", "libmp3lame", "-b:a", "96k"] },
  {
    name: "mp3-128k-22k-mono",
    ext: "mp3",
    args: ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "22050", "-ac", "1"],
  },
  { name: "mp3-320k", ext: "mp3", args: ["-c:a", "libmp3lame", "-b:a", "320k"] },
  { name: "ogg", ext: "ogg", args: ["-c:a", "libvorbis", "-q:a", "3"] },
  { name: "opus", ext: "opus", args: ["-c:a", "libopus", "-b:a", "64k"] },
  { name: "flac-96k", ext: "flac", args: ["-c:a", "flac", "-ar", "96000"] },
  { name: "m4a", ext: "m4a", args: ["-c:a", "aac", "-b:a", "128k"] },
  { name: "wav-32k-mono", ext: "wav", args: ["-ar", "32000", "-ac", "1"] },
  { name: "louder-6db", ext: "flac", args: ["-af", "volume=6dB", "-c:a", "flac"] },
  { name: "quieter-6db", ext: "mp3", args: ["-af", "volume=-6dB", "-c:a", "libmp3lame", "-b:a", "192k"] },
  { name: "trimmed-1.7s", ext: "mp3", args: ["-ss", "1.7", "-c:a", "libmp3lame", "-b:a", "192k"] },
  { name: "padded-2.4s", ext: "ogg", args: ["-af", "adelay=2400:all=1", "-c:a", "libvorbis", "-q:a", "4"] },
  { name: "end-trimmed-3s", ext: "flac", args: ["-af", "areverse,atrim=start=3,areverse", "-c:a", "flac"] },
  {
    name: "trimmed-0.6s-padded-end-3s-48k",
    ext: "m4a",
    args: ["-ss", "0.6", "-af", "apad=pad_dur=3", "-ar", "48000", "-c:a", "aac", "-b:a", "160k"],
  },
];

/** Other versions of a song: not the same recording. */
export const VERSION_RENDERINGS: Rendering[] = [
  { name: "tempo+4%", ext: "flac", args: ["-af", "atempo=1.04", "-c:a", "flac"] },
  { name: "tempo-6%", ext: "flac", args: ["-af", "atempo=0.94", "-c:a", "flac"] },
  { name: "tempo+3%", ext: "mp3", args: ["-af", "atempo=1.03", "-c:a", "libmp3lame", "-b:a", "192k"] },
  { name: "pitch+1", ext: "flac", args: ["-af", "rubberband=pitch=1.059463", "-c:a", "flac"] },
  {
    name: "pitch-1",
    ext: "mp3",
    args: ["-af", "rubberband=pitch=0.943874", "-c:a", "libmp3lame", "-b:a", "192k"],
  },
  { name: "reverb", ext: "flac", args: ["-af", "aecho=0.8:0.7:60|110|170:0.45|0.3|0.2", "-c:a", "flac"] },
];

/** Render `master` (a WAV file) with ffmpeg into `out`. */
export async function render(master: string, out: string, r: Rendering): Promise<void> {
  const res = await new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-loglevel", "error", "-y", "-i", master, ...r.args, out],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!res.success) throw new Error(`ffmpeg ${r.name}: ${new TextDecoder().decode(res.stderr)}`);
}

/** A generated collection and its answers. */
export interface GeneratedCollection {
  /** Every file. */
  files: string[];
  /** File → the recording it is (the master's number). */
  recording: Map<string, number>;
  /** File → the song it is a version of (the master's number), for versions only. */
  versionOf: Map<string, number>;
  /** File → how it was made (`master`, a copy's or a version's name). */
  how: Map<string, string>;
}

/** Options of {@linkcode generateCollection}. */
export interface CollectionPlan {
  /** Distinct songs. */
  songs: number;
  /** Seconds each (varied ±20 % by song). */
  seconds: number;
  /** Songs that get copies (each gets `copiesPerSong`). */
  withCopies: number;
  /** Copies of each of those. */
  copiesPerSong: number;
  /** Songs that get another version (each one, of one kind). */
  withVersions: number;
  /** Seed of the plan. */
  seed: number;
}

/**
 * Write a collection into `dir`: the masters (FLAC, as a collection's lossless originals), copies of some
 * made every way {@linkcode COPY_RENDERINGS} lists, and other versions of others.
 */
export async function generateCollection(dir: string, plan: CollectionPlan): Promise<GeneratedCollection> {
  await Deno.mkdir(dir, { recursive: true });
  const rng = new Rng(plan.seed);
  const out: GeneratedCollection = { files: [], recording: new Map(), versionOf: new Map(), how: new Map() };
  const tmp = await Deno.makeTempDir({ prefix: "openl3-songs-" });
  try {
    let copyAt = 0, versionAt = 0;
    for (let s = 0; s < plan.songs; s++) {
      const seconds = plan.seconds * (0.8 + 0.4 * rng.uniform());
      const wav = join(tmp, `song${s}.wav`);
      await Deno.writeFile(wav, encodeWav(synthesizeSong(plan.seed * 100_003 + s, seconds), SONG_RATE));
      const name = `song${String(s).padStart(4, "0")}`;
      const master = join(dir, `${name}.flac`);
      await render(wav, master, { name: "master", ext: "flac", args: ["-c:a", "flac"] });
      out.files.push(master);
      out.recording.set(master, s);
      out.how.set(master, "master");
      if (s < plan.withCopies) {
        for (let c = 0; c < plan.copiesPerSong; c++) {
          const r = COPY_RENDERINGS[copyAt++ % COPY_RENDERINGS.length];
          const file = join(dir, `${name}.copy-${r.name}.${r.ext}`);
          await render(wav, file, r);
          out.files.push(file);
          out.recording.set(file, s);
          out.how.set(file, r.name);
        }
      } else if (s < plan.withCopies + plan.withVersions) {
        const r = VERSION_RENDERINGS[versionAt++ % VERSION_RENDERINGS.length];
        const file = join(dir, `${name}.version-${r.name}.${r.ext}`);
        await render(wav, file, r);
        out.files.push(file);
        out.recording.set(file, 1_000_000 + out.files.length); // a recording of its own
        out.versionOf.set(file, s);
        out.how.set(file, r.name);
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  return out;
}
