/**
 * A small tagged collection for the playlist, duplicates and MPD tests: generated songs written by ffmpeg
 * into artist folders (FLAC, MP3, Ogg), with artist and title tags on most, none on some (their folder
 * stands for the artist), a copy of one recording re-encoded, and another version of one song.
 */
import { join } from "node:path";
import { encodeWav } from "../lib/audio/wav.ts";
import { synthesizeSong } from "./generated_songs.ts";
import { convertedTestWeights } from "./test_model.ts";
import { embedCollection } from "../lib/pipeline/collection.ts";

/** One file of the folder. */
export interface FolderSong {
  /** Path under the folder. */
  rel: string;
  /** Artist tag (none: the folder stands for it). */
  artist?: string;
  /** Title tag. */
  title: string;
  /** The generated song it is (copies share it). */
  song: number;
  /** ffmpeg's codec arguments. */
  codec: string[];
  /** ffmpeg's filter, for a version. */
  filter?: string;
}

/** The folder's files. */
export const FOLDER_SONGS: FolderSong[] = [
  { rel: "Alpha/a1.flac", artist: "Alpha", title: "First Light", song: 1, codec: ["-c:a", "flac"] },
  { rel: "Alpha/a2.flac", artist: "Alpha", title: "Second Wind", song: 2, codec: ["-c:a", "flac"] },
  {
    rel: "Alpha/a3.mp3",
    artist: "Alpha",
    title: "Third Rail",
    song: 3,
    codec: ["-c:a", "libmp3lame", "-b:a", "192k"],
  },
  {
    rel: "Beta/b1.mp3",
    artist: "Beta",
    title: "Blue",
    song: 4,
    codec: ["-c:a", "libmp3lame", "-b:a", "256k"],
  },
  {
    rel: "Beta/b2.mp3",
    artist: "Beta",
    title: "Brown",
    song: 5,
    codec: ["-c:a", "libmp3lame", "-b:a", "256k"],
  },
  { rel: "Beta/b3.ogg", artist: "Beta", title: "Black", song: 6, codec: ["-c:a", "libvorbis", "-q:a", "4"] },
  {
    rel: "Beta/b1 (radio copy).mp3",
    artist: "Beta",
    title: "Blue",
    song: 4,
    codec: ["-c:a", "libmp3lame", "-b:a", "96k", "-ar", "22050", "-ac", "1"],
  },
  { rel: "Gamma/g1.ogg", title: "Green", song: 7, codec: ["-c:a", "libvorbis", "-q:a", "4"] },
  { rel: "Gamma/g2.ogg", title: "Grey", song: 8, codec: ["-c:a", "libvorbis", "-q:a", "4"] },
  { rel: "Delta/d1.flac", artist: "Delta", title: "Dawn", song: 9, codec: ["-c:a", "flac"] },
  {
    rel: "Delta/d1 (live, faster).flac",
    artist: "Delta",
    title: "Dawn (live)",
    song: 9,
    codec: ["-c:a", "flac"],
    filter: "atempo=1.05",
  },
];

/** Write the folder under `dir` (songs of `seconds`); returns its path. */
export async function writeSongFolder(dir: string, seconds = 12): Promise<string> {
  const music = join(dir, "music");
  const masters = new Map<number, string>();
  for (const s of FOLDER_SONGS) {
    if (!masters.has(s.song)) {
      const wav = join(dir, `master${s.song}.wav`);
      await Deno.writeFile(wav, encodeWav(synthesizeSong(500 + s.song, seconds), 44100));
      masters.set(s.song, wav);
    }
    const out = join(music, s.rel);
    await Deno.mkdir(join(out, ".."), { recursive: true });
    const tags = ["-metadata", `title=${s.title}`, ...(s.artist ? ["-metadata", `artist=${s.artist}`] : [])];
    const res = await new Deno.Command("ffmpeg", {
      args: [
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        masters.get(s.song)!,
        ...(s.filter ? ["-af", s.filter] : []),
        ...tags,
        ...s.codec,
        out,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!res.success) throw new Error(`ffmpeg ${s.rel}: ${new TextDecoder().decode(res.stderr)}`);
  }
  for (const wav of masters.values()) await Deno.remove(wav);
  return music;
}

/**
 * The folder written under `root` and embedded (seeded test weights, hop 1 s, the native backend) into
 * `root/songs.db`: what the playlist, duplicates and MPD tests start from.
 */
export async function embeddedSongFolder(
  root: string,
  seconds = 12,
): Promise<{ weights: string; models: string; music: string; db: string }> {
  const weights = join(root, "w.h5"), models = join(root, "models");
  await convertedTestWeights(weights, models, 8);
  const music = await writeSongFolder(root, seconds);
  const db = join(root, "songs.db");
  await embedCollection({
    inputs: [music],
    db,
    weights,
    modelsDir: models,
    backend: "native",
    device: "cpu",
    hopSize: 1,
    quiet: true,
  });
  return { weights, models, music, db };
}
