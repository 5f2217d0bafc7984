import { join } from "node:path";
import { assert, peakFrequency } from "../../tests/helpers.ts";
import { decodeAudioBytes, decodeAudioFile, toMono } from "./decode.ts";

/** ffmpeg and ffprobe on the PATH (.ci/run installs Debian's ffmpeg). */
const hasFfmpeg = await new Deno.Command("ffmpeg", { args: ["-version"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);

async function ffmpeg(args: string[]): Promise<void> {
  const out = await new Deno.Command("ffmpeg", { args: ["-v", "error", "-y", ...args], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

Deno.test({
  name: `M4A (FFmpeg's aac, Apple-style with cover art and tags, ALAC) and ADTS AAC through ffmpeg${
    hasFfmpeg ? "" : " — IGNORED: no ffmpeg on this machine's PATH"
  }`,
  ignore: !hasFfmpeg,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "openl3-ffmpeg-" });
    try {
      const sine = (
        f: number,
        d: number,
        sr: number,
      ) => ["-f", "lavfi", "-i", `sine=frequency=${f}:duration=${d}:sample_rate=${sr}`];
      await ffmpeg([...sine(440, 2, 44100), "-ac", "2", "-c:a", "aac", "-b:a", "128k", join(dir, "aac.m4a")]);
      await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=64x64:d=1",
        "-frames:v",
        "1",
        join(dir, "cover.png"),
      ]);
      await ffmpeg([
        "-i",
        join(dir, "aac.m4a"),
        "-i",
        join(dir, "cover.png"),
        "-map",
        "0",
        "-map",
        "1",
        "-c",
        "copy",
        "-disposition:v:0",
        "attached_pic",
        "-metadata",
        "title=Tone",
        "-metadata",
        "artist=Nobody",
        join(dir, "apple.m4a"),
      ]);
      await ffmpeg([...sine(440, 1, 48000), "-c:a", "alac", join(dir, "lossless.m4a")]);
      await ffmpeg([...sine(440, 1, 48000), "-c:a", "pcm_s16le", join(dir, "lossless.wav")]);
      await ffmpeg([...sine(660, 1, 22050), "-c:a", "aac", "-f", "adts", join(dir, "raw.aac")]);

      for (const name of ["aac.m4a", "apple.m4a"]) {
        const d = await decodeAudioFile(join(dir, name));
        assert.equal(d.format, "m4a");
        assert.equal(d.sampleRate, 44100);
        assert.equal(d.channelCount, 2);
        assert.ok(Math.abs(d.channels[0].length - 88200) <= 2048, `${name}: ${d.channels[0].length} frames`);
        const mono = toMono(d.channels);
        assert.equal(peakFrequency(mono.subarray(4096, 4096 + 8820), 44100, 400, 480), 440);
      }
      const apple = await decodeAudioFile(join(dir, "apple.m4a"));
      assert.deepEqual(apple.tags, { title: "Tone", artist: "Nobody" }, "tags, and the cover left alone");
      // ALAC is lossless: the very samples of the same sine written as 16-bit WAV
      const alac = await decodeAudioFile(join(dir, "lossless.m4a"));
      const wav = await decodeAudioFile(join(dir, "lossless.wav"));
      assert.equal(alac.sampleRate, 48000);
      assert.deepEqual(Array.from(alac.channels[0]), Array.from(wav.channels[0]));
      const adts = await decodeAudioBytes(await Deno.readFile(join(dir, "raw.aac")), "raw.aac");
      assert.equal(adts.format, "aac");
      assert.equal(adts.sampleRate, 22050);
      assert.equal(peakFrequency(adts.channels[0].subarray(2048, 2048 + 4410), 22050, 600, 720), 660);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("M4A without ffmpeg on the PATH: one line that says what to install", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openl3-ffmpeg-" });
  try {
    // the start of an M4A: an ftyp box (nothing past it is read without ffmpeg)
    const m4a = new Uint8Array(64);
    m4a.set([
      0,
      0,
      0,
      0x18,
      ...new TextEncoder().encode("ftypM4A "),
      0,
      0,
      0,
      0,
      ...new TextEncoder().encode("M4A mp42"),
    ]);
    await Deno.writeFile(join(dir, "song.m4a"), m4a);
    const script = join(dir, "decode.ts");
    await Deno.writeTextFile(
      script,
      `import { decodeAudioFile } from ${JSON.stringify(new URL("./decode.ts", import.meta.url).href)};
try { await decodeAudioFile(${JSON.stringify(join(dir, "song.m4a"))}); console.log("decoded?"); }
catch (e) { console.log((e as Error).message); }`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        script,
      ],
      env: { PATH: dir }, // no ffmpeg there
      stdout: "piped",
      stderr: "piped",
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim();
    assert.match(
      line,
      /song\.m4a: M4A\/MP4 \(AAC, ALAC\) is read through ffmpeg, which is not on the PATH: install it/,
    );
    assert.equal(line.split("\n").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: `deno task embed reads an M4A through ffmpeg with the task's own permissions${
    hasFfmpeg ? "" : " — IGNORED: no ffmpeg on this machine's PATH"
  }`,
  ignore: !hasFfmpeg || Deno.env.get("OPENL3_QUICK") === "1", // a child process: left to the full run
  fn: async () => {
    const { writeRandomWeights } = await import("../model/random_weights.ts");
    const dir = await Deno.makeTempDir({ prefix: "openl3-ffmpeg-task-" });
    try {
      await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=330:duration=2:sample_rate=44100",
        "-c:a",
        "aac",
        join(dir, "song.m4a"),
      ]);
      await writeRandomWeights({ out: join(dir, "w.h5"), seed: 3 });
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "task",
          "--quiet",
          "embed",
          join(dir, "song.m4a"),
          "--db",
          join(dir, "s.db"),
          "--weights",
          join(dir, "w.h5"),
          "--models-dir",
          join(dir, "models"),
          "--backend",
          "native",
          "--device",
          "cpu",
          "--hop",
          "0.5",
        ],
        cwd: new URL("../..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(stdout, /✓ .*song\.m4a: \(512,\)/);
      assert.match(stdout, /1 embedded/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
