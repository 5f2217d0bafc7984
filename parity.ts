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

import { type Command, defineCommand, runCommand } from "./lib/util/cli.ts";
import { ArgumentError } from "./lib/util/errors.ts";
import { createEmbedder, type EmbedderOptions } from "./lib/pipeline/embedder.ts";
import type { Precision } from "./lib/model/precision.ts";
import { embedFile } from "./lib/pipeline/embed_song.ts";
import { MODEL_FLAGS, MODEL_FLAGS_HELP, modelOptions, OPENL3_ALIASES } from "./lib/pipeline/model_flags.ts";
import { writeEmbeddingNpz } from "./lib/pipeline/npz_export.ts";
import { decodeNpz } from "./lib/util/npz.ts";
import { readInputFile } from "./lib/util/input_file.ts";
import {
  compareEmbeddings,
  FLOAT32_TOLERANCE,
  INT8_MEDIAN_COSINE,
  OPENL3_TOLERANCE,
  type ParityReport,
} from "./lib/pipeline/parity_report.ts";

/** Options of {@linkcode run}: the embedder's, plus the files. */
export interface ParityOptions extends EmbedderOptions {
  /** The audio file to embed. */
  audio: string;
  /** The reference `.npz` (keys `embedding`, `timestamps`). */
  reference: string;
  /** Also write the computed embeddings here as `.npz`. */
  out?: string;
}

/** Embed, compare, and (optionally) write the computed `.npz`. */
export async function run(options: ParityOptions): Promise<ParityReport> {
  const reference = await decodeNpz(await readInputFile(options.reference), options.reference);
  if (!reference.embedding || !reference.timestamps) {
    throw new ArgumentError(`${options.reference}: needs the keys 'embedding' and 'timestamps'`);
  }
  const { audio: _audio, reference: _reference, out: _out, ...embedderOptions } = options;
  const embedder = await createEmbedder(embedderOptions);
  try {
    const e = await embedFile(embedder, options.audio);
    if (options.out) await writeEmbeddingNpz(options.out, e);
    return compareEmbeddings(e, {
      embedding: reference.embedding.data,
      timestamps: reference.timestamps.data,
    }, e.size);
  } finally {
    await embedder.close();
  }
}

/** The report as text; for the int8 network, its agreement gate too. */
export function formatReport(r: ParityReport, precision: Precision = "fp32"): string {
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  const { cosine, relativeError } = r.agreement;
  return [
    `per window: cosine median ${cosine.median.toFixed(6)}, worst ${cosine.worst.toFixed(6)}; ` +
    `relative error median ${relativeError.median.toExponential(2)}, worst ${
      relativeError.worst.toExponential(2)
    }`,
    `shape ${r.shape.join(" × ")}, timestamps ${r.timestampsEqual ? "equal" : "DIFFER"}`,
    `max |diff| ${r.maxAbs.toExponential(3)} at [${r.worst.row}, ${r.worst.col}] ` +
    `(${r.worst.actual} vs ${r.worst.expected}); max relative ${r.maxRel.toExponential(3)}`,
    `OpenL3 tolerance (rtol=atol=${OPENL3_TOLERANCE.rtol}): ${verdict(r.passOpenL3)}`,
    `float32 tolerance (rtol=atol=${FLOAT32_TOLERANCE.rtol}): ${verdict(r.passFloat32)}`,
    ...(precision === "int8"
      ? [`int8 network gate (median per-window cosine ≥ ${INT8_MEDIAN_COSINE}): ${verdict(r.passInt8)}`]
      : []),
  ].join("\n");
}

const HELP = `Compare this tool's OpenL3 embeddings with a reference .npz (e.g. OpenL3's own output).

Usage: deno task parity --audio A --reference R.npz [options]

  --audio A             the audio file to embed (required)
  --reference R.npz     the reference: keys 'embedding' (windows × dim) and 'timestamps' (required)
  --out E.npz           also write the computed embeddings
${MODEL_FLAGS_HELP}
  --version             the tool's and the runtime's versions
  -h, --help            this text

Prints the largest absolute and relative differences and the verdict at OpenL3's own tolerance
(np.allclose, rtol = atol = ${OPENL3_TOLERANCE.rtol}) and at a float32 one (${FLOAT32_TOLERANCE.rtol}).
With --precision int8 it also gives the int8 network's gate (median per-window cosine ≥ ${INT8_MEDIAN_COSINE}),
which then decides the exit status (int8 is not meant to meet OpenL3's tolerance).
Exit status: 0 when it passes at OpenL3's tolerance, 1 when not, 2 for a bad command line.`;

/** The `parity` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "parity",
  summary: "compare embeddings with an OpenL3 .npz at OpenL3's tolerance",
  help: HELP,
  options: {
    ...MODEL_FLAGS,
    audio: { type: "string" },
    reference: { type: "string" },
    out: { type: "string" },
  },
  aliases: OPENL3_ALIASES,
  body: async ({ values }) => {
    if (!values.audio || !values.reference) throw new ArgumentError("--audio and --reference are required");
    const options = modelOptions(values);
    const report = await run({
      ...options,
      audio: values.audio,
      reference: values.reference,
      out: values.out,
    });
    const int8 = options.precision === "int8";
    console.log(formatReport(report, int8 ? "int8" : "fp32"));
    return (int8 ? report.passInt8 : report.passOpenL3) ? 0 : 1;
  },
});

if (import.meta.main) await runCommand(command);
