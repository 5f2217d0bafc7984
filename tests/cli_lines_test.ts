/**
 * One line where one line was promised (issue "The first hour, second
 * pass"): negative numbers reach the value check, one-letter flags are
 * named as typed, every --help lists --version and, where --db takes one,
 * a postgres:// URL; compile answers --help; a busy port and an empty
 * --host are one line, not a stack trace.
 */
import { assert, slowTest } from "./helpers.ts";
import { explorerFixture } from "./explorer_fixture.ts";
import { SUBCOMMANDS } from "../openl3.ts";
import { commandHelp } from "../lib/util/cli.ts";
import { encodeWav } from "../lib/audio/wav.ts";

const repo = new URL("..", import.meta.url).pathname;

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: repo, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function oneLine(r: { stderr: string }, pattern: RegExp) {
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
}

Deno.test("a negative value reaches its check; a one-letter flag is named as typed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openl3-cli-lines-" });
  await Deno.writeFile(`${dir}/a.wav`, encodeWav([new Float32Array(16000)], 16000));
  const hop = await run(["run", "-A", "embed.ts", dir, "--db", `${dir}/x.db`, "--hop", "-1"]);
  await Deno.remove(dir, { recursive: true });
  assert.equal(hop.code, 2);
  oneLine(hop, /^error: --hop must be a positive number of seconds, got -1 \(see --help\)$/);
  const k = await run(["run", "-A", "similar.ts", "song", "-k", "0"]);
  assert.equal(k.code, 2);
  oneLine(k, /^error: -k must be a whole number ≥ 1, got "0"/);
});

Deno.test("every command's --help lists --version, and postgres:// where --db takes it", async () => {
  for (const [name, load] of Object.entries(SUBCOMMANDS)) {
    const { command } = await load();
    const help = commandHelp(command.help, false);
    assert.match(help, /--version/, name);
    if ("db" in command.options) assert.match(help, /--db .*postgres:\/\//s, name);
    assert.match(commandHelp(command.help, true), /openl3 /, `${name}: the binary's own name`);
    assert.ok(!commandHelp(command.help, true).includes("deno task "), name);
  }
  const compile = await run(["task", "--quiet", "compile", "--help"]);
  assert.equal(compile.code, 0, compile.stderr);
  assert.match(compile.stdout, /DENORT_BIN=/);
  assert.match(compile.stdout, /--version/);
});

slowTest("serve on a busy port, or with an empty --host: one line, exit 1 or 2", async () => {
  const fx = await explorerFixture("openl3-cli-lines-");
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (busy.addr as Deno.NetAddr).port;
  try {
    const model = ["--weights", fx.weights, "--models-dir", fx.modelsDir, "--backend", "native"];
    const r = await run(["run", "-A", "serve.ts", "--db", fx.db, "--port", String(port), ...model]);
    assert.equal(r.code, 1, r.stderr);
    const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(errors[0], new RegExp(`127\\.0\\.0\\.1:${port} is already in use .*--port`));
    assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
    const empty = await run(["run", "-A", "serve.ts", "--db", fx.db, "--host", "", ...model]);
    assert.equal(empty.code, 2, empty.stderr);
    oneLine(empty, /^error: --host must name an address, got ""/);
  } finally {
    busy.close();
    await Deno.remove(fx.root, { recursive: true });
  }
});

Deno.test("similar names the stored song a file name stands for; compare --png wants a .png", async () => {
  const { run: similar } = await import("../similar.ts");
  const { run: compare } = await import("../compare_embeddings.ts");
  const { Store } = await import("../lib/store/sqlite_store.ts");
  const dir = await Deno.makeTempDir({ prefix: "openl3-cli-lines-" });
  try {
    const db = `${dir}/songs.db`;
    const store = Store.open(db);
    store.putVector("noise", Float64Array.from({ length: 512 }, (_, i) => Math.sin(i)));
    store.putVector("bell", Float64Array.from({ length: 512 }, (_, i) => Math.cos(i)));
    store.close();
    await assert.rejects(
      () => similar({ query: "noise.wav", db, verbose: false }),
      /"noise\.wav" is neither a stored song id .* nor an audio file \(did you mean the stored song "noise"\?\)/,
    );
    await assert.rejects(
      () => compare({ db, png: `${dir}/x.jpg`, outDir: dir, print: false }),
      /--png must name a \.png file .*got ".*x\.jpg"/,
    );
    assert.equal(await Deno.stat(`${dir}/x.jpg.svg`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("make-test-weights keeps the same seeded weights already there (a rerun of demo-test-weights finds its database's weights)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openl3-cli-lines-" });
  try {
    const out = `${dir}/w.h5`;
    const make = (...extra: string[]) => run(["run", "-A", "make_test_weights.ts", "--out", out, ...extra]);
    const first = await make();
    assert.equal(first.code, 0, first.stderr);
    const bytes = await Deno.readFile(out);
    const again = await make();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /kept \(the same seeded test weights are already there\)/);
    assert.deepEqual(await Deno.readFile(out), bytes, "the same file, the same SHA-256");
    const other = await make("--seed", "5");
    assert.match(other.stdout, /random \(untrained\) OpenL3 weights/);
    assert.notDeepEqual(await Deno.readFile(out), bytes, "another seed is written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
