/**
 * OpenL3's API in a web page: `getAudioEmbedding` on the visitor's GPU
 * through WebGPU (this project's WGSL network; spectrograms in WGSL
 * double-float on a hardware adapter, else float64 on the CPU), with the
 * weights fetched from a URL — a model this project converted (`models/*.onnx`,
 * or an explorer's `/api/model.onnx`). Same checks, defaults, frame counts,
 * timestamps and warnings as `mod.ts`; the numbers are the command line's.
 *
 * Built into one ES module by `deno task build-web` (`lib/server/static/openl3.js`,
 * served by the explorer at `/openl3.js`). A browser needs WebGPU
 * (`navigator.gpu`: Chrome/Edge 113+, Safari 26, Firefox 141+ on Windows;
 * a page served over https or from localhost).
 *
 * @example
 * ```ts ignore
 * import { getAudioEmbedding, loadAudioEmbeddingModel } from "/openl3.js";
 * const model = await loadAudioEmbeddingModel({ url: "/api/model.onnx" });
 * const audio = new Float32Array(44100 * 3); // 3 s of mono audio at 44.1 kHz
 * const { embeddings, timestamps, frames, size } = await getAudioEmbedding(audio, 44100, { model });
 * model.close();
 * ```
 *
 * @module
 */

import type { ContentType, EmbeddingSize } from "./lib/model/architecture.ts";
import type { InputRepr } from "./lib/frontend/spec.ts";
import { createFrontend, type Frontend as FrontendStage } from "./lib/frontend/frontend.ts";
import { type GpuContext, openDevice, requestAdapter } from "./lib/gpu/device.ts";
import { architectureFromOnnx, weightsFromOnnx } from "./lib/model/onnx_weights.ts";
import { readOnnxMetadata } from "./lib/model/onnx_proto.ts";
import { WgslNetwork } from "./lib/model/wgsl_network.ts";
import { FramePooler, POOLINGS } from "./lib/model/pooling.ts";
import { OpenL3Error } from "./lib/util/errors.ts";
import {
  type AudioEmbedding,
  checkClips,
  checkFraming,
  type Clip,
  describe,
  embedClips,
  type Frontend,
  FRONTEND_CHOICES,
  oneOf,
  type OpenL3Warning,
  warnOnStderr,
} from "./lib/pipeline/embedding_api.ts";

export { OpenL3Error } from "./lib/util/errors.ts";
export {
  type AudioEmbedding,
  type Clip,
  type Frontend,
  OpenL3Warning,
} from "./lib/pipeline/embedding_api.ts";

/** Options of {@linkcode loadAudioEmbeddingModel} in a page. */
export interface BrowserModelOptions {
  /** Where the converted model is (`.onnx` written by this project); relative to the page. */
  url: string | URL;
  /**
   * Where the spectrograms are computed: `auto` takes the GPU only on a hardware adapter.
   * @default {"auto"}
   */
  frontend?: Frontend;
  /**
   * Most windows per network call (the GPU buffers are sized for it).
   * @default {32}
   */
  maxBatch?: number;
  /** A WebGPU device of the page's own to use (default: one opened on the first adapter). */
  device?: GPUDevice;
  /** The fetch to use (default: the page's). */
  fetch?: typeof fetch;
}

/** A model loaded in a page; {@linkcode BrowserModel.close} frees its GPU buffers. */
export interface BrowserModel {
  /** The spectrogram it takes. */
  readonly inputRepr: InputRepr;
  /** What it was trained on. */
  readonly contentType: ContentType;
  /** Its embedding length. */
  readonly embeddingSize: EmbeddingSize;
  /** SHA-256 of the weights it was converted from. */
  readonly weightsHash: string;
  /** `official`, `untrained` or `custom`, as recorded when it was converted. */
  readonly provenance: string;
  /** Where the network and the spectrograms run, in words. */
  readonly description: string;
  /** Free the GPU buffers (and the device when the model opened it). */
  close(): void;
}

interface Loaded {
  network: WgslNetwork;
  frontend: FrontendStage;
  gpu: GpuContext;
  owns: boolean;
}

const LOADED = new WeakMap<BrowserModel, Loaded>();

/**
 * Fetch a converted model and build it on the page's WebGPU device.
 *
 * @throws {OpenL3Error} when the browser has no WebGPU adapter, the URL does not answer with a model, or
 *   `frontend` / `maxBatch` is not valid.
 */
export async function loadAudioEmbeddingModel(options: BrowserModelOptions): Promise<BrowserModel> {
  if (!options || (typeof options.url !== "string" && !(options.url instanceof URL))) {
    throw new OpenL3Error(
      `loadAudioEmbeddingModel needs { url } of a converted model, got ${describe(options)}`,
    );
  }
  const choice = oneOf(options.frontend ?? "auto", FRONTEND_CHOICES, "frontend");
  const maxBatch = options.maxBatch ?? 32;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new OpenL3Error(`Invalid maxBatch ${maxBatch}`);
  const url = String(options.url);
  const response = await (options.fetch ?? fetch)(url).catch((e) => {
    throw new OpenL3Error(`${url}: ${(e as Error).message}`, { cause: e });
  });
  if (!response.ok) throw new OpenL3Error(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
  const bytes = new Uint8Array(await response.arrayBuffer());
  const arch = architectureFromOnnx(bytes, url);
  const meta = readOnnxMetadata(bytes, url);
  const weights = weightsFromOnnx(bytes, arch, url);

  let gpu: GpuContext;
  const owns = !options.device;
  if (options.device) {
    gpu = { device: options.device, description: "the page's device", software: false, features: new Set() };
  } else {
    const adapter = await requestAdapter();
    if (!adapter) {
      throw new OpenL3Error(
        "this browser has no WebGPU adapter (navigator.gpu): embed on a server instead, or use a browser with WebGPU",
      );
    }
    gpu = await openDevice(adapter);
  }
  let network: WgslNetwork | undefined;
  try {
    network = WgslNetwork.create(gpu, weights, maxBatch);
    const frontend = await createFrontend({ repr: arch.repr, device: choice, gpu, batchSize: maxBatch });
    const model: BrowserModel = {
      inputRepr: arch.repr,
      contentType: (meta.content_type ?? "music") as ContentType,
      embeddingSize: arch.embeddingSize,
      weightsHash: meta.weights_sha256 ?? "",
      provenance: meta.weights_provenance ?? "custom",
      description: `network: WGSL on ${gpu.description}; spectrograms: ${frontend.description}`,
      close: () => {
        const l = LOADED.get(model);
        if (!l) return;
        LOADED.delete(model);
        l.frontend.destroy();
        l.network.destroy();
        if (l.owns) l.gpu.device.destroy();
      },
    };
    LOADED.set(model, { network, frontend, gpu, owns });
    return model;
  } catch (e) {
    network?.destroy();
    if (owns) gpu.device.destroy();
    throw e;
  }
}

/** Options of {@linkcode getAudioEmbedding} in a page. */
export interface BrowserEmbeddingOptions {
  /** The model, from {@linkcode loadAudioEmbeddingModel}. */
  model: BrowserModel;
  /**
   * Prepend half a window so that window i is centred at i · hopSize.
   * @default {true}
   */
  center?: boolean;
  /**
   * Seconds between windows.
   * @default {0.1}
   */
  hopSize?: number;
  /**
   * Windows per network call (at most the model's `maxBatch`).
   * @default {32}
   */
  batchSize?: number;
  /** Told each warning; default: one line on the console. */
  onWarning?: (w: OpenL3Warning) => void;
}

/**
 * Embeddings of one clip or of several (openl3's `get_audio_embedding`), on the page's GPU.
 *
 * @throws {OpenL3Error} where openl3 raises (see `mod.ts`), and for a missing or closed `model`.
 */
export function getAudioEmbedding(
  audio: Clip,
  sr: number,
  options: BrowserEmbeddingOptions,
): Promise<AudioEmbedding>;
/** Several clips: one result each. */
export function getAudioEmbedding(
  audio: Clip[],
  sr: number | number[],
  options: BrowserEmbeddingOptions,
): Promise<AudioEmbedding[]>;
export async function getAudioEmbedding(
  audio: Clip | Clip[],
  sr: number | number[],
  options: BrowserEmbeddingOptions,
): Promise<AudioEmbedding | AudioEmbedding[]> {
  const loaded = options?.model ? LOADED.get(options.model) : undefined;
  if (!loaded) {
    throw new OpenL3Error(
      `Invalid model provided: in a page, pass { model } from loadAudioEmbeddingModel({ url }) (got ${
        describe(options?.model)
      }${options?.model ? ", closed or not one" : ""})`,
    );
  }
  const checked = checkClips(audio, sr);
  const { hopSize, center, batchSize } = checkFraming(options);
  const n = Math.min(batchSize, loaded.network.capacity);
  const results = await embedClips(
    {
      options: { hopSize, center },
      frontend: loaded.frontend,
      session: {
        run: (patches, count) => loaded.network.run(patches, count),
        runGpuBuffer: (buffer, count) => loaded.network.runBuffer(buffer, count),
        gpuCapacity: loaded.network.capacity,
      },
      batchSize: n,
      size: loaded.network.arch.outputSize,
    },
    checked,
    options.onWarning ?? warnOnStderr,
  );
  return checked.single ? results[0] : results;
}

/** Audio decoded in a page, downmixed as the command line does. */
export interface DecodedClip {
  /** Mono samples (the mean of the channels, in float64 where it needs it). */
  samples: Clip;
  /** Samples per second, the file's own. */
  sampleRate: number;
  /** The format found in the bytes. */
  format: string;
}

/**
 * Decode an audio file's bytes (WAV, FLAC, MP3, Ogg Vorbis/Opus) with the command line's own decoders and
 * downmix it, so a page's embeddings of a file are the command line's. The WebAssembly decoder of a format
 * is fetched when that format is first met. (M4A/AAC/ALAC need ffmpeg: embed those on a server.)
 *
 * @throws {OpenL3Error} naming `name` and the problem, for bytes that are not audio it decodes.
 */
export async function decodeAudio(
  bytes: Uint8Array,
  name = "audio",
  options: { maxDuration?: number } = {},
): Promise<DecodedClip> {
  const { decodeAudioBytes, toMono } = await import("./lib/audio/decode.ts");
  const audio = await decodeAudioBytes(bytes, name, options);
  return { samples: toMono(audio.channels), sampleRate: audio.sampleRate, format: audio.format };
}

/**
 * One song vector from a clip's frames, pooled as the command line pools them (`--pool max|mean`, float64).
 *
 * @throws {OpenL3Error} for an unknown pooling, or a result that is not finite (it is never ranked).
 */
export function poolEmbeddings(e: AudioEmbedding, pooling: string = "max"): Float64Array {
  const pooler = new FramePooler(oneOf(pooling, POOLINGS, "pooling"), e.size);
  pooler.add(e.embeddings, e.frames);
  const v = pooler.result();
  if (!v.every(Number.isFinite)) {
    throw new OpenL3Error("the pooled embedding holds values that are not finite");
  }
  return v;
}
