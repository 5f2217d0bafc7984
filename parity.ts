/**
 * Parity with the official OpenL3: embeds an audio file and compares the
 * result with a reference `.npz` (keys `embedding`, `timestamps`), such as
 * OpenL3's own regression data.
 *
 *     deno task parity --weights W --audio A --reference R.npz [--input-repr R] [--content-type C]
 *                      [--embedding-size N] [--hop S] [--no-center] [--device D] [--backend B] [--out E.npz]
 *
 * Exit status 0 when it passes at OpenL3's tolerance, 1 otherwise.
 *
 * @module
 */

import { choiceFlag, numberFlag, parseCli, runMain } from "./lib/cli.ts";
import { ArgumentError } from "./lib/errors.ts";
import { createEmbedder, embedFile } from "./lib/embedder.ts";
import { DEVICE_CHOICES, type DeviceChoice } from "./lib/gpu_device.ts";
import { type BackendChoice, BACKENDS } from "./lib/inference.ts";
import { decodeNpz, encodeNpz } from "./lib/npz.ts";
import { CONTENT_TYPES, type ContentType, type EmbeddingSize } from "./lib/openl3_arch.ts";
import { compareEmbeddings, FLOAT32_TOLERANCE, OPENL3_TOLERANCE, type ParityReport } from "./lib/parity.ts";
import { INPUT_REPRS, type InputRepr } from "./lib/spectrogram.ts";

/** Options of {@linkcode run}. */
export interface ParityOptions {
  weights?: string;
  audio: string;
  reference: string;
  inputRepr?: InputRepr;
  contentType?: ContentType;
  embeddingSize?: EmbeddingSize;
  hopSize?: number;
  center?: boolean;
  device?: DeviceChoice;
  backend?: BackendChoice;
  modelsDir?: string;
  /** Also write the computed embeddings here as `.npz`. */
  out?: string;
  verbose?: boolean;
}

/** Embed, compare, and (optionally) write the computed `.npz`. */
export async function run(options: ParityOptions): Promise<ParityReport> {
  const reference = await decodeNpz(await Deno.readFile(options.reference), options.reference);
  if (!reference.embedding || !reference.timestamps) {
    throw new ArgumentError(`${options.reference}: needs the keys 'embedding' and 'timestamps'`);
  }
  const embedder = await createEmbedder({
    inputRepr: options.inputRepr,
    contentType: options.contentType,
    embeddingSize: options.embeddingSize,
    weights: options.weights,
    modelsDir: options.modelsDir,
    hopSize: options.hopSize,
    center: options.center,
    device: options.device,
    backend: options.backend,
    verbose: options.verbose,
  });
  try {
    const e = await embedFile(embedder, options.audio);
    if (options.out) {
      await Deno.writeFile(
        options.out,
        encodeNpz({
          embedding: { data: e.embedding, shape: [e.windows, e.size] },
          timestamps: { data: e.timestamps, shape: [e.windows] },
        }),
      );
    }
    return compareEmbeddings(e, {
      embedding: reference.embedding.data,
      timestamps: reference.timestamps.data,
    }, e.size);
  } finally {
    await embedder.close();
  }
}

/** The report as text. */
export function formatReport(r: ParityReport): string {
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  return [
    `shape ${r.shape.join(" × ")}, timestamps ${r.timestampsEqual ? "equal" : "DIFFER"}`,
    `max |diff| ${r.maxAbs.toExponential(3)} at [${r.worst.row}, ${r.worst.col}] ` +
    `(${r.worst.actual} vs ${r.worst.expected}); max relative ${r.maxRel.toExponential(3)}`,
    `OpenL3 tolerance (rtol=atol=${OPENL3_TOLERANCE.rtol}): ${verdict(r.passOpenL3)}`,
    `float32 tolerance (rtol=atol=${FLOAT32_TOLERANCE.rtol}): ${verdict(r.passFloat32)}`,
  ].join("\n");
}

const HELP = `Compare this tool's OpenL3 embeddings with a reference .npz (e.g. OpenL3's own output).

Usage: deno task parity --audio A --reference R.npz [options]

  --weights PATH        .h5, .h5.gz or .onnx (default: the official file in models/, fetched if missing)
  --input-repr R        ${INPUT_REPRS.join(" | ")} (default: mel256)
  --content-type C      ${CONTENT_TYPES.join(" | ")} (default: music)
  --embedding-size N    512 | 6144 (default: 512)
  --hop S               seconds between windows (default: 0.1)
  --no-center           OpenL3's center=False
  --device D            frontend: ${DEVICE_CHOICES.join(" | ")} (default: auto)
  --backend B           network: ${BACKENDS.join(" | ")} (default: auto)
  --out E.npz           also write the computed embeddings
  --models-dir DIR      weights and converted models (default: models)
  -h, --help            this text

Exit status: 0 when it passes at OpenL3's tolerance, 1 when not.`;

async function main(args: string[]): Promise<number> {
  const { values } = parseCli(args, {
    weights: { type: "string" },
    audio: { type: "string" },
    reference: { type: "string" },
    "input-repr": { type: "string" },
    "content-type": { type: "string" },
    "embedding-size": { type: "string" },
    hop: { type: "string" },
    "no-center": { type: "boolean" },
    device: { type: "string" },
    backend: { type: "string" },
    out: { type: "string" },
    "models-dir": { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.audio || !values.reference) throw new ArgumentError("--audio and --reference are required");
  const report = await run({
    weights: values.weights,
    audio: values.audio,
    reference: values.reference,
    inputRepr: choiceFlag(values["input-repr"], "input-repr", INPUT_REPRS, "mel256"),
    contentType: choiceFlag(values["content-type"], "content-type", CONTENT_TYPES, "music"),
    embeddingSize: Number(
      choiceFlag(values["embedding-size"], "embedding-size", ["512", "6144"] as const, "512"),
    ) as EmbeddingSize,
    hopSize: numberFlag(values.hop, "hop", 0.1),
    center: !values["no-center"],
    device: choiceFlag(values.device, "device", DEVICE_CHOICES, "auto"),
    backend: choiceFlag(values.backend, "backend", BACKENDS, "auto"),
    out: values.out,
    modelsDir: values["models-dir"],
  });
  console.log(formatReport(report));
  return report.passOpenL3 ? 0 : 1;
}

if (import.meta.main) await runMain(main);
