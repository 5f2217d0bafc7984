import { join } from "node:path";
import { assert } from "../../tests/helpers.ts";
import { isStandalone, privateDir, realFile, runtimeCacheDir } from "./standalone.ts";

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
    // a changed file gets its own copy
    await Deno.writeFile(src, new Uint8Array([9, 9]));
    const copy2 = realFile(src, { standalone: true, cacheDir: cache });
    assert.notEqual(copy2, copy);
    assert.deepEqual(await Deno.readFile(copy2), new Uint8Array([9, 9]));
    assert.ok(runtimeCacheDir().includes("openl3"));
    // the cache folders are private
    assert.equal((await Deno.stat(cache)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(join(copy2, ".."))).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("realFile: a library planted in the cache with the right size is replaced, never loaded; another user's cache is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openl3-standalone-" });
  try {
    const src = join(dir, "libonnxruntime.so.1");
    await Deno.writeFile(src, new TextEncoder().encode("the real library"));
    const cache = join(dir, "cache");
    const copy = realFile(src, { standalone: true, cacheDir: cache });
    await Deno.writeFile(copy, new TextEncoder().encode("a planted librar")); // same size, other bytes
    assert.equal(realFile(src, { standalone: true, cacheDir: cache }), copy);
    assert.equal(await Deno.readTextFile(copy), "the real library", "replaced by the embedded bytes");
    // a shared cache folder opened to others is made private again
    await Deno.chmod(cache, 0o777);
    realFile(src, { standalone: true, cacheDir: cache });
    assert.equal((await Deno.stat(cache)).mode! & 0o777, 0o700);
    if (Deno.uid() === 0) {
      // as root (CI): a cache folder another user owns is refused
      const theirs = join(dir, "theirs");
      await Deno.mkdir(theirs, { mode: 0o700 });
      await Deno.chown(theirs, 65534, 65534);
      assert.throws(() => privateDir(theirs), /belongs to another user \(uid 65534\)/);
      assert.throws(() => realFile(src, { standalone: true, cacheDir: theirs }), /belongs to another user/);
    }
    // without a home, the cache is this user's own folder in the temp folder, not a shared one
    const saved = { home: Deno.env.get("HOME"), xdg: Deno.env.get("XDG_CACHE_HOME") };
    Deno.env.delete("HOME");
    Deno.env.delete("XDG_CACHE_HOME");
    try {
      assert.match(runtimeCacheDir(), new RegExp(`/openl3-${Deno.uid()}/`));
    } finally {
      if (saved.home !== undefined) Deno.env.set("HOME", saved.home);
      if (saved.xdg !== undefined) Deno.env.set("XDG_CACHE_HOME", saved.xdg);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
