import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { SCHEMA_VERSION, Store } from "./sqlite_store.ts";

Deno.test("Store.open: two processes migrating one new database at once both succeed", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "openl3-migrate-" });
  const path = join(dir, "songs.db");
  // hold the write lock so both openers read version 0 and then wait for the lock: the second to get it must
  // see that the first has migrated (before the fix it ran the migrations again: "duplicate column name")
  const holder = new DatabaseSync(path);
  holder.exec("PRAGMA journal_mode = WAL");
  holder.exec("BEGIN IMMEDIATE");
  const url = new URL("../../tests/fixtures/open_store_worker.ts", import.meta.url).href;
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  try {
    const results = workers.map((w) =>
      new Promise<string>((resolve) => {
        w.onmessage = (e: MessageEvent<string>) => {
          if (e.data !== "opening") resolve(e.data);
        };
      })
    );
    const opening = workers.map((w) =>
      new Promise<void>((resolve) => w.addEventListener("message", () => resolve(), { once: true }))
    );
    for (const w of workers) w.postMessage(path);
    await Promise.all(opening);
    await new Promise((r) => setTimeout(r, 500)); // both are now waiting for the lock
    holder.exec("COMMIT");
    assert.deepEqual(await Promise.all(results), ["ok", "ok"]);
    const store = Store.open(path);
    assert.equal(store.version, SCHEMA_VERSION);
    store.close();
  } finally {
    for (const w of workers) w.terminate();
    holder.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
