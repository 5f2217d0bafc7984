/**
 * Shared command-line plumbing: `node:util` parseArgs with a help text, and a
 * `main` wrapper that turns our errors into one clear line and an exit code.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { ArgumentError, OpenL3Error } from "./errors.ts";

/** Options of a script: parseArgs' option config. */
export type CliOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parse `args` strictly; unknown flags are an {@linkcode ArgumentError}.
 * `--help`/`-h` is always accepted and reported as `help: true`.
 */
export function parseCli<O extends CliOptions>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    throw new ArgumentError((e as Error).message, { cause: e });
  }
}

/** Parse a number flag, naming the flag and the bad value on failure. */
export function numberFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ArgumentError(`--${flag} must be a number, got "${value}"`);
  return n;
}

/** Check a flag value against a list of choices. */
export function choiceFlag<T extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) {
    throw new ArgumentError(`--${flag} must be one of ${choices.join(", ")}; got "${value}"`);
  }
  return value as T;
}

/**
 * Run a script's `main`: our errors print as one line on stderr (exit 1, or 2
 * for usage errors); anything else is a bug and keeps its stack.
 */
export async function runMain(main: (args: string[]) => Promise<number | void>): Promise<never> {
  try {
    const code = await main(Deno.args);
    Deno.exit(code ?? 0);
  } catch (e) {
    if (e instanceof ArgumentError) {
      console.error(`error: ${e.message} (see --help)`);
      Deno.exit(2);
    }
    if (e instanceof OpenL3Error) {
      console.error(`error: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
