/**
 * Where weights come from, as far as the tool can tell: the published files
 * (their git blob id checked), the seeded random test weights (marked in the
 * file), or anything else. Recorded with every stored vector so reports and
 * maps can say "untrained" where it is so.
 *
 * @module
 */

/** Where weights come from. */
export type WeightsProvenance = "official" | "untrained" | "custom";
/** The provenances. */
export const PROVENANCES: readonly WeightsProvenance[] = ["official", "untrained", "custom"];

/** One phrase for each provenance, for reports and maps. */
export const PROVENANCE_LABELS: Record<WeightsProvenance, string> = {
  official: "official OpenL3 weights",
  untrained: "UNTRAINED test weights",
  custom: "custom weights",
};

/**
 * A stored or recorded provenance, anything unknown being `custom`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { provenanceOf } from "./provenance.ts";
 * assert.equal(provenanceOf("untrained"), "untrained");
 * assert.equal(provenanceOf(undefined), "custom");
 * ```
 */
export function provenanceOf(value: string | undefined): WeightsProvenance {
  return (PROVENANCES as readonly string[]).includes(value ?? "") ? value as WeightsProvenance : "custom";
}
