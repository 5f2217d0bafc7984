/// <reference lib="dom" />
// deno-lint-ignore-file no-explicit-any
/**
 * The browser build (`browser.ts` → `deno task build-web`) in headless
 * Chromium on WebGPU (SwiftShader, the software adapter a machine without a
 * GPU has): a page on 127.0.0.1 imports it, fetches a converted model, and
 * `getAudioEmbedding` gives the frames, timestamps and warnings of `mod.ts`
 * and its numbers within the WGSL engine's tolerance of the CPU's; openl3's
 * errors come out as `OpenL3Error` in the page too; a WAV file decoded in
 * the page embeds as the command line embeds it.
 */
import { join } from "node:path";
import { assert, relativeError, slowTest } from "./helpers.ts";
import { launchChromium } from "./browser.ts";
import { buildWeb } from "../tools/build_web.ts";
import { writeRandomWeights } from "../lib/model/random_weights.ts";
import { encodeWav } from "../lib/audio/wav.ts";
import { getAudioEmbedding, loadAudioEmbeddingModel } from "../mod.ts";

/** The WGSL engine's gate against the CPU network (lib/model/inference_test.ts): max |Δ| / max |x|. */
const WGSL_TOLERANCE = 1e-4;

function chirp(seconds: number, sr: number): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * sr) }, (_, i) => {
    const t = i / sr;
    return 0.4 * Math.sin(2 * Math.PI * (150 * t + 900 * t * t)) + 0.05 * Math.sin(2 * Math.PI * 3000 * t);
  });
}

slowTest(
  "browser build in Chromium on WebGPU: the library's frames, timestamps, warnings, errors and numbers",
  async () => {
    const root = await Deno.makeTempDir({ prefix: "openl3-web-" });
    const web = join(root, "web");
    const files = await buildWeb(web);
    assert.ok(files.some((f) => f.endsWith("/browser.js")), `built: ${files.join(", ")}`);
    const core = await Deno.readTextFile(join(web, "browser.js"));
    assert.ok(!/from\s*"node:|require\("/.test(core), "the page module imports no Node built-in");

    const weights = join(root, "w.h5"), modelsDir = join(root, "models");
    await writeRandomWeights({ out: weights, seed: 31, inputRepr: "mel128" });
    const base = { weights, modelsDir, backend: "native" as const, frontend: "cpu" as const };
    const model = await loadAudioEmbeddingModel({ ...base, inputRepr: "mel128", embeddingSize: 512 });
    const onnx = [...Deno.readDirSync(modelsDir)].find((e) => e.name.endsWith(".onnx"))!.name;
    const clipA = chirp(1.3, 22050), clipB = chirp(0.6, 16000);
    const wav = encodeWav([chirp(1.1, 44100)], 44100, { encoding: "pcm16" });
    const cpuWarnings: string[] = [];
    const [a, b] = await getAudioEmbedding([clipA, clipB], [22050, 16000], {
      model,
      hopSize: 0.5,
      onWarning: (w) => cpuWarnings.push(w.message),
    });
    await model.close();

    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/") {
        return new Response("<!doctype html><title>t</title>", { headers: { "content-type": "text/html" } });
      }
      if (path === "/model.onnx") return new Response(await Deno.readFile(join(modelsDir, onnx)));
      if (path === "/clip.wav") return new Response(wav as Uint8Array<ArrayBuffer>);
      const m = path.match(/^\/web\/([\w-]+\.js)$/);
      if (m) {
        return new Response(await Deno.readFile(join(web, m[1])), {
          headers: { "content-type": "text/javascript" },
        });
      }
      return new Response("not found", { status: 404 });
    });
    const browser = await launchChromium({ webgpu: true });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      const hasGpu = await page.evaluate(async () => !!(await (navigator as any).gpu?.requestAdapter()));
      assert.ok(hasGpu, "Chromium with --enable-unsafe-webgpu has a WebGPU adapter (SwiftShader) here");
      const got = await page.evaluate(async ({ a, b }) => {
        const lib = await import("/web/browser.js");
        const errors: Record<string, string> = {};
        const name = async (what: string, f: () => Promise<unknown>) => {
          try {
            await f();
            errors[what] = "no error";
          } catch (e) {
            errors[what] = `${(e as Error).name}: ${(e as Error).message}`;
          }
        };
        await name("no model", () => lib.getAudioEmbedding(new Float32Array(10), 44100, {} as any));
        const model = await lib.loadAudioEmbeddingModel({ url: "/model.onnx" });
        await name("hop 0", () => lib.getAudioEmbedding(new Float32Array(10), 44100, { model, hopSize: 0 }));
        await name("empty", () => lib.getAudioEmbedding(new Float32Array(0), 44100, { model }));
        await name("rates", () => lib.getAudioEmbedding(new Float32Array(10), [44100] as any, { model }));
        await name("3-D", () => lib.getAudioEmbedding([[new Float32Array(3)]] as any, 44100, { model }));
        await name("bad url", () => lib.loadAudioEmbeddingModel({ url: "/missing.onnx" }));
        const warnings: string[] = [];
        const t = performance.now();
        const [ea, eb] = await lib.getAudioEmbedding(
          [Float32Array.from(a), Float32Array.from(b)],
          [22050, 16000],
          { model, hopSize: 0.5, onWarning: (w: { message: string }) => warnings.push(w.message) },
        );
        const ms = performance.now() - t;
        const clip = await lib.decodeAudio(
          new Uint8Array(await (await fetch("/clip.wav")).arrayBuffer()),
          "clip.wav",
        );
        const ew = await lib.getAudioEmbedding(clip.samples, clip.sampleRate, {
          model,
          hopSize: 0.5,
          onWarning: () => {},
        });
        const pooled = lib.poolEmbeddings(ew, "mean");
        const out = {
          errors,
          warnings,
          ms,
          description: model.description,
          inputRepr: model.inputRepr,
          a: { frames: ea.frames, size: ea.size, t: Array.from(ea.timestamps), e: Array.from(ea.embeddings) },
          b: { frames: eb.frames, size: eb.size, t: Array.from(eb.timestamps), e: Array.from(eb.embeddings) },
          wav: { rate: clip.sampleRate, format: clip.format, frames: ew.frames, pooled: Array.from(pooled) },
        };
        model.close();
        await name("closed", () => lib.getAudioEmbedding(new Float32Array(10), 44100, { model }));
        return out;
      }, { a: Array.from(clipA), b: Array.from(clipB) });

      console.error(
        `browser build: ${got.description}; ${(got.ms / (got.a.frames + got.b.frames)).toFixed(0)} ms/window`,
      );
      assert.equal(got.inputRepr, "mel128");
      for (const [mine, ref] of [[got.a, a], [got.b, b]] as const) {
        assert.equal(mine.frames, ref.frames);
        assert.equal(mine.size, 512);
        assert.deepEqual(mine.t, Array.from(ref.timestamps));
        const rel = relativeError(mine.e as number[], ref.embeddings);
        console.error(`browser build vs CPU: ${rel.toExponential(2)} relative (max |Δ| / max |x|)`);
        assert.ok(rel <= WGSL_TOLERANCE, `relative error ${rel} > ${WGSL_TOLERANCE}`);
      }
      assert.deepEqual(got.warnings, cpuWarnings, "the same warnings (the short clip)");
      assert.ok(got.warnings.some((w) => /shorter than window size/.test(w)));
      assert.match(got.errors["no model"], /^OpenL3Error: Invalid model provided/);
      assert.match(got.errors["hop 0"], /^OpenL3Error: Invalid hop size 0/);
      assert.match(got.errors["empty"], /^OpenL3Error: Got empty audio/);
      assert.match(got.errors["rates"], /^OpenL3Error: sr must be one number for one clip/);
      assert.match(got.errors["3-D"], /^OpenL3Error: audio must be mono samples/);
      assert.match(got.errors["bad url"], /^OpenL3Error: \/missing\.onnx: HTTP 404/);
      assert.match(got.errors["closed"], /^OpenL3Error: Invalid model provided/);
      // a file decoded in the page: the command line's decoder, its rate, its numbers
      assert.deepEqual([got.wav.rate, got.wav.format], [44100, "wav"]);
      const cpu = await loadAudioEmbeddingModel({ ...base, inputRepr: "mel128", embeddingSize: 512 });
      const { decodeAudioBytes, toMono } = await import("../lib/audio/decode.ts");
      const decoded = await decodeAudioBytes(wav, "clip.wav");
      const ref = await getAudioEmbedding(toMono(decoded.channels) as Float32Array, 44100, {
        model: cpu,
        hopSize: 0.5,
        onWarning: () => {},
      });
      await cpu.close();
      assert.equal(got.wav.frames, ref.frames);
      const mean = new Float64Array(512);
      for (let f = 0; f < ref.frames; f++) {
        for (let d = 0; d < 512; d++) mean[d] += ref.embeddings[f * 512 + d];
      }
      for (let d = 0; d < 512; d++) mean[d] /= ref.frames;
      assert.ok(relativeError(got.wav.pooled as number[], mean) <= WGSL_TOLERANCE);
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    }
  },
);
