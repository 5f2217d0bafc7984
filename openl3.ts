/**
 * One command for everything, the entry of the `openl3` binary
 * (`deno task compile`): `openl3 <command> [options]`, where each command is
 * the same code as its script (`openl3 embed …` is `deno task embed …`).
 * Only the command asked for is loaded.
 *
 *     openl3 embed <file|folder>... [options]
 *     openl3 --version
 *
 * @module
 */

import { type Command, reportError, runCommand, versionLine } from "./lib/util/cli.ts";
import { ArgumentError } from "./lib/util/errors.ts";
import { nearestFlag } from "./lib/util/cli.ts";

/** The subcommands, each loaded only when it is asked for. */
export const SUBCOMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  "embed": () => import("./embed.ts"),
  "simple-embed": () => import("./simple_embed.ts"),
  "compare": () => import("./compare_embeddings.ts"),
  "similar": () => import("./similar.ts"),
  "playlist": () => import("./playlist.ts"),
  "duplicates": () => import("./duplicates.ts"),
  "create-audio": () => import("./create_test_audio.ts"),
  "mel": () => import("./mel.ts"),
  "parity": () => import("./parity.ts"),
  "fetch-model": () => import("./fetch_model.ts"),
  "make-test-weights": () => import("./make_test_weights.ts"),
  "serve": () => import("./serve.ts"),
};

/** The top-level help: every command with its one-line summary. */
export async function helpText(): Promise<string> {
  const rows = await Promise.all(
    Object.entries(SUBCOMMANDS).map(async ([name, load]) =>
      `  ${name.padEnd(19)}${(await load()).command.summary}`
    ),
  );
  return `OpenL3 audio embeddings for a music collection.

Usage: openl3 <command> [options]      (openl3 <command> --help for its options)

Commands:
${rows.join("\n")}

  --version          the tool's and the runtime's versions
  -h, --help         this text`;
}

/** Run `openl3 <args>`; returns the exit status (commands exit on their own). */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    console.log(await helpText());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    console.log(versionLine());
    return 0;
  }
  const load = SUBCOMMANDS[name];
  if (!load) {
    const near = nearestFlag(name, Object.keys(SUBCOMMANDS));
    return reportError(
      new ArgumentError(
        `unknown command "${name}"${near ? ` (did you mean ${near}?)` : ""}; openl3 --help lists them`,
      ),
    );
  }
  return await runCommand((await load()).command, rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
