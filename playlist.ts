/**
 * Playlists from the collection: a radio from one or several seeds, or a
 * path from one song to another (through waypoints), kept as an M3U8, shown
 * as JSON, or queued in MPD — where it can follow the listener.
 *
 *     deno task playlist SEED [SEED…] [-n 20 | --minutes M] [-o radio.m3u8]
 *     deno task playlist A --to B [--via C]… [-n 12] [-o path.m3u8]
 *     deno task playlist [SEED] --mpd [HOST:PORT] --mpd-root DIR [--follow] [--ahead 3]
 *
 * @module
 */

import { DB_PATH } from "./files.ts";
import { type Command, defineCommand, integerFlag, numberFlag, runCommand } from "./lib/util/cli.ts";
import { ArgumentError, printable } from "./lib/util/errors.ts";
import { writeM3u } from "./lib/util/m3u.ts";
import { runtimeOf, type RuntimeOptions } from "./lib/pipeline/embed_options.ts";
import { modelFlags, modelFlagsHelp, modelOptions, RUNTIME_FLAGS } from "./lib/pipeline/model_flags.ts";
import { Catalog } from "./lib/playlist/catalog.ts";
import {
  checkRequest,
  DEFAULT_COUNT,
  formatPlaylist,
  makePlaylist,
  type Playlist,
  type PlaylistRequest,
} from "./lib/playlist/make_playlist.ts";
import type { EmbedFile } from "./lib/playlist/seeds.ts";
import { currentSeed, followMpd, MpdLibrary, queuePlaylist } from "./lib/playlist/mpd_queue.ts";
import { MpdClient, parseHostPort } from "./lib/player/mpd_client.ts";
import { DEFAULT_DRIFT } from "./lib/analysis/radio.ts";

/** MPD's address when `--mpd` is given without one. */
export const DEFAULT_MPD = "127.0.0.1:6600";

/** Options of {@linkcode run}. */
export interface PlaylistOptions extends PlaylistRequest, RuntimeOptions {
  /**
   * SQLite database or `postgres://` URL.
   * @default {"metadata/songs.db"}
   */
  db?: string;
  /** Write the playlist here (M3U8). */
  output?: string;
  /** Absolute paths in the M3U8 (default: relative to its folder). */
  absolute?: boolean;
  /** MPD to queue the playlist in (`HOST:PORT`). */
  mpd?: string;
  /** Where MPD's `music_directory` is on this machine. */
  mpdRoot?: string;
  /** MPD's password. */
  mpdPassword?: string;
  /** Stay connected, appending the next songs as MPD plays. */
  follow?: boolean;
  /**
   * Songs to keep queued after the one playing (with `follow`).
   * @default {3}
   */
  ahead?: number;
  /** Told progress and notes (stderr by default). */
  onLine?: (line: string) => void;
  /** Stops following. */
  signal?: AbortSignal;
}

/** What a run made and did. */
export interface PlaylistResult {
  /** The playlist (the first one, when following MPD). */
  playlist: Playlist;
  /** Songs queued in MPD, and those it did not know. */
  queued?: { added: number; unknown: number };
}

/** Embed audio-file seeds the way the stored songs were (the model loaded on first use). */
function fileEmbedder(catalog: Catalog, options: PlaylistOptions, say: (l: string) => void): EmbedFile {
  return async (path) => {
    say(`embedding ${printable(path)} the way the stored songs were (it is not stored)…`);
    const { embedderLikeStored, querySong } = await import("./lib/pipeline/query_file.ts");
    const embedder = await embedderLikeStored(
      { ...runtimeOf(options), verbose: false },
      catalog.config,
      catalog.store.label,
    );
    try {
      const song = await querySong(embedder, path, catalog.config);
      return { vector: song.vector!, timeline: song.timeline, duration: song.duration };
    } finally {
      await embedder.close();
    }
  };
}

/** Make a playlist and write, print or queue it (what the command line does, callable from tests). */
export async function run(options: PlaylistOptions): Promise<PlaylistResult> {
  const say = options.onLine ?? ((l: string) => console.error(l));
  const usesMpd = options.mpd !== undefined;
  if ((options.follow || options.mpdRoot !== undefined) && !usesMpd) {
    throw new ArgumentError("--follow and --mpd-root go with --mpd");
  }
  if (usesMpd && options.mpdRoot === undefined) {
    throw new ArgumentError("--mpd needs --mpd-root DIR: where MPD's music_directory is on this machine");
  }
  const ahead = options.ahead ?? 3;
  if (!Number.isInteger(ahead) || ahead < 1 || ahead > 1000) {
    throw new ArgumentError(`--ahead must be a whole number from 1 to 1000, got ${ahead}`);
  }
  if (options.to !== undefined && options.follow) {
    throw new ArgumentError("--follow makes a radio, not a path");
  }
  if (options.seeds.length || !usesMpd) checkRequest(options);
  const where = usesMpd ? parseHostPort(options.mpd!) : undefined;
  if (
    options.mpdRoot !== undefined &&
    !(await Deno.stat(options.mpdRoot).then((s) => s.isDirectory, () => false))
  ) {
    throw new ArgumentError(`--mpd-root ${printable(options.mpdRoot)}: no such folder`);
  }
  const catalog = await Catalog.open(options.db ?? DB_PATH, { onRejected: say });
  let mpd: MpdClient | undefined;
  try {
    const embed = fileEmbedder(catalog, options, say);
    const library = usesMpd ? new MpdLibrary(options.mpdRoot!) : undefined;
    if (usesMpd) {
      mpd = await MpdClient.connect(where!.hostname, where!.port, { password: options.mpdPassword });
    }
    // no seed: MPD's song is the seed, and the list follows it in the queue
    const fromMpd = usesMpd && options.seeds.length === 0;
    const request: PlaylistRequest = fromMpd
      ? { ...options, seeds: [await currentSeed(mpd!, catalog, library!)] }
      : options;
    if (fromMpd) checkRequest(request);
    const playlist = await makePlaylist(catalog, request, embed);
    for (const n of playlist.notes) say(`note: ${n}`);
    if (!playlist.complete) say(`note: ${playlist.shortfall}`);
    if (options.output) {
      await writeM3u(
        options.output,
        playlist.songs.map((s) => ({
          path: s.path,
          duration: s.duration,
          title: s.artist ? `${s.artist} - ${s.title}` : s.title,
        })),
        options.absolute,
      );
      say(`wrote ${playlist.songs.length} songs to ${printable(options.output)}`);
    }
    let queued: PlaylistResult["queued"];
    if (mpd) {
      queued = await queuePlaylist(mpd, library!, playlist, fromMpd);
      say(
        `queued ${queued.added} songs in ${mpd.label}` +
          (queued.unknown ? ` (${queued.unknown} not known to MPD: skipped)` : ""),
      );
      if (options.follow) {
        say(`following ${mpd.label}: ${ahead} songs kept ahead (Ctrl-C stops)`);
        const more = await followMpd(mpd, catalog, library!, embed, {
          ahead,
          request: { drift: options.drift, maxPerArtist: options.maxPerArtist, exclude: options.exclude },
          onLine: say,
          signal: options.signal ?? new AbortController().signal,
        });
        queued = { added: queued.added + more.added, unknown: queued.unknown + more.unknown };
      }
    }
    return { playlist, queued };
  } finally {
    mpd?.close();
    await catalog.close();
  }
}

const HELP = `Make a playlist from the collection: a radio from seeds, or a path from one song to another.

Usage: deno task playlist SEED [SEED…] [options]            a radio
       deno task playlist A --to B [--via C]… [options]      a path
       deno task playlist --mpd [HOST:PORT] --mpd-root DIR    a radio after the song MPD plays

A seed is a stored song's id or its file's path, or an audio file that is not stored (embedded the
way the stored songs were). -n counts every song of the list: a radio starts with its first seed, a
path starts with A and ends with B.

  -n N                songs in the list (default: ${DEFAULT_COUNT})
  --minutes M         a radio of M minutes instead
  --drift D           radio: 0 stays nearest the seeds, 1 follows each song to the next (default: ${DEFAULT_DRIFT})
  --to B              a path to B (along the great circle between the songs)
  --via C             a waypoint of the path (repeatable, in order)
  --max-per-artist K  at most K songs per artist (the artist tag, else the folder)
  --exclude FILE      never a song listed in this M3U8 (repeatable): already played
  -o, --output FILE   write the playlist as M3U8 (written whole, then renamed into place)
  --absolute          absolute paths in the M3U8 (default: relative to its folder)
  --json              the playlist as JSON on stdout
  --db PATH|URL       SQLite database (default: ${DB_PATH}), or postgres://user:pw@host:port/db

Every list keeps its rules: never a song twice, never the same artist twice in a row, never a copy
of a recording already in it (deno task duplicates finds them), never an excluded song.

MPD (the password comes from MPD_PASSWORD)
  --mpd [HOST:PORT]   queue the list in MPD (default: 127.0.0.1:6600); without a seed, the song
                      MPD plays is the seed and the list follows it
  --mpd-root DIR      where MPD's music_directory is on this machine (MPD's paths are under it)
  --follow            stay connected: when fewer than --ahead songs remain after the one playing,
                      append the next ones (a radio from the song playing), until Ctrl-C
  --ahead N           songs kept queued after the one playing (default: 3)

Embedding an audio-file seed (its variant, hop and pooling are the stored songs')
${modelFlagsHelp(RUNTIME_FLAGS, { column: 22, fromDatabase: true })}

  --version           the tool's and the runtime's versions
  -h, --help          this text

Prints the list (rank, step: the cosine to the song before, artist – title, duration, file) unless
--json. Exit status: 0 a full list, 1 a list the rules could not fill (it says how far it got and
why) or an error, 2 a bad command line.`;

/** The `playlist` command: its command line and what it does with it. */
export const command: Command = defineCommand({
  name: "playlist",
  summary: "a radio or a path through the collection: M3U8, JSON, or queued in MPD",
  help: HELP,
  options: {
    n: { type: "string", short: "n" },
    minutes: { type: "string" },
    drift: { type: "string" },
    to: { type: "string" },
    via: { type: "string", multiple: true },
    "max-per-artist": { type: "string" },
    exclude: { type: "string", multiple: true },
    output: { type: "string", short: "o" },
    absolute: { type: "boolean" },
    json: { type: "boolean" },
    db: { type: "string" },
    mpd: { type: "string" },
    "mpd-root": { type: "string" },
    follow: { type: "boolean" },
    ahead: { type: "string" },
    ...modelFlags(RUNTIME_FLAGS),
  },
  positionals: true,
  // `--mpd` alone is MPD's default address: a value is taken only when it looks like HOST[:PORT]
  normalize: (args) =>
    args.flatMap((a, i) =>
      a === "--mpd" && !/^(\[[0-9a-f:.]+\]|[a-z0-9][a-z0-9.-]*)(:\d+)?$/i.test(args[i + 1] ?? "")
        ? [`--mpd=${DEFAULT_MPD}`]
        : [a]
    ),
  body: async ({ values, positionals }) => {
    const controller = new AbortController();
    Deno.addSignalListener("SIGINT", () => controller.abort());
    const { playlist, queued } = await run({
      ...modelOptions(values),
      seeds: positionals,
      to: values.to,
      via: values.via,
      count: values.n === undefined ? undefined : integerFlag(values.n, "n", DEFAULT_COUNT, 2),
      minutes: numberFlag(values.minutes, "minutes"),
      drift: numberFlag(values.drift, "drift"),
      maxPerArtist: values["max-per-artist"] === undefined
        ? undefined
        : integerFlag(values["max-per-artist"], "max-per-artist", 1),
      exclude: values.exclude,
      output: values.output,
      absolute: values.absolute,
      db: values.db,
      mpd: values.mpd,
      mpdRoot: values["mpd-root"],
      mpdPassword: Deno.env.get("MPD_PASSWORD"),
      follow: values.follow,
      ahead: values.ahead === undefined ? undefined : integerFlag(values.ahead, "ahead", 3),
      signal: controller.signal,
    });
    if (values.json) {
      const { mode, complete, shortfall, notes, steps, songs } = playlist;
      console.log(JSON.stringify({ mode, complete, shortfall, notes, steps, queued, songs }));
    } else for (const line of formatPlaylist(playlist)) console.log(line);
    return playlist.complete ? 0 : 1;
  },
});

if (import.meta.main) await runCommand(command);
