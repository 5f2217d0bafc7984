import assert from "node:assert/strict";
import { writeFileAtomic, writeFileAtomicSync } from "./atomic_file.ts";

Deno.test("writeFileAtomic: a write that fails after its temporary file was made leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // the target is a folder holding a file: the temporary file is written, the rename over it fails
    await Deno.mkdir(`${dir}/out`);
    await Deno.writeTextFile(`${dir}/out/keep`, "kept");
    await assert.rejects(() => writeFileAtomic(`${dir}/out`, new Uint8Array(1000)));
    assert.throws(() => writeFileAtomicSync(`${dir}/out`, new Uint8Array(1000)));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out"], "no .tmp file left");
    assert.equal(await Deno.readTextFile(`${dir}/out/keep`), "kept");

    // an existing file is replaced whole, text or bytes
    await writeFileAtomic(`${dir}/a.csv`, "x,y\n");
    await writeFileAtomic(`${dir}/a.csv`, "x,y\n1,2\n");
    assert.equal(await Deno.readTextFile(`${dir}/a.csv`), "x,y\n1,2\n");
    writeFileAtomicSync(`${dir}/b.bin`, new Uint8Array([7]));
    assert.deepEqual(await Deno.readFile(`${dir}/b.bin`), new Uint8Array([7]));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.csv", "b.bin", "out"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
