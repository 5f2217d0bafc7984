/**
 * The audio files this tool reads, by extension, with the MIME type a browser
 * plays them by, as the codecs' table gives them (`codecs.ts`): for the folder
 * walk (which files are audio) and the explorer (what it serves them as). The
 * format of a file is decided from its bytes when it is decoded, not from its
 * extension.
 *
 * @module
 */

import { CODECS } from "./codecs.ts";

/** One kind of audio file. */
export interface AudioFileType {
  /** Its extension, lower case, with the dot. */
  ext: string;
  /** The MIME type it is served as. */
  mime: string;
}

/** Every extension picked up in folders, codec by codec. */
export const AUDIO_FILE_TYPES: readonly AudioFileType[] = CODECS.flatMap((c) => c.files);

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
