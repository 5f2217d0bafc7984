/**
 * The binary's payload, without Deno's `denort` runtime (which cannot be
 * downloaded where this project is built): `deno compile` with a stand-in
 * runtime still embeds and reports every file, so what goes in is checked;
 * and the pruned tree (the project with every excluded file removed) runs
 * every command from source, so nothing the binary needs was left out.
 */
import { join, relative } from "node:path";
import { createRequire } from "node:module";
import { assert, slowTest } from "../tests/helpers.ts";
import { compile, compileArgs, compilePlan, ORT_WEB_FILES, payloadBytes } from "./compile.ts";
import { onnxruntimeLibraryPath, preloadNativeLibrary } from "../lib/model/inference.ts";

const root = new URL("..", import.meta.url).pathname;
const TARGET = "x86_64-unknown-linux-gnu";
const onLinuxX64 = Deno.build.os === "linux" && Deno.build.arch === "x86_64";
const notHere = onLinuxX64 ? "" : " (SKIPPED: the npm packages here are for another platform)";

/** Size in bytes of a report line's "(12.3MB" figure. */
function lineBytes(line: string): number {
  const m = line.match(/\(([\d.]+)(B|KB|MB|GB)/);
  if (!m) return 0;
  return Number(m[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] as "B"];
}

Deno.test("payloadBytes reads deno compile's report", () => {
  assert.equal(payloadBytes("\x1b[1mFiles:\x1b[0m 99.51MB\nMetadata: 3KB"), Math.round(99.51 * 1024 ** 2));
  assert.equal(payloadBytes("Files: 512B"), 512);
  assert.equal(payloadBytes("nothing"), null);
});

Deno.test({
  name:
    `compile plan: only this target's native libraries, the loaded onnxruntime-web files, one font${notHere}`,
  ignore: !onLinuxX64,
  fn() {
    const plan = compilePlan(root, TARGET);
    const ex = plan.exclude;
    for (const other of ["win32/x64", "win32/arm64", "darwin/arm64", "linux/arm64"]) {
      assert.ok(ex.some((p) => p.endsWith(`napi-v6/${other}`)), `onnxruntime-node ${other} excluded`);
    }
    assert.ok(!ex.some((p) => p.includes("napi-v6/linux/x64")), "this platform's onnxruntime-node kept");
    for (const f of ORT_WEB_FILES) assert.ok(!ex.some((p) => p.endsWith(`/dist/${f}`)), `${f} kept`);
    assert.ok(
      ex.some((p) => p.endsWith("/dist/ort.webgl.min.mjs")),
      "unused onnxruntime-web builds excluded",
    );
    assert.ok(!ex.some((p) => p.endsWith("ttf/DejaVuSans.ttf")), "the plots' font kept");
    assert.ok(ex.some((p) => p.endsWith("ttf/DejaVuSerif.ttf")), "other fonts excluded");
    assert.ok(
      plan.include.includes("lib/pipeline/feed_worker.ts"),
      "the feed worker (loaded by URL) included",
    );
    const args = compileArgs(plan, TARGET, "dist/openl3");
    assert.equal(args.at(-1), "openl3.ts");
    assert.ok(args.includes("--allow-ffi") && args.includes("--target"));
    assert.throws(() => compilePlan(root, "sparc-sun-solaris"), /unknown --target "sparc-sun-solaris"/);
  },
});

Deno.test({
  name:
    `deno compile (stand-in runtime): payload ≤ 150 MB, no other platform's binaries, no unused packages${notHere}`,
  ignore: !onLinuxX64 || Deno.env.get("OPENL3_QUICK") === "1", // a 13 s child process: left to the full run
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "openl3-compile-" });
    try {
      // deno compile only copies the runtime (it must be an ELF file) and appends the payload; never run
      const standIn = join(dir, "denort");
      await Deno.copyFile("/bin/true", standIn);
      const { report, payload } = await compile(root, TARGET, join(dir, "openl3"), { DENORT_BIN: standIn });
      assert.ok(payload !== null, `no "Files:" line in the report:\n${report.slice(-2000)}`);
      assert.ok(payload! <= 150 * 1024 ** 2, `payload ${(payload! / 2 ** 20).toFixed(1)} MiB > 150 MiB`);
      assert.ok(
        payload! >= 40 * 1024 ** 2,
        `payload ${(payload! / 2 ** 20).toFixed(1)} MiB: the libraries are missing`,
      );
      const lines = report.split("\n");
      const forbidden = /win32|darwin|linux\/arm64|musl|@types|opus-ml|webgl|jspi|\.map \(|ort\.all|ort\.min/;
      const leaks = lines.filter((l) => forbidden.test(l) && lineBytes(l) > 100);
      assert.deepEqual(leaks, [], "embedded though unused");
      // files loaded by URL (the feed worker, the explorer's page) are in the binary, byte for byte
      const binary = new TextDecoder("latin1").decode(await Deno.readFile(join(dir, "openl3")));
      for (
        const f of ["lib/pipeline/feed_worker.ts", "lib/server/static/app.js", "lib/server/static/index.html"]
      ) {
        const head = new TextDecoder("latin1").decode((await Deno.readFile(join(root, f))).subarray(0, 300));
        assert.ok(binary.includes(head), `${f} is not in the binary`);
      }
      for (const needed of ["feed_worker.ts", "linux/x64", "DejaVuSans.ttf", ...ORT_WEB_FILES.slice(0, 3)]) {
        assert.ok(lines.some((l) => l.includes(needed) && lineBytes(l) > 0), `${needed} embedded`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `a lone addon loads once its library is preloaded (how the binary loads onnxruntime-node)${notHere}`,
  ignore: !onLinuxX64,
  async fn() {
    // in a child process: the addon is loaded from a copy in a folder without its library, as deno compile
    // extracts it (denoland/deno#36626)
    const dir = await Deno.makeTempDir({ prefix: "openl3-addon-" });
    try {
      const binding = join(onnxruntimeLibraryPath(), "..", "onnxruntime_binding.node");
      await Deno.copyFile(binding, join(dir, "alone.node"));
      const code = (preload: boolean) => `
        import { createRequire } from "node:module";
        import { onnxruntimeLibraryPath, preloadNativeLibrary } from ${
        JSON.stringify(import.meta.resolve("../lib/model/inference.ts"))
      };
        ${preload ? "preloadNativeLibrary(onnxruntimeLibraryPath());" : ""}
        const m = createRequire(import.meta.url)(${JSON.stringify(join(dir, "alone.node"))});
        console.log(typeof m.InferenceSession);`;
      const run = (preload: boolean) =>
        new Deno.Command(Deno.execPath(), {
          args: ["eval", "--config", join(root, "deno.json"), code(preload)],
          stdout: "piped",
          stderr: "piped",
        }).output();
      const without = await run(false);
      assert.ok(!without.success, "without the preload the lone addon should not load");
      assert.match(new TextDecoder().decode(without.stderr), /libonnxruntime\.so\.1/);
      const withIt = await run(true);
      assert.ok(withIt.success, new TextDecoder().decode(withIt.stderr));
      assert.equal(new TextDecoder().decode(withIt.stdout).trim(), "function");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (onLinuxX64) {
  slowTest("the pruned tree (every excluded file removed) runs every command from source", async () => {
    const dir = await Deno.makeTempDir({ prefix: "openl3-pruned-" });
    try {
      const tree = join(dir, "tree");
      const tracked = new TextDecoder().decode(
        (await new Deno.Command("git", {
          args: ["ls-files", "--cached", "--others", "--exclude-standard"],
          cwd: root,
          stdout: "piped",
        }).output()).stdout,
      ).split("\n").filter((f) => f && !f.startsWith("tests/fixtures/"));
      for (const f of tracked) {
        await Deno.mkdir(join(tree, f, ".."), { recursive: true });
        await Deno.link(join(root, f), join(tree, f));
      }
      const cp = await new Deno.Command("cp", { args: ["-al", join(root, "node_modules"), tree] }).output();
      assert.ok(cp.success, "hard-link copy of node_modules");
      const plan = compilePlan(tree, TARGET);
      for (const p of plan.exclude) await Deno.remove(join(tree, p), { recursive: true });
      const work = join(dir, "work");
      await Deno.mkdir(work);
      const openl3 = async (...args: string[]) => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--config", join(tree, "deno.json"), join(tree, "openl3.ts"), ...args],
          cwd: work,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(out.stderr);
        assert.ok(out.success, `openl3 ${args.join(" ")} failed in the pruned tree:\n${err.slice(-1500)}`);
        return err;
      };
      await openl3("create-audio", "--out", "audio", "--duration", "1.5", "--format", "wav");
      await openl3("make-test-weights", "--out", "w.h5");
      await openl3(
        "embed",
        "audio",
        "--weights",
        "w.h5",
        "--backend",
        "native",
        "--db",
        "n.sqlite",
        "--hop-size",
        "1",
      );
      await openl3(
        "embed",
        "audio",
        "--weights",
        "w.h5",
        "--backend",
        "wasm",
        "--db",
        "w.sqlite",
        "--hop-size",
        "1",
      );
      // onnxruntime-web's WebGPU build (forced: on a software adapter auto would not take it)
      await openl3(
        "embed",
        join("audio", "bass_sound.wav"),
        ...["--weights", "w.h5", "--backend", "webgpu", "--db", "g.sqlite", "--hop-size", "1"],
      );
      await openl3("compare", "--db", "n.sqlite", "--out-dir", "cmp", "--png", "cmp/map.png");
      const png = await Deno.stat(join(work, "cmp", "map.png"));
      assert.ok(png.size > 10_000, "compare drew its plot with the embedded font");
      await openl3("mel", join("audio", "bass_sound.wav"), "--out", "bass.npy");
      const removed = plan.exclude.length;
      assert.ok(removed > 100, `${removed} paths removed`);
      assert.equal(relative(tree, join(tree, "openl3.ts")), "openl3.ts");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const denort = Deno.env.get("OPENL3_DENORT");
Deno.test({
  name: `the compiled binary runs: create-audio, make-test-weights, embed, compare${
    denort
      ? ""
      : " (SKIPPED: no denort runtime here; set OPENL3_DENORT to Deno's denort for this Deno version)"
  }`,
  ignore: !denort || !onLinuxX64,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "openl3-binary-" });
    try {
      const bin = join(dir, "openl3");
      await compile(root, TARGET, bin, { DENORT_BIN: denort! });
      const run = async (...args: string[]) => {
        const out = await new Deno.Command(bin, { args, cwd: dir, stdout: "piped", stderr: "piped" })
          .output();
        assert.ok(
          out.success,
          `openl3 ${args.join(" ")}:\n${new TextDecoder().decode(out.stderr).slice(-1500)}`,
        );
        return new TextDecoder().decode(out.stdout);
      };
      assert.match(await run("--version"), /openl3/);
      await run("create-audio", "--out", "audio", "--duration", "1.5", "--format", "wav");
      await run("make-test-weights", "--out", "w.h5");
      await run("embed", "audio", "--weights", "w.h5", "--db", "e.sqlite", "--hop-size", "1");
      await run("compare", "--db", "e.sqlite", "--out-dir", "cmp", "--png", "cmp/map.png");
      assert.ok((await Deno.stat(join(dir, "cmp", "map.png"))).size > 10_000);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// keep the imports used by the child-process test visible to the type checker
void createRequire;
void preloadNativeLibrary;

slowTest(
  "compile without a runtime to download (offline): one line that says how to give one (DENORT_BIN)",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "openl3-compile-offline-" });
    try {
      const env: Record<string, string> = {
        // every download goes to a proxy on 127.0.0.1 that is not there: offline, without leaving this machine
        HTTPS_PROXY: "http://127.0.0.1:1",
        HTTP_PROXY: "http://127.0.0.1:1",
        DENO_DIR: join(dir, "deno"), // no runtime cached from an earlier compile
        NO_COLOR: "1",
      };
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(root, "tools/compile.ts"), "--output", join(dir, "openl3")],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr).trim();
      assert.equal(out.code, 1, stderr);
      const lines = stderr.split("\n");
      assert.equal(lines.length, 1, stderr);
      assert.match(
        lines[0],
        /^error: .*denort.* — deno compile could not fetch its runtime: offline, set DENORT_BIN=/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
