/**
 * OpenL3's API semantics, written once for the library (`mod.ts`) and the
 * browser build (`browser.ts`): the variant and framing checks in openl3's
 * order and words, its warnings, and the loop that embeds one clip or a list
 * of clips into `{ embeddings, timestamps, frames, size }`. Nothing here
 * loads a model or touches a file, so a web page can import it.
 *
 * @module
 */

import {
  CONTENT_TYPES,
  type ContentType,
  EMBEDDING_SIZES,
  type EmbeddingSize,
} from "../model/architecture.ts";
import { INPUT_REPRS, type InputRepr } from "../frontend/spec.ts";
import { planFrames, sourceAt48k } from "../audio/frame.ts";
import { TARGET_SR } from "../audio/resample.ts";
import { OpenL3Error } from "../util/errors.ts";
import { embedSource, type WindowPipeline } from "./embed_source.ts";

/** A warning where openl3 warns (`OpenL3Warning`): audio shorter than a window, audio that is all zeros. */
export class OpenL3Warning {
  /** What it says. */
  readonly message: string;
  /**
   * The warning.
   * @param message What it says.
   */
  constructor(message: string) {
    this.message = message;
  }
}

/** Where the spectrograms are computed: the GPU when there is a hardware one, or the CPU (float64). */
export type Frontend = "auto" | "cpu" | "webgpu";
/** Every {@linkcode Frontend}. */
export const FRONTEND_CHOICES: readonly Frontend[] = ["auto", "cpu", "webgpu"];

/** One clip: mono samples. */
export type Clip = Float32Array | Float64Array;

/** The embeddings of one clip. */
export interface AudioEmbedding {
  /** `frames × size`, row-major. */
  embeddings: Float32Array;
  /** Seconds, one per frame: `i · hopSize`. */
  timestamps: Float64Array;
  /** Number of frames (windows). */
  frames: number;
  /** Embedding length. */
  size: number;
}

/** A model variant (openl3's `input_repr`, `content_type`, `embedding_size`), openl3's defaults applied. */
export interface Variant {
  /** The spectrogram the network takes. */
  inputRepr: InputRepr;
  /** What the network was trained on. */
  contentType: ContentType;
  /** Embedding length. */
  embeddingSize: EmbeddingSize;
}

/** A call's framing. */
export interface Framing {
  /** Seconds between windows. */
  hopSize: number;
  /** Window i centred at i · hopSize. */
  center: boolean;
  /** Windows per network call. */
  batchSize: number;
}

/** `value` when it is one of `allowed`, else openl3's "Invalid …" error. */
export function oneOf<T>(value: unknown, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value as T)) {
    throw new OpenL3Error(`Invalid ${what} ${JSON.stringify(value)}: one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/**
 * A variant with openl3's defaults (`mel256`, `music`, 6144), each value checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkVariant } from "./embedding_api.ts";
 * assert.deepEqual(checkVariant({}), { inputRepr: "mel256", contentType: "music", embeddingSize: 6144 });
 * assert.throws(() => checkVariant({ embeddingSize: 100 }), /Invalid embedding size 100/);
 * ```
 */
export function checkVariant(
  o: { inputRepr?: unknown; contentType?: unknown; embeddingSize?: unknown },
): Variant {
  return {
    inputRepr: oneOf(o.inputRepr ?? "mel256", INPUT_REPRS, "input representation"),
    contentType: oneOf(o.contentType ?? "music", CONTENT_TYPES, "content type"),
    embeddingSize: oneOf(o.embeddingSize ?? 6144, EMBEDDING_SIZES, "embedding size"),
  };
}

/** A call's framing, openl3's defaults applied (hop 0.1 s, centred, 32 windows a batch), and checked. */
export function checkFraming(o: { hopSize?: unknown; center?: unknown; batchSize?: unknown }): Framing {
  const hopSize = o.hopSize ?? 0.1, center = o.center ?? true, batchSize = o.batchSize ?? 32;
  if (typeof hopSize !== "number" || !Number.isFinite(hopSize) || hopSize <= 0) {
    throw new OpenL3Error(`Invalid hop size ${JSON.stringify(hopSize)}`);
  }
  if (Math.trunc(hopSize * TARGET_SR) < 1) {
    throw new OpenL3Error(`Invalid hop size ${hopSize}: under one sample`);
  }
  if (typeof center !== "boolean") throw new OpenL3Error(`Invalid center value ${JSON.stringify(center)}`);
  if (typeof batchSize !== "number" || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1024) {
    throw new OpenL3Error(`Invalid batch size ${JSON.stringify(batchSize)}: a whole number from 1 to 1024`);
  }
  if (hopSize > 3600) throw new OpenL3Error(`Invalid hop size ${hopSize}: at most 3600 seconds`);
  return { hopSize, center, batchSize };
}

/** True for one clip of mono samples. */
export function isClip(x: unknown): x is Clip {
  return x instanceof Float32Array || x instanceof Float64Array;
}

/** What a value is, in a few words, for messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (ArrayBuffer.isView(x)) return x.constructor.name;
  return typeof x;
}

/** Clips and their rates, checked. */
export interface CheckedClips {
  /** The clips. */
  clips: Clip[];
  /** One rate per clip. */
  rates: number[];
  /** One clip was given (not an array). */
  single: boolean;
}

/**
 * Check `audio` and `sr` as openl3's `get_audio_embedding` does: mono samples or an array of them, one
 * rate or one per clip, no empty clip, rates positive and finite.
 *
 * @throws {OpenL3Error} naming the value refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkClips } from "./embedding_api.ts";
 * const { clips, rates } = checkClips([new Float32Array(10), new Float64Array(5)], 22050);
 * assert.deepEqual([clips.length, rates], [2, [22050, 22050]]);
 * assert.throws(() => checkClips(new Float32Array(0), 44100), /Got empty audio/);
 * assert.throws(() => checkClips(new Float32Array(5), [44100]), /one number for one clip/);
 * ```
 */
export function checkClips(audio: unknown, sr: unknown): CheckedClips {
  const single = isClip(audio);
  // every index, holes included (every() skips the holes of a sparse array)
  const allClips = Array.isArray(audio) && Array.from(audio as unknown[]).every(isClip);
  if (!single && !allClips) {
    throw new OpenL3Error(
      `audio must be mono samples (Float32Array or Float64Array) or an array of them, got ${
        describe(audio)
      }` +
        (Array.isArray(audio)
          ? ` holding ${describe(Array.from(audio as unknown[]).find((c) => !isClip(c)))}`
          : ""),
    );
  }
  const clips = single ? [audio as Clip] : audio as Clip[];
  if (single && typeof sr !== "number") {
    throw new OpenL3Error(`sr must be one number for one clip, got ${describe(sr)}`);
  }
  if (typeof sr !== "number" && !Array.isArray(sr)) {
    throw new OpenL3Error(`sr must be a number or an array of numbers, got ${describe(sr)}`);
  }
  const rates = typeof sr === "number" ? clips.map(() => sr) : sr as unknown[];
  if (rates.length !== clips.length) {
    throw new OpenL3Error(
      `Mismatch between number of audio inputs (${clips.length}) and number of sample rates (${rates.length})`,
    );
  }
  for (const [i, clip] of clips.entries()) {
    if (clip.length === 0) throw new OpenL3Error(`Got empty audio${single ? "" : ` (clip ${i})`}`);
    const rate = rates[i];
    if (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0) {
      throw new OpenL3Error(`Invalid sample rate ${JSON.stringify(rate)}`);
    }
    if (rate < 1 || rate > 10_000_000) {
      throw new OpenL3Error(`Invalid sample rate ${rate}: from 1 Hz to 10 MHz`);
    }
    // a NaN or infinite sample would spread through every window it is in: refused, not embedded
    for (let k = 0; k < clip.length; k++) {
      if (!Number.isFinite(clip[k])) {
        throw new OpenL3Error(
          `${single ? "the audio" : `clip ${i}`} holds a sample that is not a finite number: ${
            clip[k]
          } at index ${k}`,
        );
      }
    }
  }
  return { clips, rates: rates as number[], single };
}

/** openl3's default for warnings: one line on stderr (the console's error stream in a page). */
export function warnOnStderr(w: OpenL3Warning): void {
  console.error(`OpenL3Warning: ${w.message}`);
}

/**
 * Embed checked clips with a pipeline, warning where openl3 warns (silence, audio shorter than a window).
 * `pipeline.options` must hold the framing's hop and centring.
 */
export async function embedClips(
  pipeline: WindowPipeline & { readonly size: number },
  { clips, rates }: CheckedClips,
  warn: (w: OpenL3Warning) => void,
): Promise<AudioEmbedding[]> {
  const { hopSize, center } = pipeline.options;
  const results: AudioEmbedding[] = [];
  for (const [i, clip] of clips.entries()) {
    if (clip.every((x) => x === 0)) warn(new OpenL3Warning("Provided audio is all zeros"));
    const source = sourceAt48k(clip, rates[i]);
    if (planFrames(source.length, { hopSize, center }).warnings.length) {
      warn(
        new OpenL3Warning(
          "Duration of provided audio is shorter than window size (1 second). Audio will be padded.",
        ),
      );
    }
    let embeddings = new Float32Array(0);
    const plan = await embedSource(pipeline, source, (b) => {
      if (b.start === 0) embeddings = new Float32Array(b.windows * pipeline.size);
      embeddings.set(b.embedding.subarray(0, b.count * pipeline.size), b.start * pipeline.size);
    });
    const timestamps = Float64Array.from({ length: plan.windows }, (_, k) => k * hopSize);
    results.push({ embeddings, timestamps, frames: plan.windows, size: pipeline.size });
  }
  return results;
}
