/**
 * Duplicates in the collection: songs that are the same recording (copies:
 * re-encoded, resampled, mono, louder or quieter, trimmed or padded), told
 * apart from other versions of a song (another take, key or mix), found from
 * the songs' timelines — their own time structure —, with the copy to keep.
 *
 *     deno task duplicates [--db PATH|URL] [--json | --csv]
 *
 * @module
 */

import { DB_PATH } from "./files.ts";
import { type Command, defineCommand, runCommand } from "./lib/util/cli.ts";
import { ArgumentError, OpenL3Error, printable } from "./lib/util/errors.ts";
import { openStore } from "./lib/store/store.ts";
import { TIMELINE_BYTES_PER_MINUTE } from "./lib/frontend/timeline.ts";
import {
  type DuplicateGroup,
  type DuplicateSong,
  duplicateSongs,
  findDuplicates,
  groupJson,
} from "./lib/analysis/duplicates.ts";

/** Options of {@linkcode run}. */
export interface DuplicatesOptions {
  /**
   * SQLite database or `postgres://` URL.
   * @default {"metadata/songs.db"}
   */
  db?: string;
  /** Told progress and notes (stderr by default). */
  onLine?: (line: string) => void;
}

/** The groups, and the songs that could not be compared. */
export interface DuplicatesResult {
  /** Copies of one recording, then versions of one song. */
  groups: DuplicateGroup[];
  /** Songs compared. */
  songs: number;
  /** Stored songs without a timeline (stored before timelines existed: `embed` their folder again). */
  withoutTimeline: number;
  /** Seconds taken. */
  seconds: number;
}

/** Find the duplicates of a database's songs (what the command line does, callable from tests). */
export async function run(options: DuplicatesOptions = {}): Promise<DuplicatesResult> {
  const say = options.onLine ?? ((l: string) => console.error(l));
  const started = performance.now();
  const store = await openStore(options.db ?? DB_PATH, { readOnly: true });
  let songs: DuplicateSong[], without = 0;
  try {
    const summaries = await store.summaries();
    if (summaries.length === 0) {
      throw new OpenL3Error(`${store.label} holds no songs yet: embed some first (deno task embed <folder>)`);
    }
    ({ songs, without } = duplicateSongs(summaries, await store.timelines()));
    if (without) {
      say(
        `note: ${without} of ${summaries.length} songs have no timeline (stored by an older version): ` +
          `deno task embed <their folder> adds them (unchanged files are only read, not embedded again)`,
      );
    }
  } finally {
    await store.close();
  }
  let last = 0;
  const groups = songs.length < 2 ? [] : findDuplicates(songs, {
    onProgress: (f) => {
      const now = performance.now();
      if (now - last < 2000 || f >= 1) return;
      last = now;
      say(`duplicates: ${(f * 100).toFixed(0)}% of ${songs.length} songs compared`);
    },
  });
  return {
    groups,
    songs: songs.length,
    withoutTimeline: without,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A CSV field. */
function csv(v: string | number | undefined): string {
  const s = v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The groups as CSV: one row per song. */
export function groupsCsv(groups: DuplicateGroup[]): string {
  const rows = ["group,kind,best,id,path,format,kbit_per_s,seconds,score,offset_s"];
  groups.forEach((g, i) => {
    for (const s of g.songs) {
      const kbps = s.size && s.duration ? Math.round((s.size * 8) / s.duration / 1000) : undefined;
      rows.push([
        i + 1,
        g.kind,
        s.id === g.best ? "yes" : "",
        csv(s.id),
        csv(s.path),
        s.format ?? "",
        kbps,
        s.duration.toFixed(1),
        s.match.score.toFixed(3),
        s.match.offset.toFixed(2),
      ].join(","));
    }
  });
  return rows.join("\n") + "\n";
}

/** The groups as lines of text. */
export function groupsText(r: DuplicatesResult): string[] {
  const lines: string[] = [];
  const copies = r.groups.filter((g) => g.kind === "copies"),
    versions = r.groups.filter((g) => g.kind === "versions");
  lines.push(
    `${r.songs} songs compared: ${copies.length} recordings with copies ` +
      `(${
        copies.reduce((n, g) => n + g.songs.length - 1, 0)
      } copies to spare), ${versions.length} songs with ` +
      `other versions (${r.seconds.toFixed(1)} s)`,
  );
  for (const g of r.groups) {
    lines.push("");
    lines.push(
      g.kind === "copies"
        ? `copies of one recording — keep ${printable(g.best)}: ${g.why}`
        : `versions of one song (different recordings: each is kept)`,
    );
    for (const s of g.songs) {
      const mark = g.kind === "copies" ? (s.id === g.best ? "keep " : "copy ") : "     ";
      const m = s.id === g.best && g.kind === "copies"
        ? ""
        : `  (agreement ${s.match.score.toFixed(3)}, offset ${s.match.offset.toFixed(2)} s)`;
      lines.push(`  ${mark}${printable(s.path)} [${s.format ?? "?"}, ${s.duration.toFixed(1)} s]${m}`);
    }
  }
  return lines;
}

const HELP = `Find the songs that are the same recording (copies: re-encoded at any format, bitrate or
rate, mono or stereo, louder or quieter, trimmed or padded), told apart from other versions of a
song (another take: faster, another key, another mix), with the copy to keep.

Usage: deno task duplicates [options]

  --db PATH|URL   SQLite database (default: ${DB_PATH}), or postgres://user:pw@host:port/db
  --json          {"groups": [{"kind": "copies" | "versions", "best": id, "why", "songs": [...]}]}
  --csv           one row per song of a group
  --version       the tool's and the runtime's versions
  -h, --help      this text

Songs are compared by their timelines, which embed stores (the loudness of 32 bands every quarter
second: ${TIMELINE_BYTES_PER_MINUTE} bytes per minute of audio). Songs stored before timelines
existed get theirs on the next embed of their folder (unchanged files are read, not embedded again).
The best copy: lossless over lossy, then the higher bitrate, then the longer. Playlists never hold
two copies of one recording.`;

/** The `duplicates` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "duplicates",
  summary: "copies of one recording (and other versions of a song) in the collection",
  help: HELP,
  options: {
    db: { type: "string" },
    json: { type: "boolean" },
    csv: { type: "boolean" },
  },
  body: async ({ values }) => {
    if (values.json && values.csv) throw new ArgumentError("--json or --csv, not both");
    const r = await run({ db: values.db });
    if (values.json) {
      console.log(JSON.stringify({
        songs: r.songs,
        withoutTimeline: r.withoutTimeline,
        groups: r.groups.map(groupJson),
      }));
    } else if (values.csv) {
      await Deno.stdout.write(new TextEncoder().encode(groupsCsv(r.groups)));
    } else for (const line of groupsText(r)) console.log(line);
  },
});

if (import.meta.main) await runCommand(command);
