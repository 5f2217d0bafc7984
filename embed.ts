/**
 * The batch embedder for whole collections: files and folders (recursive),
 * every format the decoders read, resumable, observable and safe to
 * interrupt. One vector per song in SQLite (plus, on request, frame
 * embeddings and OpenL3-style `.npz` files).
 *
 *     deno task embed <file|folder>... [options]
 *
 * @module
 */

import { DB_PATH, MODELS_DIR } from "./files.ts";
import { choiceFlag, numberFlag, parseCli, runMain } from "./lib/cli.ts";
import {
  type CollectionOptions,
  type CollectionSummary,
  embedCollection,
  formatSummary,
} from "./lib/collection.ts";
import { ArgumentError } from "./lib/errors.ts";
import { DEVICE_CHOICES } from "./lib/gpu_device.ts";
import { BACKENDS } from "./lib/inference.ts";
import { CONTENT_TYPES, type EmbeddingSize } from "./lib/openl3_arch.ts";
import { INPUT_REPRS } from "./lib/spectrogram.ts";

/** Embed a collection (what the command line does, callable from tests). */
export async function run(options: CollectionOptions): Promise<CollectionSummary> {
  return await embedCollection(options);
}

const HELP = `Embed audio files and folders (recursively) with OpenL3 into a SQLite database.

Usage: deno task embed <file|folder>... [options]

Model
  --weights PATH        .h5, .h5.gz or .onnx (default: the official file in ${MODELS_DIR}/, fetched if missing)
  --models-dir DIR      weights and converted models (default: ${MODELS_DIR})
  --input-repr R        ${INPUT_REPRS.join(" | ")} (default: mel256)
  --content-type C      ${CONTENT_TYPES.join(" | ")} (default: music)
  --embedding-size N    512 | 6144 (default: 512)
  --hop S               seconds between windows (default: 0.1)
  --no-center           OpenL3's center=False
  --pool P              max | mean: frame embeddings → one vector per song (default: max)
Output
  --db PATH             SQLite database (default: ${DB_PATH})
  --frames              also store every frame embedding with its timestamp
  --output-dir DIR      also write one OpenL3-style .npz (embedding, timestamps) per file
Running
  --backend B           network: ${BACKENDS.join(" | ")} (default: auto)
  --device D            spectrogram: ${DEVICE_CHOICES.join(" | ")} (default: auto)
  --batch-size N        windows per batch (default: 32 on WebGPU, 8 on CPU)
  --force               recompute files already stored with the same content and configuration
  --prune               remove stored songs under the given folders whose files are gone
  --quiet               no per-file lines, no progress
  -h, --help            this text

Song ids are the files' absolute paths. A rerun skips unchanged files; Ctrl-C stops after the
current batch (nothing half-written is kept). Exit status: 0 all embedded or skipped, 1 some
failed (see the failures table), 130 interrupted.`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCli(args, {
    weights: { type: "string" },
    "models-dir": { type: "string" },
    "input-repr": { type: "string" },
    "content-type": { type: "string" },
    "embedding-size": { type: "string" },
    hop: { type: "string" },
    "no-center": { type: "boolean" },
    pool: { type: "string" },
    db: { type: "string" },
    frames: { type: "boolean" },
    "output-dir": { type: "string" },
    backend: { type: "string" },
    device: { type: "string" },
    "batch-size": { type: "string" },
    force: { type: "boolean" },
    prune: { type: "boolean" },
    quiet: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length === 0) throw new ArgumentError("give at least one audio file or folder");
  const controller = new AbortController();
  let interrupts = 0;
  Deno.addSignalListener("SIGINT", () => {
    if (++interrupts > 1) Deno.exit(130); // second Ctrl-C: leave now (every stored song is whole)
    console.error("interrupted: finishing the current batch (Ctrl-C again to quit at once)");
    controller.abort();
  });
  const summary = await run({
    inputs: positionals,
    db: values.db ?? DB_PATH,
    weights: values.weights,
    modelsDir: values["models-dir"] ?? MODELS_DIR,
    inputRepr: choiceFlag(values["input-repr"], "input-repr", INPUT_REPRS, "mel256"),
    contentType: choiceFlag(values["content-type"], "content-type", CONTENT_TYPES, "music"),
    embeddingSize: Number(
      choiceFlag(values["embedding-size"], "embedding-size", ["512", "6144"] as const, "512"),
    ) as EmbeddingSize,
    hopSize: numberFlag(values.hop, "hop", 0.1),
    center: !values["no-center"],
    pool: choiceFlag(values.pool, "pool", ["max", "mean"] as const, "max"),
    frames: values.frames,
    outputDir: values["output-dir"],
    backend: choiceFlag(values.backend, "backend", BACKENDS, "auto"),
    device: choiceFlag(values.device, "device", DEVICE_CHOICES, "auto"),
    batchSize: values["batch-size"] === undefined
      ? undefined
      : numberFlag(values["batch-size"], "batch-size", 8),
    force: values.force,
    prune: values.prune,
    quiet: values.quiet,
    signal: controller.signal,
  });
  console.log(formatSummary(summary));
  return summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
}

if (import.meta.main) await runMain(main);
