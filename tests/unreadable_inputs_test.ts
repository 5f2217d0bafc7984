/**
 * A run goes on past what it cannot read: an unreadable folder inside the
 * collection (denied here with Deno's --deny-read, which works as root
 * too), a file whose name is not valid UTF-8, and a missing input among
 * others are one line each on stderr, the rest is embedded, exit status 1.
 */
import { join } from "node:path";
import { assert } from "./helpers.ts";
import { convertedTestWeights } from "./test_model.ts";
import { encodeWav } from "../lib/audio/wav.ts";

Deno.test("an unreadable subfolder and a missing input: one line each, the rest embedded, exit 1", async () => {
  const root = await Deno.makeTempDir({ prefix: "openl3-unreadable-" });
  try {
    const music = join(root, "music");
    await Deno.mkdir(join(music, "locked"), { recursive: true });
    const tone = Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(i / 5));
    await Deno.writeFile(join(music, "open.wav"), encodeWav([tone], 16000));
    await Deno.writeFile(join(music, "locked", "hidden.wav"), encodeWav([tone], 16000));
    // a file whose name is not valid UTF-8 (made by the shell: Deno writes only UTF-8 names)
    const made = await new Deno.Command("sh", {
      args: ["-c", `touch "$1/$(printf 'caf\\351.wav')"`, "sh", music],
    }).output();
    assert.ok(made.success);
    const weights = join(root, "w.h5"), models = join(root, "models");
    await convertedTestWeights(weights, models, 9);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        `--deny-read=${join(music, "locked")}`,
        new URL("../embed.ts", import.meta.url).pathname,
        music,
        join(root, "nowhere.wav"),
        "--db",
        join(root, "songs.db"),
        "--weights",
        weights,
        "--models-dir",
        models,
        "--backend",
        "native",
        "--device",
        "cpu",
        "--hop",
        "0.5",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout), stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.ok(!/\n\s+at /.test(stderr), `no stack trace: ${stderr}`);
    assert.match(stderr, new RegExp(`✗ ${join(music, "locked")}: folder cannot be read`));
    assert.match(stderr, /✗ .*nowhere\.wav: input not found/);
    assert.match(stdout, /✓ .*open\.wav/);
    assert.match(stderr, /✗ .*caf\uFFFD\.wav: its name is not valid UTF-8/);
    assert.match(stdout, /1 embedded, .*3 failed/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
