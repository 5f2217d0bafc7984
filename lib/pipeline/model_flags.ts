/**
 * The command-line flags that choose the model and where it runs, defined
 * once for every command: each flag's parseArgs option, its help line and
 * the {@linkcode EmbedderOptions} field it sets, in one table
 * ({@linkcode MODEL_FLAG_TABLE}). A command takes the flags it needs by name
 * ({@linkcode modelFlags}, {@linkcode modelFlagsHelp}), and
 * {@linkcode modelOptions} turns whatever was given into options; the values
 * are checked once, by `resolveEmbedderOptions`. OpenL3's own flag names are
 * aliases.
 *
 * Adding a model option is one row here, one field in `embed_options.ts`
 * (with its check and default), and its use where it acts.
 *
 * @module
 */

import { numberFlag } from "../util/cli.ts";
import { DEVICE_CHOICES } from "../gpu/device.ts";
import { INPUT_REPRS } from "../frontend/spec.ts";
import { CONTENT_TYPES, EMBEDDING_SIZES } from "../model/architecture.ts";
import { BACKENDS } from "../model/inference.ts";
import { PRECISIONS } from "../model/precision.ts";
import { DEFAULT_PATHS, EMBED_DEFAULTS } from "./defaults.ts";
import type { EmbedderOptions } from "./embed_options.ts";

const d = EMBED_DEFAULTS;

/** How a help line reads for a command that embeds new files the way a database's songs were. */
export interface HelpContext {
  /** Unset values come from the database's songs (`similar`, `serve`, a rerun of `embed`). */
  fromDatabase: boolean;
}

/** One model flag: how it is parsed, what its help says, which option it sets. */
export interface ModelFlag {
  /** Its parseArgs option. */
  option: { type: "string" | "boolean"; short?: string };
  /** `--flag ARG` as the help shows it. */
  usage: string;
  /** Its help text (wrapped by {@linkcode modelFlagsHelp}). */
  help: (c: HelpContext) => string;
  /** The option it sets, from the parsed value (numbers parsed here; everything checked later, once). */
  set: (value: string | boolean) => Partial<EmbedderOptions>;
}

const orDb = (c: HelpContext, text: string) => c.fromDatabase ? `the stored songs', else ${text}` : text;
const str = <K extends keyof EmbedderOptions>(field: K) => (v: string | boolean) =>
  ({ [field]: v as string }) as Partial<EmbedderOptions>;
const num = <K extends keyof EmbedderOptions>(field: K, flag: string) => (v: string | boolean) =>
  ({ [field]: numberFlag(v as string, flag) }) as Partial<EmbedderOptions>;

/** Every model flag, in help order. */
export const MODEL_FLAG_TABLE = {
  weights: {
    option: { type: "string" },
    usage: "--weights PATH",
    help: (c) =>
      `.h5, .h5.gz or .onnx (default: ${
        c.fromDatabase ? "the stored songs', found by their hash, else " : ""
      }the official file in ${DEFAULT_PATHS.models}/, fetched if missing)`,
    set: str("weights"),
  },
  "models-dir": {
    option: { type: "string" },
    usage: "--models-dir DIR",
    help: () => `weights and converted models (default: ${DEFAULT_PATHS.models})`,
    set: str("modelsDir"),
  },
  "input-repr": {
    option: { type: "string", short: "i" },
    usage: "-i, --input-repr R",
    help: (c) => `${INPUT_REPRS.join(" | ")} (default: ${orDb(c, d.inputRepr)})`,
    set: str("inputRepr"),
  },
  "content-type": {
    option: { type: "string" },
    usage: "--content-type C",
    help: (c) => `${CONTENT_TYPES.join(" | ")} (default: ${orDb(c, d.contentType)})`,
    set: str("contentType"),
  },
  "embedding-size": {
    option: { type: "string" },
    usage: "--embedding-size N",
    help: (c) => `${EMBEDDING_SIZES.join(" | ")} (default: ${orDb(c, String(d.embeddingSize))})`,
    set: num("embeddingSize", "embedding-size"),
  },
  hop: {
    option: { type: "string" },
    usage: "--hop S",
    help: (c) => `seconds between windows, one sample to 3600 (default: ${orDb(c, String(d.hopSize))})`,
    set: num("hopSize", "hop"),
  },
  "no-center": {
    option: { type: "boolean" },
    usage: "--no-center",
    help: () => "do not centre the windows (OpenL3's center=False)",
    set: (v) => (v ? { center: false } : {}),
  },
  device: {
    option: { type: "string" },
    usage: "--device D",
    help: () => `spectrogram: ${DEVICE_CHOICES.join(" | ")} (default: ${d.device})`,
    set: str("device"),
  },
  backend: {
    option: { type: "string" },
    usage: "--backend B",
    help: () => `network: ${BACKENDS.join(" | ")} (default: ${d.backend})`,
    set: str("backend"),
  },
  precision: {
    option: { type: "string" },
    usage: "--precision P",
    help: (c) =>
      `network: ${PRECISIONS.join(" | ")} (default: ${
        orDb(c, d.precision)
      }; int8: quantized, on the CPU, faster, not fp32's numbers; a database keeps one)`,
    set: str("precision"),
  },
  "batch-size": {
    option: { type: "string" },
    usage: "--batch-size N",
    help: () => `windows per batch, 1–1024 (default: ${d.gpuBatchSize} on WebGPU, ${d.cpuBatchSize} on CPU)`,
    set: num("batchSize", "batch-size"),
  },
  threads: {
    option: { type: "string" },
    usage: "--threads N",
    help: () => "CPU threads of the native network backend, 1 to the number of cores (default: every core)",
    set: num("threads", "threads"),
  },
} as const satisfies Record<string, ModelFlag>;

/** A model flag's name (without dashes). */
export type ModelFlagName = keyof typeof MODEL_FLAG_TABLE;

/** Every model flag, in help order. */
export const ALL_MODEL_FLAGS = Object.keys(MODEL_FLAG_TABLE) as ModelFlagName[];

/**
 * The flags that say where the network runs and with which weights: what a command that embeds new files
 * the way a database's songs were (the variant, framing and pooling are the database's) lets people choose.
 */
export const RUNTIME_FLAGS = ["weights", "models-dir", "backend", "device", "precision"] as const;

/** The flags that choose the variant and its framing only. */
export const VARIANT_FLAGS = ["input-repr", "content-type", "embedding-size", "hop", "no-center"] as const;

/** parseArgs options of every model flag. */
export const MODEL_FLAGS: { [K in ModelFlagName]: (typeof MODEL_FLAG_TABLE)[K]["option"] } = modelFlags(
  ALL_MODEL_FLAGS,
);

/**
 * The parseArgs options of some model flags.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelFlags, RUNTIME_FLAGS } from "./model_flags.ts";
 * assert.deepEqual(Object.keys(modelFlags(RUNTIME_FLAGS)), ["weights", "models-dir", "backend", "device", "precision"]);
 * assert.deepEqual(modelFlags(["hop"]).hop, { type: "string" });
 * ```
 */
export function modelFlags<K extends ModelFlagName>(
  names: readonly K[],
): { [P in K]: (typeof MODEL_FLAG_TABLE)[P]["option"] } {
  return Object.fromEntries(names.map((n) => [n, MODEL_FLAG_TABLE[n].option])) as {
    [P in K]: (typeof MODEL_FLAG_TABLE)[P]["option"];
  };
}

/** OpenL3's own flag names (its `openl3` command line), accepted as aliases. */
export const OPENL3_ALIASES: Record<string, string> = {
  "audio-hop-size": "hop",
  "hop-size": "hop",
  "audio-embedding-size": "embedding-size",
  "no-audio-centering": "no-center",
  "no-centering": "no-center",
  "audio-batch-size": "batch-size",
};

/** Options of {@linkcode modelFlagsHelp}. */
export interface ModelFlagsHelpOptions extends Partial<HelpContext> {
  /**
   * The column where the help text starts.
   * @default {24}
   */
  column?: number;
  /**
   * The last column of a line.
   * @default {110}
   */
  width?: number;
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/**
 * The help lines of some model flags, from the one table (and the OpenL3 aliases among them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelFlagsHelp } from "./model_flags.ts";
 * assert.equal(modelFlagsHelp(["models-dir"]), "  --models-dir DIR      weights and converted models (default: models)");
 * assert.match(modelFlagsHelp(["hop"], { fromDatabase: true }), /default: the stored songs', else 0.1/);
 * assert.match(modelFlagsHelp(["hop"]), /OpenL3's names work too: --audio-hop-size, --hop-size/);
 * ```
 */
export function modelFlagsHelp(names: readonly ModelFlagName[], options: ModelFlagsHelpOptions = {}): string {
  const column = options.column ?? 24, width = options.width ?? 110;
  const context = { fromDatabase: options.fromDatabase ?? false };
  const out: string[] = [];
  for (const name of names) {
    const flag = MODEL_FLAG_TABLE[name] as ModelFlag;
    const head = `  ${flag.usage}`;
    const [first, ...rest] = wrap(flag.help(context), width - column);
    out.push(head.length < column ? head.padEnd(column) + first : `${head}\n${" ".repeat(column)}${first}`);
    for (const line of rest) out.push(" ".repeat(column) + line);
  }
  const aliases = Object.keys(OPENL3_ALIASES).filter((a) =>
    names.includes(OPENL3_ALIASES[a] as ModelFlagName)
  );
  if (aliases.length) {
    const text = `OpenL3's names work too: ${aliases.map((a) => `--${a}`).join(", ")}`;
    for (const line of wrap(text, width - column)) out.push(" ".repeat(column) + line);
  }
  return out.join("\n");
}

/** The help lines of every model flag. */
export const MODEL_FLAGS_HELP: string = modelFlagsHelp(ALL_MODEL_FLAGS);

/** Parsed values of the model flags (as parseArgs returns them). */
export type ModelFlagValues = Partial<Record<ModelFlagName, string | boolean>>;

/**
 * Turn parsed model flags into embedder options (only the flags given set anything). Only the parsing of
 * numbers happens here; the values are checked by `resolveEmbedderOptions`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelOptions } from "./model_flags.ts";
 * const o = modelOptions({ hop: "0.5", "no-center": true, "embedding-size": "6144" });
 * assert.deepEqual(o, { hopSize: 0.5, center: false, embeddingSize: 6144 });
 * assert.throws(() => modelOptions({ hop: "fast" }), /--hop must be a number, got "fast"/);
 * ```
 */
export function modelOptions(values: ModelFlagValues): EmbedderOptions {
  const out: EmbedderOptions = {};
  for (const name of ALL_MODEL_FLAGS) {
    const v = values[name];
    if (v !== undefined) Object.assign(out, (MODEL_FLAG_TABLE[name] as ModelFlag).set(v));
  }
  return out;
}
