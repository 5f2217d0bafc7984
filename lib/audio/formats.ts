/**
 * The audio files this tool reads, by extension, with the MIME type a browser
 * plays them by: one table for the folder walk (which files are audio) and
 * the explorer (what it serves them as). The format of a file is decided
 * from its bytes when it is decoded (`decode.ts`), not from this table.
 *
 * @module
 */

/** One kind of audio file. */
export interface AudioFileType {
  /** Its extension, lower case, with the dot. */
  ext: string;
  /** The MIME type it is served as. */
  mime: string;
}

/** Every extension picked up in folders. */
export const AUDIO_FILE_TYPES: readonly AudioFileType[] = [
  { ext: ".mp3", mime: "audio/mpeg" },
  { ext: ".wav", mime: "audio/wav" },
  { ext: ".wave", mime: "audio/wav" },
  { ext: ".flac", mime: "audio/flac" },
  { ext: ".ogg", mime: "audio/ogg" },
  { ext: ".oga", mime: "audio/ogg" },
  { ext: ".opus", mime: "audio/ogg" },
  { ext: ".m4a", mime: "audio/mp4" },
  { ext: ".aac", mime: "audio/aac" },
];

/** The extensions, in the table's order. */
export const AUDIO_EXTENSIONS: readonly string[] = AUDIO_FILE_TYPES.map((t) => t.ext);

/**
 * The MIME type of an audio file by its extension (any case), or `application/octet-stream`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { audioMime } from "./formats.ts";
 * assert.equal(audioMime("/m/Song.M4A"), "audio/mp4");
 * assert.equal(audioMime("notes.txt"), "application/octet-stream");
 * ```
 */
export function audioMime(path: string): string {
  const ext = /\.[^./\\]+$/.exec(path)?.[0].toLowerCase() ?? "";
  return AUDIO_FILE_TYPES.find((t) => t.ext === ext)?.mime ?? "application/octet-stream";
}
