/**
 * The one entry to a collection's store, whichever it is: a SQLite file or a
 * PostgreSQL database. {@linkcode openStore} alone decides which a `--db`
 * names; everything above `lib/store/` reads and writes songs, vectors,
 * frames, configurations, failures and roots through {@linkcode SongStore},
 * and asks a store what it can do ({@linkcode StoreTraits}), never what it
 * is. The PostgreSQL work queue of shared runs is its own module beside it
 * (`pg_queue.ts`).
 *
 * Adding a store is one new file implementing {@linkcode SongStore},
 * registered in {@linkcode STORE_KINDS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeStore, openStore } from "./store.ts";
 * assert.equal(describeStore("postgres://me:secret@db.local/music").label, "postgres://me:***@db.local/music");
 * assert.equal(describeStore("metadata/songs.db").traits.sharedRun, false);
 * const store = await openStore(":memory:");
 * assert.deepEqual(await store.storedConfigs(), []);
 * await store.close();
 * ```
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import { isPostgresUrl, openPgStore, redactUrl } from "./pg_store.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import type { OpenStoreOptions, SongStore, StoreTraits } from "./song_store.ts";

export type * from "./song_store.ts";
export { StoreError } from "./song_store.ts";
export { configKey, type ModelConfig, type NumbersConfig } from "./model_config.ts";
export type { SongRecord, StoredConfig, StoredSong } from "./song_record.ts";
export { describeRejected, NonFiniteVectorError, type RejectedVector } from "./vector_codec.ts";
export { redactUrl } from "./pg_store.ts";

/** A kind of store: which `--db` values it takes, and how to open one. */
export interface StoreKind {
  /** Its name (`SongStore.kind`). */
  name: string;
  /** Whether it takes this `--db`. */
  accepts(db: string): boolean;
  /** The `--db` for messages (no password). */
  label(db: string): string;
  /** What it can do. */
  traits: StoreTraits;
  /** Open it. */
  open(db: string, options: OpenStoreOptions): Promise<SongStore>;
}

/** The stores, most specific first: the first that accepts a `--db` opens it. */
export const STORE_KINDS: readonly StoreKind[] = [
  {
    name: "postgres",
    accepts: isPostgresUrl,
    label: redactUrl,
    traits: { sharedRun: true, namedRoots: true, localWrites: false },
    open: openPgStore,
  },
  {
    name: "sqlite",
    accepts: () => true,
    label: (db) => db,
    traits: { sharedRun: false, namedRoots: false, localWrites: true },
    open: (db, o) => Promise.resolve(openSqliteStore(db, o)),
  },
];

/** The kind of store a `--db` names, without opening it: its name, label and traits. */
export function describeStore(db: string): { kind: string; label: string; traits: StoreTraits } {
  const k = kindOf(db);
  return { kind: k.name, label: k.label(db), traits: k.traits };
}

function kindOf(db: string): StoreKind {
  return STORE_KINDS.find((k) => k.accepts(db))!;
}

/**
 * Open the store a `--db` names: a `postgres://` URL, or a SQLite file (created and migrated unless
 * `readOnly`).
 *
 * @throws {OpenL3Error} when a read-only SQLite file does not exist, or the server cannot be reached.
 */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<SongStore> {
  if (db.trim() === "") throw new OpenL3Error(`--db must name a database, got ""`);
  return await kindOf(db).open(db, options);
}
