/**
 * The rules every playlist keeps, whatever made it (a radio, a path): at most
 * K songs per artist, never the same artist twice in a row, never two copies
 * of one recording (duplicate groups), never a song the listener excluded
 * (already played), never a song twice. A song without an artist tag counts
 * as its folder's artist (the report says how many did).
 *
 * @module
 */

/** What the rules know of each song (one entry per row of the vector index). */
export interface SongFacts {
  /** The artist a rule counts: the tag, else the folder. */
  artist: string;
  /** The artist came from the folder (no artist tag). */
  artistFromFolder: boolean;
  /** Seconds (0 when unknown). */
  duration: number;
}

/** Options of {@linkcode PlaylistRules}. */
export interface RuleOptions {
  /**
   * Songs per artist at most (Infinity: no cap).
   * @default {Infinity}
   */
  maxPerArtist?: number;
  /**
   * Two songs of one artist may follow each other.
   * @default {false}
   */
  allowSameArtistInARow?: boolean;
  /** Rows never to take (an `--exclude` list). */
  excluded?: Iterable<number>;
  /** Duplicate group of each row (rows of one group are copies of one recording); -1 or absent: none. */
  groupOf?: (row: number) => number;
  /** Whether `row` is a copy of a recording among `taken` (found as it is asked, when groups are not known). */
  duplicateOf?: (row: number, taken: readonly number[]) => boolean;
}

/** Why a row was refused, counted for the report of a list the rules could not fill. */
export type Refusal = "used" | "excluded" | "duplicate" | "artist cap" | "same artist in a row";

/**
 * The state of a playlist under the rules: what it holds, and whether a song may come next.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PlaylistRules } from "./playlist_rules.ts";
 * const facts = ["A", "A", "B", "A"].map((artist) => ({ artist, artistFromFolder: false, duration: 60 }));
 * const rules = new PlaylistRules(facts, { maxPerArtist: 2, groupOf: (r) => (r === 3 ? 0 : r === 2 ? 0 : -1) });
 * rules.take(0);
 * assert.equal(rules.refusal(1), "same artist in a row");
 * rules.take(2);
 * assert.equal(rules.refusal(3), "duplicate"); // a copy of row 2
 * assert.equal(rules.refusal(1), null);
 * ```
 */
export class PlaylistRules {
  /** The songs' facts, by row. */
  readonly facts: readonly SongFacts[];
  /** The options. */
  readonly options: RuleOptions;
  readonly #used = new Set<number>();
  readonly #excluded: Set<number>;
  readonly #perArtist = new Map<string, number>();
  readonly #groups = new Set<number>();
  #last: string | null = null;
  /** The rows refused, by reason (what stopped a list, when it stops short). */
  readonly refused: Map<Refusal, Set<number>> = new Map();

  /** Rules over `facts` (one per row). */
  constructor(facts: readonly SongFacts[], options: RuleOptions = {}) {
    this.facts = facts;
    this.options = options;
    this.#excluded = new Set(options.excluded ?? []);
  }

  /** Rows taken, in order. */
  readonly taken: number[] = [];

  /** Why `row` may not come next, or null when it may. */
  refusal(row: number): Refusal | null {
    if (this.#used.has(row)) return "used";
    if (this.#excluded.has(row)) return "excluded";
    const group = this.options.groupOf?.(row) ?? -1;
    if (group >= 0 && this.#groups.has(group)) return "duplicate";
    const artist = this.facts[row].artist;
    if ((this.#perArtist.get(artist) ?? 0) >= (this.options.maxPerArtist ?? Infinity)) return "artist cap";
    if (!this.options.allowSameArtistInARow && this.#last !== null && artist === this.#last) {
      return "same artist in a row";
    }
    // last: the costliest check, for a song every other rule lets in
    if (this.options.duplicateOf?.(row, this.taken)) return "duplicate";
    return null;
  }

  /** Whether `row` may come next; a refusal is counted. */
  allows(row: number): boolean {
    const why = this.refusal(row);
    if (why) {
      if (!this.refused.has(why)) this.refused.set(why, new Set());
      this.refused.get(why)!.add(row);
    }
    return why === null;
  }

  /** Add `row` to the list (the caller checked it, or forces it: a seed, an endpoint). */
  take(row: number): void {
    this.#used.add(row);
    this.taken.push(row);
    const artist = this.facts[row].artist;
    this.#perArtist.set(artist, (this.#perArtist.get(artist) ?? 0) + 1);
    const group = this.options.groupOf?.(row) ?? -1;
    if (group >= 0) this.#groups.add(group);
    this.#last = artist;
  }

  /** Whether `row` is in the list. */
  has(row: number): boolean {
    return this.#used.has(row);
  }

  /** Seconds of the list so far. */
  get seconds(): number {
    return this.taken.reduce((s, r) => s + this.facts[r].duration, 0);
  }

  /** The refusals that stopped a list, in words ("12 songs by the artist cap, 2 duplicates"). */
  describeRefusals(): string {
    const order: Refusal[] = ["artist cap", "same artist in a row", "duplicate", "excluded"];
    const parts = order.filter((r) => this.refused.get(r)?.size).map((r) => {
      const n = this.refused.get(r)!.size;
      return r === "duplicate"
        ? `${n} duplicate${n === 1 ? "" : "s"}`
        : `${n} song${n === 1 ? "" : "s"} by the ${r} rule`;
    });
    return parts.length ? parts.join(", ") : "none: no other song was left";
  }
}
