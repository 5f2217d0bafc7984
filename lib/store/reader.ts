/**
 * Reading a collection, whichever store holds it: a SQLite file or a
 * PostgreSQL URL. What `compare`, `similar` and the explorer read.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import { isPostgresUrl, PgStore, redactUrl } from "./pg_store.ts";
import { type RejectedVector, Store, type StoredConfig } from "./sqlite_store.ts";

/** A song as a listing shows it. */
export interface SongSummary {
  /** Stored id. */
  songId: string;
  /** The file's path where it was embedded. */
  path: string;
  /** Seconds. */
  duration: number;
  /** Title, artist, … */
  tags?: Record<string, string>;
  /** Named root and path under it (PostgreSQL runs). */
  root?: string;
  /** Path under the root, `/`-separated. */
  relPath?: string;
}

/** Read access to a stored collection. */
export interface CollectionReader {
  /** The database for messages (a URL without its password). */
  readonly label: string;
  /** Every sound vector (ids starting with `prefix`), and the rows left out with the reason. */
  vectors(prefix?: string): Promise<{ vectors: Map<string, Float64Array>; rejected: RejectedVector[] }>;
  /** The model configurations of the stored songs. */
  storedConfigs(): Promise<StoredConfig[]>;
  /** Folders (or files) the collection was embedded from: audio is served only from inside them. */
  roots(): Promise<string[]>;
  /** Each song's configuration, by key (see `configKey`); songs stored as bare vectors are absent. */
  songConfigKeys(): Promise<Map<string, string>>;
  /** Identity and change counter (null: not cacheable). */
  identity(): Promise<{ databaseId: number; version: number; rows: number } | null>;
  /** Every song's listing facts. */
  summaries(): Promise<SongSummary[]>;
  /** Release it. */
  close(): Promise<void>;
}

/** Open a SQLite file (it must exist) or a `postgres://` URL for reading. */
export async function openReader(db: string): Promise<CollectionReader> {
  if (isPostgresUrl(db)) {
    const pg = await PgStore.connect(db, { retryFor: 10 });
    return {
      label: redactUrl(db),
      async vectors(prefix = "") {
        const { rows, rejected } = await pg.vectorRows(prefix);
        return { vectors: new Map(rows.map((r) => [r.id, r.vector])), rejected };
      },
      storedConfigs: () => pg.storedConfigs(),
      songConfigKeys: () => pg.songConfigKeys(),
      roots: () => Promise.resolve([]), // a shared run's roots are mounted anywhere: serve --root names them
      identity: () => pg.vectorsIdentity(),
      summaries: () => pg.songSummaries(),
      close: () => pg.close(),
    };
  }
  if (!(await Deno.stat(db).then((s) => s.isFile, () => false))) {
    throw new OpenL3Error(`${db}: no such database (embed some songs first: deno task embed <folder>)`);
  }
  const store = Store.open(db, { readOnly: true });
  return {
    label: db,
    vectors: (prefix = "") => Promise.resolve(store.readVectors(prefix)),
    storedConfigs: () => Promise.resolve(store.storedConfigs()),
    songConfigKeys: () => Promise.resolve(store.songConfigKeys()),
    roots: () => Promise.resolve(store.roots()),
    identity: () => Promise.resolve(store.vectorsIdentity()),
    summaries: () => Promise.resolve(store.songSummaries()),
    close: () => Promise.resolve(store.close()),
  };
}
