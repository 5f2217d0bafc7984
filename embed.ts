/**
 * Not built yet: this script needs the OpenL3 frontend and network (issues 3 and 4) and the store (issue 5).
 * It exists so the task names and the layout are stable; it exits with
 * status 1 and says so instead of pretending to work.
 *
 * @module
 */

import { runMain } from "./lib/cli.ts";
import { OpenL3Error } from "./lib/errors.ts";

/** Always fails with an explanation (see the module doc). */
export function run(): Promise<never> {
  return Promise.reject(
    new OpenL3Error(
      "embed.ts is not implemented yet: it needs the OpenL3 frontend and network (issues 3 and 4) and the store (issue 5). See README, Limitations.",
    ),
  );
}

if (import.meta.main) await runMain(run);
