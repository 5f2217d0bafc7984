/**
 * Databases of synthetic songs for the explorer's tests and benchmark: 512-d vectors written straight into
 * a SQLite store (no audio), with a stand-in configuration of untrained weights.
 */
import { Store } from "../lib/store/sqlite_store.ts";
import type { Tags } from "../lib/audio/tags.ts";

/** The configuration every synthetic song is stored with. */
export const SYNTHETIC_CONFIG = {
  inputRepr: "mel256",
  contentType: "music",
  embeddingSize: 512,
  weightsHash: "0".repeat(64),
  hopSize: 0.1,
  center: true,
  pooling: "mean",
  frontend: "cpu",
  backend: "native",
  toolVersion: "synthetic",
  weightsProvenance: "untrained",
  precision: "fp32",
} as const;

/**
 * Store songs `from` to `to` (exclusive) at `/m/s<i>.mp3` (or `path(i)`), each vector filled by `fill(i, v)`.
 */
export function writeSyntheticSongs(
  db: string,
  from: number,
  to: number,
  fill: (i: number, v: Float64Array) => void,
  describe: (i: number) => { path?: string; tags?: Tags } = () => ({}),
): void {
  const store = Store.open(db);
  store.db.exec("PRAGMA synchronous = OFF"); // scratch databases
  const v = new Float64Array(512);
  try {
    for (let i = from; i < to; i++) {
      fill(i, v);
      const d = describe(i);
      const path = d.path ?? `/m/s${i}.mp3`;
      store.putSong(
        {
          songId: path,
          path,
          duration: 30,
          sampleRate: 44100,
          channels: 2,
          format: "mp3",
          size: 480_000,
          contentHash: String(i),
          tags: d.tags ?? { title: `Song ${i}` },
          windows: 300,
        },
        v,
        SYNTHETIC_CONFIG as never,
      );
    }
  } finally {
    store.close();
  }
}
