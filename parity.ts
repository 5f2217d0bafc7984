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

import { MODELS_DIR } from "./files.ts";
import { parseCli, runMain } from "./lib/util/cli.ts";
import { ArgumentError } from "./lib/util/errors.ts";
import { createEmbedder, type EmbedderOptions, embedFile } from "./lib/pipeline/embedder.ts";
import { MODEL_FLAGS, MODEL_FLAGS_HELP, modelOptions } from "./lib/pipeline/model_flags.ts";
import { decodeNpz, encodeNpz } from "./lib/util/npz.ts";
import {
  compareEmbeddings,
  FLOAT32_TOLERANCE,
  OPENL3_TOLERANCE,
  type ParityReport,
} from "./lib/pipeline/parity_report.ts";

/** Options of {@linkcode run}: the embedder's, plus the files. */
export interface ParityOptions extends EmbedderOptions {
  audio: string;
  reference: string;
  /** Also write the computed embeddings here as `.npz`. */
  out?: string;
}

/** Embed, compare, and (optionally) write the computed `.npz`. */
export async function run(options: ParityOptions): Promise<ParityReport> {
  const reference = await decodeNpz(await Deno.readFile(options.reference), options.reference);
  if (!reference.embedding || !reference.timestamps) {
    throw new ArgumentError(`${options.reference}: needs the keys 'embedding' and 'timestamps'`);
  }
  const { audio: _audio, reference: _reference, out: _out, ...embedderOptions } = options;
  const embedder = await createEmbedder(embedderOptions);
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

${MODEL_FLAGS_HELP}
  --out E.npz           also write the computed embeddings
  -h, --help            this text

Exit status: 0 when it passes at OpenL3's tolerance, 1 when not.`;

async function main(args: string[]): Promise<number> {
  const { values } = parseCli(args, {
    ...MODEL_FLAGS,
    audio: { type: "string" },
    reference: { type: "string" },
    out: { type: "string" },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.audio || !values.reference) throw new ArgumentError("--audio and --reference are required");
  const report = await run({
    ...modelOptions(values, MODELS_DIR),
    audio: values.audio,
    reference: values.reference,
    out: values.out,
  });
  console.log(formatReport(report));
  return report.passOpenL3 ? 0 : 1;
}

if (import.meta.main) await runMain(main);
