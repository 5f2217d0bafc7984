/**
 * What a store records of a song and of the configuration its vector was
 * made with: the same concepts in SQLite and PostgreSQL.
 *
 * @module
 */

import type { ModelConfig, NumbersConfig } from "./model_config.ts";

/** A configuration the stored songs were made with: what decides the numbers, and the weights' provenance. */
export type StoredConfig = NumbersConfig & Pick<ModelConfig, "weightsProvenance">;

/** A song's file and decoding facts. */
export interface SongRecord {
  /** The song's id (its path, or its file stem for the original's previews). */
  songId: string;
  /** Absolute path of its file. */
  path: string;
  /** Seconds of audio. */
  duration: number;
  /** The file's sample rate. */
  sampleRate: number;
  /** The file's channels. */
  channels: number;
  /** Detected format (`wav`, `mp3`, `flac`, `ogg-vorbis`, `ogg-opus`). */
  format: string;
  /** File size in bytes. */
  size: number;
  /** SHA-256 of the file's bytes. */
  contentHash: string;
  /** Title, artist, album, … where the file carries them. */
  tags?: Record<string, string>;
  /** Windows embedded. */
  windows: number;
  /** The named root it lies under (a shared run's song; its id is then `root:relPath`). */
  root?: string;
  /** Its path under the root, `/`-separated. */
  relPath?: string;
}

/** A song as stored. */
export interface StoredSong extends SongRecord {
  /** Key of the configuration of its vector (null for a bare vector). */
  configKey: string | null;
  /** When it was stored (ISO 8601). */
  embeddedAt: string;
}
