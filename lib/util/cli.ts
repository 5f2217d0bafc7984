/**
 * Shared command-line plumbing: `node:util` parseArgs with our own messages
 * (an unknown flag names the nearest known one), aliases for OpenL3's own
 * flag names, `--help` and `--version` on every command, and a runner that
 * turns our errors into one clear line and an exit code.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { ArgumentError, OpenL3Error } from "./errors.ts";
import { TOOL_VERSION } from "./version.ts";
import { isStandalone } from "./standalone.ts";

/** Options of a command: parseArgs' option config. */
export type CliOptions = NonNullable<ParseArgsConfig["options"]>;

/** A command's options with `--help` and `--version` added. */
export type WithCommon<O extends CliOptions> = O & {
  help: { type: "boolean"; short: "h" };
  version: { type: "boolean" };
};

/** The values parseArgs gives for a command's options (with `help` and `version`). */
export type ParsedValues<O extends CliOptions> = ReturnType<
  typeof parseArgs<{ options: WithCommon<O>; strict: true; allowPositionals: boolean }>
>["values"];

/** How a command reads its command line. */
export interface CommandSpec<O extends CliOptions> {
  /** Printed for `--help`. */
  help: string;
  /** The flags. `--help`/`-h` and `--version` are added to every command. */
  options: O;
  /** Accept positional arguments; default false. */
  positionals?: boolean;
  /** Other names of flags, without dashes: alias → the flag it stands for (e.g. `audio-hop-size` → `hop`). */
  aliases?: Record<string, string>;
  /** Rewrite the arguments before they are parsed (a flag whose value may be left out). */
  normalize?: (args: string[]) => string[];
}

/** Levenshtein distance (for "did you mean"). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** The known flag nearest to `name`, when it is near enough to be a typo. */
export function nearestFlag(name: string, known: string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Replace alias flags (`--alias`, `--alias=value`) by the flags they stand for. */
function applyAliases(args: string[], aliases: Record<string, string>): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (arg === "--") {
      out.push(...args.slice(out.length));
      break;
    }
    const m = /^--([^=]+)(=.*)?$/.exec(arg);
    const target = m ? aliases[m[1]] : undefined;
    out.push(target ? `--${target}${m![2] ?? ""}` : arg);
  }
  return out;
}

/**
 * `--hop -1` and `-k -3`: a negative number after a flag that takes a value is that flag's value (parseArgs
 * would take it for a flag and say the value is missing), so the value's own check can name it.
 */
function negativeValues(args: string[], options: CliOptions): string[] {
  const shorts = new Map(
    Object.entries(options).filter(([, o]) => o.short).map(([name, o]) => [o.short!, name]),
  );
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = /^--[^=]+$/.test(a) ? a.slice(2) : /^-[A-Za-z]$/.test(a) ? shorts.get(a[1]) : undefined;
    if (name && options[name]?.type === "string" && /^-(\d|\.\d|Infinity)/.test(args[i + 1] ?? "")) {
      out.push(`--${name}=${args[++i]}`);
    } else out.push(a);
  }
  return out;
}

/** How a flag is written on the command line: `-k` for a one-letter flag, `--hop` otherwise. */
export function flagName(flag: string): string {
  return flag.length === 1 ? `-${flag}` : `--${flag}`;
}

/** parseArgs' messages, said our way: the flag, the problem, and the nearest flag when it is a typo. */
function explain(e: Error, options: CliOptions, aliases: Record<string, string>): ArgumentError {
  const known = [...Object.keys(options), ...Object.keys(aliases)];
  const code = (e as Error & { code?: string }).code;
  const flag = /'(-{1,2}[^']*)'/.exec(e.message)?.[1] ?? "";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const near = nearestFlag(flag.replace(/^-+/, "").replace(/=.*$/, ""), known);
    return new ArgumentError(`unknown option ${flag}${near ? ` (did you mean --${near}?)` : ""}`, {
      cause: e,
    });
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--([a-z0-9-]+)/i.exec(e.message)?.[1];
    const takesValue = name && options[name]?.type === "string";
    return new ArgumentError(
      takesValue ? `option --${name} needs a value` : `option --${name ?? flag} takes no value`,
      { cause: e },
    );
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const arg = /'([^']*)'/.exec(e.message)?.[1] ?? "";
    return new ArgumentError(`unexpected argument "${arg}": this command takes only options`, { cause: e });
  }
  return new ArgumentError(e.message, { cause: e });
}

/**
 * Parse `args` strictly. Unknown flags are an {@linkcode ArgumentError} that
 * suggests the nearest known flag; aliases are replaced by their flags.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCli } from "./cli.ts";
 * const spec = { help: "", options: { hop: { type: "string" } }, aliases: { "audio-hop-size": "hop" } } as const;
 * assert.equal(parseCli(["--audio-hop-size", "0.5"], spec).values.hop, "0.5");
 * assert.throws(() => parseCli(["--hpo", "1"], spec), /unknown option --hpo \(did you mean --hop\?\)/);
 * ```
 */
export function parseCli<O extends CliOptions>(
  args: string[],
  spec: CommandSpec<O>,
): { values: ParsedValues<O>; positionals: string[] } {
  const aliases = spec.aliases ?? {};
  try {
    const options = {
      ...spec.options,
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    } as WithCommon<O>;
    const parsed = parseArgs({
      args: negativeValues(applyAliases(spec.normalize ? spec.normalize(args) : args, aliases), options),
      options,
      allowPositionals: spec.positionals ?? false,
      strict: true,
    });
    return { values: parsed.values as ParsedValues<O>, positionals: parsed.positionals };
  } catch (e) {
    throw explain(e as Error, spec.options, aliases);
  }
}

/**
 * Parse a number flag, naming the flag and the bad value on failure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberFlag } from "./cli.ts";
 * assert.equal(numberFlag("0.5", "hop", 0.1), 0.5);
 * assert.equal(numberFlag(undefined, "hop", 0.1), 0.1);
 * assert.throws(() => numberFlag("fast", "hop", 0.1), /--hop must be a number, got "fast"/);
 * ```
 */
export function numberFlag(value: string | undefined, flag: string, fallback: number): number;
/** Parse an optional number flag (undefined when absent). */
export function numberFlag(value: string | undefined, flag: string): number | undefined;
export function numberFlag(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new ArgumentError(`${flagName(flag)} must be a number, got "${value}"`);
  }
  return n;
}

/** Parse a whole-number flag that must be at least `min`. */
export function integerFlag(value: string | undefined, flag: string, fallback: number, min = 1): number {
  const n = numberFlag(value, flag, fallback);
  if (!Number.isInteger(n) || n < min) {
    throw new ArgumentError(`${flagName(flag)} must be a whole number ≥ ${min}, got "${value ?? n}"`);
  }
  return n;
}

/**
 * Check a flag value against a list of choices.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choiceFlag } from "./cli.ts";
 * assert.equal(choiceFlag("mean", "pool", ["max", "mean"] as const, "max"), "mean");
 * assert.throws(() => choiceFlag("avg", "pool", ["max", "mean"] as const, "max"), /one of max, mean; got "avg"/);
 * ```
 */
export function choiceFlag<T extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) {
    throw new ArgumentError(`${flagName(flag)} must be one of ${choices.join(", ")}; got "${value}"`);
  }
  return value as T;
}

/** The line `--version` prints. */
export function versionLine(): string {
  return `openl3-deno ${TOOL_VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8})`;
}

/** Turn an error into an exit status, printing our errors as one line; anything else is a bug. */
export function reportError(e: unknown): number {
  if (e instanceof ArgumentError) {
    console.error(`error: ${e.message} (see --help)`);
    return 2;
  }
  if (e instanceof OpenL3Error) {
    console.error(`error: ${e.message}`);
    return 1;
  }
  throw e;
}

/** A command: its command line, and what it does with it (a subcommand of the `openl3` binary). */
export interface Command<O extends CliOptions = CliOptions> extends CommandSpec<O> {
  /** Its name as a subcommand, e.g. `embed`. */
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** What it does with its parsed command line; returns the exit status. */
  body: (parsed: Parsed<O>) => Promise<number | void>;
}

/** Declare a command (keeps the types of its options for its body). */
export function defineCommand<O extends CliOptions>(command: Command<O>): Command {
  return command as unknown as Command;
}

/** What a command body receives. */
export interface Parsed<O extends CliOptions> {
  /** The flags' values. */
  values: ParsedValues<O>;
  /** Positional arguments. */
  positionals: string[];
}

/**
 * A command's `--help` as the user runs it: `openl3 <command>` in the compiled binary (`deno task <command>`
 * otherwise), and always a line for `--version`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandHelp } from "./cli.ts";
 * const help = "Usage: deno task compare [options]\n\n  -h, --help        this text";
 * assert.match(commandHelp(help, true), /^Usage: openl3 compare/);
 * assert.match(commandHelp(help, false), /--version .*\n  -h, --help/);
 * ```
 */
export function commandHelp(help: string, standalone = isStandalone()): string {
  let text = standalone ? help.replaceAll("deno task ", "openl3 ") : help;
  if (!text.includes("--version")) {
    text = text.replace(/^( *)-h, --help( +)/m, (line, indent: string, gap: string) => {
      const pad = " ".repeat(Math.max(1, "-h, --help".length + gap.length - "--version".length));
      return `${indent}--version${pad}the tool's and the runtime's versions\n${line}`;
    });
  }
  return text;
}

/**
 * Run a command: parse its command line (answering `--help` and `--version`),
 * call its body, and exit with its status. Our errors print as one line on
 * stderr (exit 1, or 2 for usage errors); anything else is a bug and keeps
 * its stack.
 */
export async function runCommand(command: Command, args: string[] = Deno.args): Promise<never> {
  let code: number;
  try {
    const { values, positionals } = parseCli(args, command);
    const flags = values as Record<string, unknown>;
    if (flags.help) {
      console.log(commandHelp(command.help));
      code = 0;
    } else if (flags.version) {
      console.log(versionLine());
      code = 0;
    } else {
      code = (await command.body({ values, positionals })) ?? 0;
    }
  } catch (e) {
    code = reportError(e);
  }
  Deno.exit(code);
}
