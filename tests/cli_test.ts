/**
 * The command lines as a user meets them: usage errors before any work,
 * suggestions for typos, OpenL3's own flag names, --version, what an empty
 * folder says, and how results from untrained weights are labelled.
 */
import { DatabaseSync } from "node:sqlite";
import { assert } from "./helpers.ts";
import { writeRandomWeights } from "../lib/model/random_weights.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { TOOL_VERSION } from "../lib/util/version.ts";
import { run as embed } from "../embed.ts";
import { run as compare } from "../compare_embeddings.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-cli-" });
const repo = new URL("..", import.meta.url).pathname;

async function cli(script: string, args: string[], cwd = repo) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${repo}/${script}`, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("a bad option is a usage error (exit 2, one line) before any model is loaded", async () => {
  const dir = `${root}/one`;
  await Deno.mkdir(dir);
  await Deno.writeFile(`${dir}/a.wav`, encodeWav([new Float32Array(16000)], 16000));
  // no weights exist under this models folder: loading them would fail differently (exit 1)
  const cases: [string[], RegExp][] = [
    [["--hop", "0"], /^error: --hop must be a positive number of seconds, got 0 \(see --help\)$/],
    [["--hop", "fast"], /^error: --hop must be a number, got "fast" \(see --help\)$/],
    [["--backend", "tpu"], /^error: --backend must be one of auto, wgsl, webgpu, wasm, native; got "tpu"/],
    [["--embedding-size", "128"], /^error: --embedding-size must be one of 512, 6144; got "128"/],
    [["--batch-size", "0"], /^error: --batch-size must be a positive whole number, got 0/],
    [["--hpo", "0.5"], /^error: unknown option --hpo \(did you mean --hop\?\)/],
    [["--pool", "median"], /^error: --pool must be one of max, mean; got "median"/],
  ];
  for (const [args, pattern] of cases) {
    const r = await cli("embed.ts", [
      dir,
      "--db",
      `${root}/x.db`,
      "--models-dir",
      `${root}/no_models`,
      ...args,
    ]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line for ${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0], pattern);
    assert.equal(r.stdout, "");
  }
  const db = await Deno.stat(`${root}/x.db`).then(() => true, () => false);
  assert.equal(db, false, "no database was created by a rejected command line");
});

Deno.test("--version on every command; --help names the required flags", async () => {
  for (const script of ["embed.ts", "similar.ts", "compare_embeddings.ts", "parity.ts", "mel.ts"]) {
    const r = await cli(script, ["--version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      `openl3-deno ${TOOL_VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8})`,
    );
  }
  const parity = await cli("parity.ts", ["--help"]);
  assert.match(parity.stdout, /--audio A .*required/);
  assert.match(parity.stdout, /--reference R\.npz .*required/);
  const similar = await cli("similar.ts", ["--help"]);
  assert.match(similar.stdout, /A song id is how the song is stored/);
});

Deno.test("OpenL3's own flag names are accepted (mel: --audio-hop-size, --no-audio-centering, -i)", async () => {
  const wav = `${root}/alias.wav`;
  await Deno.writeFile(wav, encodeWav([new Float32Array(48000 * 2).map((_, i) => Math.sin(i / 9))], 48000));
  const r = await cli("mel.ts", [
    wav,
    "--out",
    `${root}/alias.npy`,
    "-i",
    "mel128",
    "--audio-hop-size",
    "0.5",
    "--no-audio-centering",
    "--device",
    "cpu",
  ]);
  assert.equal(r.code, 0, r.stderr);
  // 2 s, hop 0.5 s, no centring: 1 + (96000 - 48000) / 24000 = 3 windows of 128 × 199
  assert.match(r.stdout, /shape \(3, 128, 199\)/);
});

Deno.test("an empty folder, or one without audio, says what it found and exits 1", async () => {
  const empty = `${root}/empty`;
  await Deno.mkdir(empty);
  const r1 = await cli("embed.ts", [empty, "--db", `${root}/e.db`]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /^error: no audio files to embed in .*empty \(the folders are empty\)/);
  const other = `${root}/other`;
  await Deno.mkdir(other);
  for (const f of ["a.wma", "b.wma", "notes.txt"]) await Deno.writeFile(`${other}/${f}`, new Uint8Array(10));
  const r2 = await cli("embed.ts", [other, "--db", `${root}/e.db`]);
  assert.equal(r2.code, 1);
  assert.match(
    r2.stderr,
    /no audio files to embed in .*other \(passed over: 2 \.wma, 1 \.txt\); this tool reads \.mp3/,
  );
});

Deno.test("results from untrained test weights say so: in the database, compare's header and the map", async () => {
  const weights = `${root}/random.h5`;
  await writeRandomWeights({ out: weights, seed: 5 });
  const dir = `${root}/songs`;
  await Deno.mkdir(dir);
  for (const [name, f] of [["low", 200], ["mid", 700], ["high", 3000]] as const) {
    const x = Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(2 * Math.PI * f * i / 16000));
    await Deno.writeFile(`${dir}/${name}.wav`, encodeWav([x], 16000));
  }
  const db = `${root}/labelled.db`;
  await embed({
    inputs: [dir],
    db,
    weights,
    modelsDir: `${root}/models`,
    backend: "native",
    device: "cpu",
    quiet: true,
  });
  const raw = new DatabaseSync(db);
  const rows = raw.prepare("SELECT DISTINCT weights_provenance AS p FROM model_configs").all() as {
    p: string;
  }[];
  raw.close();
  assert.deepEqual(rows.map((r) => r.p), ["untrained"]);
  const r = await compare({ db, outDir: `${root}/cmp`, png: `${root}/cmp/map.png`, print: false });
  assert.match(r.report.split("\n")[0], /^3 songs, OpenL3 mel256 \/ music \/ 512, UNTRAINED test weights/);
  const svg = await Deno.readTextFile(`${root}/cmp/map.svg`);
  assert.match(svg, /UNTRAINED test weights/);
});

Deno.test("compare reads a database of the original project (songs_vectors only) as it is, read-only", async () => {
  const db = `${root}/original.db`;
  const raw = new DatabaseSync(db);
  raw.exec("CREATE TABLE songs_vectors(song_id TEXT PRIMARY KEY, vector BLOB NOT NULL)");
  const ins = raw.prepare("INSERT INTO songs_vectors VALUES (?, ?)");
  for (const [id, v] of [["a", [1, 0, 0]], ["b", [0.9, 0.1, 0]], ["c", [0, 0, 1]]] as const) {
    ins.run(id, new Uint8Array(new Float64Array(v).buffer));
  }
  raw.close();
  const before = await Deno.readFile(db);
  const r = await compare({ db, outDir: `${root}/orig`, png: `${root}/orig/map.png`, print: false });
  assert.deepEqual(r.ids, ["a", "b", "c"]);
  assert.ok(r.cosine[0][1] > 0.99 && Math.abs(r.cosine[0][2]) < 1e-12);
  assert.deepEqual(await Deno.readFile(db), before, "not migrated, not touched");
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
