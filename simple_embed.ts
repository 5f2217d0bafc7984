/**
 * The original project's embedding script, in Deno: every `previews/*.mp3`
 * through OpenL3 mel256 / music / 512, max-pooled over time into one vector
 * per file, stored in `metadata/songs.db` table `songs_vectors` (song_id =
 * file stem, vector = 512 float64 little-endian, 4 096 bytes).
 *
 *     deno task simple-embed [--previews DIR] [--db PATH] [--weights PATH] [--backend B] [--device D]
 *
 * @module
 */

import { DB_PATH, MODELS_DIR, PREVIEWS_DIR } from "./files.ts";
import { choiceFlag, parseCli, runMain } from "./lib/util/cli.ts";
import { type CollectionSummary, embedCollection, formatSummary, stemId } from "./lib/pipeline/collection.ts";
import { DEVICE_CHOICES, type DeviceChoice } from "./lib/gpu/device.ts";
import { type BackendChoice, BACKENDS } from "./lib/model/inference.ts";

/** Options of {@linkcode run}. */
export interface SimpleEmbedOptions {
  previews?: string;
  db?: string;
  weights?: string;
  modelsDir?: string;
  backend?: BackendChoice;
  device?: DeviceChoice;
  /** Recompute files already stored; default true, as the original always did. */
  force?: boolean;
  quiet?: boolean;
  signal?: AbortSignal;
}

/** Embed the previews; returns the summary. */
export async function run(options: SimpleEmbedOptions = {}): Promise<CollectionSummary> {
  return await embedCollection({
    inputs: [options.previews ?? PREVIEWS_DIR],
    extensions: [".mp3"],
    idOf: stemId,
    db: options.db ?? DB_PATH,
    weights: options.weights,
    modelsDir: options.modelsDir ?? MODELS_DIR,
    inputRepr: "mel256",
    contentType: "music",
    embeddingSize: 512,
    pool: "max",
    backend: options.backend,
    device: options.device,
    force: options.force ?? true,
    quiet: options.quiet,
    signal: options.signal,
  });
}

const HELP = `Embed previews/*.mp3 with OpenL3 (mel256, music, 512) into metadata/songs.db.

Usage: deno task simple-embed [options]

  --previews DIR     folder of .mp3 files (default: ${PREVIEWS_DIR})
  --db PATH          SQLite database (default: ${DB_PATH})
  --weights PATH     .h5, .h5.gz or .onnx weights (default: the official file in ${MODELS_DIR}/, fetched if missing)
  --models-dir DIR   where weights and converted models live (default: ${MODELS_DIR})
  --backend B        network: ${BACKENDS.join(" | ")} (default: auto)
  --device D         spectrogram: ${DEVICE_CHOICES.join(" | ")} (default: auto)
  --quiet            no per-file lines
  -h, --help         this text

Each file gets a line (✓ with the vector's shape, ✗ with the reason); a summary ends the run.
Exit status: 0 when every file was embedded, 1 when any failed.`;

async function main(args: string[]): Promise<number> {
  const { values } = parseCli(args, {
    previews: { type: "string" },
    db: { type: "string" },
    weights: { type: "string" },
    "models-dir": { type: "string" },
    backend: { type: "string" },
    device: { type: "string" },
    quiet: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => controller.abort());
  const summary = await run({
    previews: values.previews,
    db: values.db,
    weights: values.weights,
    modelsDir: values["models-dir"],
    backend: choiceFlag(values.backend, "backend", BACKENDS, "auto"),
    device: choiceFlag(values.device, "device", DEVICE_CHOICES, "auto"),
    quiet: values.quiet,
    signal: controller.signal,
  });
  console.log(formatSummary(summary));
  return summary.interrupted ? 130 : summary.failed > 0 ? 1 : 0;
}

if (import.meta.main) await runMain(main);
