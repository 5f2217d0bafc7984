/**
 * `mod.ts`, OpenL3's API in TypeScript, against openl3's own cases for
 * `get_audio_embedding` (its tests/test_core.py): shapes, timestamps,
 * centring, hop, short audio, silence, empty audio, lists with different
 * rates, every invalid argument; frame counts from openl3's padding
 * arithmetic written out here; and the same numbers as the command line.
 */
import { join } from "node:path";
import { assert, slowTest } from "./helpers.ts";
import { writeRandomWeights } from "../lib/model/random_weights.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { decodeNpz } from "../lib/util/npz.ts";
import { embedCollection } from "../lib/pipeline/collection.ts";
import {
  type AudioEmbeddingModel,
  getAudioEmbedding,
  loadAudioEmbeddingModel,
  OpenL3Error,
  type OpenL3Warning,
  outputPath,
  processAudioFile,
} from "../mod.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-mod-" });
const weights = join(root, "w.h5"), modelsDir = join(root, "models");
await writeRandomWeights({ out: weights, seed: 25 });
const base = { weights, modelsDir, backend: "native" as const, frontend: "cpu" as const };
const model: AudioEmbeddingModel = await loadAudioEmbeddingModel({ ...base, embeddingSize: 512 });

/** openl3's window count (core.py: centre, then `_pad_audio` so every sample is in a window). */
function openl3Frames(n48: number, hop: number, center: boolean): number {
  const frame = 48000, hopLen = Math.trunc(hop * 48000);
  const len = n48 + (center ? frame / 2 : 0);
  const pad = len < frame ? frame - len : Math.ceil((len - frame) / hopLen) * hopLen - (len - frame);
  return 1 + Math.trunc((len + pad - frame) / hopLen);
}

function chirp(seconds: number, sr: number): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * sr) }, (_, i) => {
    const t = i / sr;
    return 0.5 * Math.sin(2 * Math.PI * (100 * t + 2000 * t * t));
  });
}

const quiet = { onWarning: () => {} };

Deno.test("getAudioEmbedding: shapes, timestamps i·hop, no NaN; centring and hop as openl3 counts them", async () => {
  const audio = chirp(1, 48000);
  for (
    const [center, hop] of [[true, 0.1], [false, 0.1], [true, 0.2], [false, 0.25], [true, 0.37]] as const
  ) {
    const r = await getAudioEmbedding(audio, 48000, { model, center, hopSize: hop, ...quiet });
    assert.equal(r.frames, openl3Frames(48000, hop, center), `center ${center}, hop ${hop}`);
    assert.equal(r.size, 512);
    assert.equal(r.embeddings.length, r.frames * 512);
    assert.ok(r.embeddings.every(Number.isFinite));
    assert.deepEqual(Array.from(r.timestamps), Array.from({ length: r.frames }, (_, k) => k * hop));
  }
  // openl3's own closed forms for a 1 s clip at 48 kHz: 6 centred windows at hop 0.1, 1 without centring
  assert.equal((await getAudioEmbedding(audio, 48000, { model, ...quiet })).frames, 6);
  assert.equal((await getAudioEmbedding(audio, 48000, { model, center: false, ...quiet })).frames, 1);
});

Deno.test("getAudioEmbedding: a list of clips with their own rates gives a list, each as if alone", async () => {
  const a = chirp(1, 48000), b = chirp(2, 22050), c = chirp(1.3, 44100);
  const hopSize = 0.5;
  const list = await getAudioEmbedding([a, b, c], [48000, 22050, 44100], { model, hopSize, ...quiet });
  assert.equal(list.length, 3);
  for (const [i, [clip, sr]] of ([[a, 48000], [b, 22050], [c, 44100]] as const).entries()) {
    const alone = await getAudioEmbedding(clip, sr, { model, hopSize, ...quiet });
    assert.equal(list[i].frames, alone.frames);
    assert.deepEqual(list[i].embeddings, alone.embeddings);
  }
  assert.equal(
    list[1].frames,
    openl3Frames(96000, hopSize, true),
    "2 s at 22.05 kHz: 96 000 samples at 48 kHz",
  );
  const same = await getAudioEmbedding([a, a], 48000, { model, hopSize, ...quiet });
  assert.deepEqual(same[0].embeddings, same[1].embeddings, "one rate for every clip");
});

Deno.test("getAudioEmbedding: short audio is padded with a warning; silence warns and gives no NaN", async () => {
  const warnings: OpenL3Warning[] = [];
  const onWarning = (w: OpenL3Warning) => warnings.push(w);
  const short = await getAudioEmbedding(chirp(0.5, 48000), 48000, { model, center: false, onWarning });
  assert.equal(short.frames, 1);
  assert.deepEqual(Array.from(short.timestamps), [0]);
  assert.match(warnings[0].message, /shorter than window size \(1 second\)\. Audio will be padded/);
  warnings.length = 0;
  const silence = await getAudioEmbedding(new Float64Array(48000 * 2), 48000, { model, onWarning });
  assert.ok(silence.embeddings.every(Number.isFinite));
  assert.deepEqual(warnings.map((w) => w.message), ["Provided audio is all zeros"]);
});

Deno.test("getAudioEmbedding: every invalid argument is an OpenL3Error, before any model is loaded", async () => {
  const audio = chirp(1, 48000);
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ["empty audio", () => getAudioEmbedding(new Float32Array(0), 48000, { model }), /Got empty audio/],
    [
      "a 3-D array",
      () => getAudioEmbedding([[audio]] as never, 48000, { model }),
      /audio must be mono samples/,
    ],
    ["not audio", () => getAudioEmbedding("x" as never, 48000, { model }), /audio must be mono samples/],
    [
      "rates for one clip",
      () => getAudioEmbedding(audio, [48000, 44100] as never, { model }),
      /one number for one clip/,
    ],
    ["mismatch", () => getAudioEmbedding([audio, audio], [48000], { model }), /Mismatch .* \(2\) .* \(1\)/],
    [
      "rate not a number",
      () => getAudioEmbedding(audio, "48000" as never, { model }),
      /sr must be one number/,
    ],
    ["negative rate", () => getAudioEmbedding(audio, -1, { model }), /Invalid sample rate -1/],
    ["zero rate in a list", () => getAudioEmbedding([audio], [0], { model }), /Invalid sample rate 0/],
    [
      "input repr",
      () => getAudioEmbedding(audio, 48000, { inputRepr: "invalid" as never }),
      /input representation/,
    ],
    [
      "content type",
      () => getAudioEmbedding(audio, 48000, { contentType: "invalid" as never }),
      /content type/,
    ],
    [
      "embedding size",
      () => getAudioEmbedding(audio, 48000, { embeddingSize: 42 as never }),
      /embedding size 42/,
    ],
    ["frontend", () => getAudioEmbedding(audio, 48000, { frontend: "kapre" as never }), /frontend "kapre"/],
    ["precision", () => getAudioEmbedding(audio, 48000, { precision: "int4" as never }), /precision "int4"/],
    ["hop 0", () => getAudioEmbedding(audio, 48000, { model, hopSize: 0 }), /Invalid hop size 0/],
    ["hop -1", () => getAudioEmbedding(audio, 48000, { model, hopSize: -1 }), /Invalid hop size -1/],
    [
      "center",
      () => getAudioEmbedding(audio, 48000, { model, center: "yes" as never }),
      /Invalid center value/,
    ],
    ["model", () => getAudioEmbedding(audio, 48000, { model: {} as never }), /Invalid model provided/],
  ];
  for (const [what, call, pattern] of cases) {
    await assert.rejects(
      call,
      (e: unknown) => e instanceof OpenL3Error && pattern.test((e as Error).message),
      what,
    );
  }
});

slowTest(
  "precision int8: the quantized network, close to fp32's embeddings (cosine ≥ 0.999), not equal",
  async () => {
    const int8 = await loadAudioEmbeddingModel({ ...base, embeddingSize: 512, precision: "int8" });
    try {
      assert.equal(int8.precision, "int8");
      assert.equal(model.precision, "fp32");
      assert.equal(int8.weightsHash, model.weightsHash);
      const x = chirp(2, 22050);
      const a = await getAudioEmbedding(x, 22050, { model: int8, hopSize: 0.5 });
      const b = await getAudioEmbedding(x, 22050, { model, hopSize: 0.5 });
      assert.deepEqual([a.frames, a.size, [...a.timestamps]], [b.frames, b.size, [...b.timestamps]]);
      for (let f = 0; f < a.frames; f++) {
        const u = a.embeddings.subarray(f * 512, (f + 1) * 512),
          v = b.embeddings.subarray(f * 512, (f + 1) * 512);
        let uv = 0, uu = 0, vv = 0;
        for (let i = 0; i < 512; i++) [uv, uu, vv] = [uv + u[i] * v[i], uu + u[i] * u[i], vv + v[i] * v[i]];
        const cos = uv / Math.sqrt(uu * vv);
        assert.ok(cos >= 0.999 && cos < 1, `frame ${f}: cosine ${cos}`);
      }
    } finally {
      await int8.close();
    }
  },
);

slowTest(
  "getAudioEmbedding and processAudioFile give what the command line stores (embed -o), and 6144 by default",
  async () => {
    const dir = join(root, "files");
    await Deno.mkdir(dir);
    const sr = 16000;
    const x = chirp(2.2, sr);
    const file = join(dir, "tune.wav");
    await Deno.writeFile(file, encodeWav([x], sr, { encoding: "float32" }));
    const cliOut = join(root, "cli");
    await embedCollection({
      inputs: [file],
      db: join(root, "cli.db"),
      weights,
      modelsDir,
      backend: "native",
      device: "cpu",
      embeddingSize: 512,
      hopSize: 0.25,
      outputDir: cliOut,
      quiet: true,
    });
    const cli = await decodeNpz(await Deno.readFile(join(cliOut, "tune.npz")));
    const written = await processAudioFile(file, {
      model,
      hopSize: 0.25,
      outputDir: join(root, "lib"),
      suffix: "s",
    });
    assert.deepEqual(written, [outputPath(file, "s", join(root, "lib"))]);
    assert.match(written[0], /tune_s\.npz$/);
    const lib = await decodeNpz(await Deno.readFile(written[0]));
    assert.deepEqual(lib.embedding.shape, cli.embedding.shape);
    assert.deepEqual(lib.embedding.data, cli.embedding.data, "the same numbers as embed -o");
    assert.deepEqual(lib.timestamps.data, cli.timestamps.data);
    const direct = await getAudioEmbedding(x, sr, { model, hopSize: 0.25, ...quiet });
    assert.deepEqual(
      direct.embeddings,
      lib.embedding.data,
      "samples in memory: the same numbers as the file",
    );
    assert.deepEqual(
      await processAudioFile(file, { model, hopSize: 0.25, outputDir: join(root, "lib"), suffix: "s" }),
      [],
      "an existing file is skipped",
    );
    await assert.rejects(() => processAudioFile(join(dir, "nowhere.wav"), { model }), /could not be found/);
    const big = await getAudioEmbedding(x, sr, { ...base, hopSize: 1, ...quiet });
    assert.equal(big.size, 6144, "openl3's default embedding size");
  },
);

Deno.test("mod: cleanup", async () => {
  await model.close();
  await Deno.remove(root, { recursive: true });
});
