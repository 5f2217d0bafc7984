/**
 * The explorer reloads a changed database all at once: while 300 songs added to a map of 30 are mapped
 * (in a thread), concurrent requests see the old collection or the new one whole — every map answer has one
 * finite position per song, every neighbour answer names songs the explorer lists.
 */
import { join } from "node:path";
import { assert } from "./helpers.ts";
import { writeSyntheticSongs } from "./synthetic_songs.ts";
import { Rng } from "../lib/util/rng.ts";
import { Explorer } from "../lib/server/explorer.ts";
import { createHandler } from "../lib/server/routes.ts";

function addSongs(db: string, from: number, to: number, rng: Rng) {
  writeSyntheticSongs(db, from, to, (i, v) => {
    for (let j = 0; j < 512; j++) v[j] = Math.abs(rng.normal()) + (j % 9 === i % 9 ? 3 : 0);
  });
}

Deno.test("explorer: requests during a reload see one whole collection, never new songs on the old map", async () => {
  const root = await Deno.makeTempDir({ prefix: "openl3-reload-" });
  const db = join(root, "songs.db");
  const rng = new Rng(8);
  addSongs(db, 0, 30, rng);
  const explorer = await Explorer.open(db, { onRefused: () => {} });
  const handle = createHandler(explorer, { log: () => {} });
  const get = async (path: string) => await (await handle(new Request(`http://127.0.0.1${path}`))).json();
  try {
    assert.equal(explorer.songs.length, 30);
    addSongs(db, 30, 330, rng); // more than a tenth: the map is made again
    const answers = await Promise.all(
      Array.from(
        { length: 24 },
        (_, k) =>
          k % 3 === 0
            ? get("/api/map")
            : k % 3 === 1
            ? get("/api/songs")
            : get(`/api/similar/${encodeURIComponent("/m/s1.mp3")}?k=5`),
      ),
    );
    for (const a of answers) {
      if ("x" in a) {
        assert.equal(a.x.length, a.count);
        assert.ok([...a.x, ...a.y].every(Number.isFinite), "every position finite");
      } else if ("songs" in a) {
        assert.equal(a.songs.length, a.count);
      } else {
        assert.equal(a.neighbours.length, 5);
      }
    }
    assert.equal(explorer.songs.length, 330);
    const map = await get("/api/map");
    assert.equal(map.x.length, 330);
  } finally {
    await explorer.close();
    await Deno.remove(root, { recursive: true });
  }
});
