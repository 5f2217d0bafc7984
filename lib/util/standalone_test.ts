import { join } from "node:path";
import { assert } from "../../tests/helpers.ts";
import { isStandalone, realFile, runtimeCacheDir } from "./standalone.ts";

Deno.test("realFile: the path itself from source; in a binary, a copy with the same name, made once", async () => {
  assert.equal(isStandalone(), false, "the tests run from source");
  const dir = await Deno.makeTempDir({ prefix: "openl3-standalone-" });
  try {
    const src = join(dir, "libthing.so.1");
    await Deno.writeFile(src, new Uint8Array([1, 2, 3, 4, 5]));
    assert.equal(realFile(src), src);
    const cache = join(dir, "cache");
    const copy = realFile(src, { standalone: true, cacheDir: cache });
    assert.notEqual(copy, src);
    assert.ok(copy.startsWith(cache) && copy.endsWith("/libthing.so.1"), copy);
    assert.deepEqual(await Deno.readFile(copy), new Uint8Array([1, 2, 3, 4, 5]));
    const before = (await Deno.stat(copy)).mtime!.getTime();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(realFile(src, { standalone: true, cacheDir: cache }), copy);
    assert.equal((await Deno.stat(copy)).mtime!.getTime(), before, "reused, not rewritten");
    // a changed file (another size) gets its own copy
    await Deno.writeFile(src, new Uint8Array([9, 9]));
    const copy2 = realFile(src, { standalone: true, cacheDir: cache });
    assert.notEqual(copy2, copy);
    assert.deepEqual(await Deno.readFile(copy2), new Uint8Array([9, 9]));
    assert.ok(runtimeCacheDir().includes("openl3"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
