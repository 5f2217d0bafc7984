/**
 * What the explorer serves, kept current with its database: the songs with
 * their tags, the vector index (the ranking of `similar`), the map, and the
 * embedding of uploaded files the way the stored songs were made.
 *
 * @module
 */

import { basename, dirname, extname, join, resolve, sep as SEPARATOR } from "node:path";
import { detectFormat } from "../audio/audio_stream.ts";
import { ArgumentError, OpenL3Error, printable } from "../util/errors.ts";
import { Catalog } from "../playlist/catalog.ts";
import { TOOL_VERSION } from "../util/version.ts";
import type { FileEmbedding } from "../pipeline/embed_song.ts";
import type { Embedder } from "../pipeline/embedder.ts";
import {
  checkRequest,
  makePlaylist,
  type Playlist,
  type PlaylistRequest,
} from "../playlist/make_playlist.ts";
import { type DuplicateGroup, duplicateSongs, findDuplicates } from "../analysis/duplicates.ts";
import { sha256 } from "../util/hash.ts";
import {
  describeStore,
  openStore,
  redactUrl,
  type SongStore,
  type SongSummary,
  type StoredConfig,
} from "../store/store.ts";
import { type Hit, loadIndex, type VectorIndex } from "../analysis/vector_index.ts";
import {
  type CollectionMap,
  loadMap,
  type MappedIndex,
  placeAmong,
  PLACEMENT_NEIGHBOURS,
} from "../analysis/collection_map.ts";
import { ANN_THRESHOLD, QuantizedIndex } from "../analysis/ann_index.ts";
import { computeMapInThread } from "../analysis/map_thread.ts";
import type { RuntimeOptions } from "../pipeline/embed_options.ts";
import { singleConfig } from "../pipeline/stored_config.ts";
import { writeFileAtomic } from "../util/atomic_file.ts";

/** A song as the page lists it. */
export interface SongInfo {
  /** Stored id. */
  id: string;
  /** Title tag, else the file name without extension. */
  title: string;
  /** Artist tag. */
  artist?: string;
  /** Album tag. */
  album?: string;
  /** Genre tag. */
  genre?: string;
  /** Seconds. */
  duration?: number;
  /** The file's path. */
  path?: string;
}

/** Options of {@linkcode Explorer.open}. */
export interface ExplorerOptions {
  /** Model options for uploads (weights, backend, device); the rest comes from the stored configuration. */
  model?: RuntimeOptions;
  /**
   * Keep uploaded songs: copied to `<db folder>/uploads/` and stored.
   * @default {false}
   */
  store?: boolean;
  /**
   * Longest upload, in seconds of audio.
   * @default {1200}
   */
  maxUploadSeconds?: number;
  /**
   * Named roots: where this machine mounts each root of a PostgreSQL run, to find the songs' files; for
   * SQLite, folders added to those the database recorded. Audio is served only from inside the roots.
   */
  roots?: Map<string, string>;
  /** Told each refused audio request whose stored path lies outside the roots (default: stderr). */
  onRefused?: (line: string) => void;
  /**
   * Songs from which neighbours come from the int8 scan, re-ranked exactly.
   * @default {50000}
   */
  annThreshold?: number;
  /** Progress of the map (stderr by default in `serve`). */
  onMapProgress?: (stage: string, fraction: number) => void;
}

/** An upload's result. */
export interface UploadResult {
  /** Its nearest stored songs (cosine, as `similar`). */
  neighbours: (Hit & SongInfo)[];
  /** Where it sits on the map. */
  position: [number, number];
  /** How the position was chosen. */
  placement: string;
  /** Its id when it was stored. */
  storedId?: string;
}

/** How the stored songs were embedded, for a page that embeds a file the same way. */
export interface InPageConfig {
  /** The spectrogram. */
  inputRepr: string;
  /** Embedding length. */
  embeddingSize: number;
  /** Seconds between windows. */
  hopSize: number;
  /** Centred windows. */
  center: boolean;
  /** Song-level pooling of the frames. */
  pooling: string;
  /** SHA-256 of the weights. */
  weightsHash: string;
  /** `official`, `untrained` or `custom`. */
  provenance: string;
}

/** The first `n` bytes of a file (fewer when it is shorter). */
async function readHead(path: string, n: number): Promise<Uint8Array> {
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(n);
    let at = 0;
    for (let got; at < n && (got = await f.read(buf.subarray(at))) !== null;) at += got;
    return buf.subarray(0, at);
  } finally {
    f.close();
  }
}

/** The explorer's state for one database. */
export class Explorer {
  /** The database. */
  readonly db: string;
  /** Its options. */
  readonly options: ExplorerOptions;
  #index!: VectorIndex;
  #map!: CollectionMap;
  #songs: SongInfo[] = [];
  #paths = new Map<string, string>();
  #allowed: string[] = [];
  #warnedRoots = false;
  #identity: string | null = null;
  #config: StoredConfig | undefined;
  #embedder: Promise<import("../pipeline/embedder.ts").Embedder> | null = null;
  #reader: SongStore | undefined;
  #ann: QuantizedIndex | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #revision = 0;
  #summaries: SongSummary[] = [];
  #catalog: { revision: number; catalog: Catalog } | null = null;
  #duplicates: { revision: number; groups: Promise<DuplicateGroup[]> } | null = null;

  private constructor(db: string, options: ExplorerOptions) {
    this.db = db;
    this.options = options;
  }

  /** Open a database (a SQLite file that exists, or a `postgres://` URL) and compute or load its map. */
  static async open(db: string, options: ExplorerOptions = {}): Promise<Explorer> {
    if (options.store && !describeStore(db).traits.localWrites) {
      throw new OpenL3Error(
        "--store does not write to PostgreSQL: add files with embed --db postgres://… --root …",
      );
    }
    const e = new Explorer(db, options);
    e.#reader = await openStore(db, { readOnly: true });
    try {
      await e.refresh();
    } catch (err) {
      await e.#reader.close();
      throw err;
    }
    return e;
  }

  /** Counts the reloads: the songs, the map and the configuration are the same while it is. */
  get revision(): number {
    return this.#revision;
  }

  /** How the stored songs were embedded (their one configuration), or undefined for an empty database. */
  get config(): StoredConfig | undefined {
    return this.#config;
  }

  /** Reload when the database's vectors changed (cheap when they did not). */
  refresh(): Promise<void> {
    // one reload at a time; callers during it wait for it (and then look again)
    const run = this.#refreshing.then(() => this.#reload());
    this.#refreshing = run.catch(() => {});
    return run;
  }

  #refreshing: Promise<void> = Promise.resolve();

  /**
   * Read what changed into locals and put it in place at once, after the last await: a request answered
   * meanwhile sees the previous songs, index and map together, never new songs with the old map.
   */
  async #reload(): Promise<void> {
    const reader = this.#reader!;
    const identity = await reader.identity();
    const key = identity ? `${identity.databaseId}:${identity.version}:${identity.rows}` : null;
    if (key !== null && key === this.#identity) return;
    const config = singleConfig(await reader.storedConfigs(), reader.label);
    const summaries = new Map((await reader.summaries()).map((s) => [s.songId, s]));
    // the map in use, kept (new songs placed by their neighbours) unless too much changed
    const ann = this.#ann;
    const previous: MappedIndex | undefined = this.#index && this.#map
      ? { index: this.#index, map: this.#map }
      : undefined;
    // the index cached beside the database (or in this user's cache folder for a server)
    const { index } = await loadIndex(reader);
    const paths = new Map<string, string>();
    const roots = this.options.roots ?? new Map<string, string>();
    // audio only from inside the collection: the folders the database recorded and the given roots, as
    // real paths (every link resolved)
    const allowed = await Promise.all(
      [...(await reader.roots()), ...roots.values()].map((r) => Deno.realPath(r).catch(() => null)),
    );
    const allowedRoots = allowed.filter((r) => r !== null);
    if (allowedRoots.length === 0 && summaries.size > 0 && !this.#warnedRoots) {
      this.#warnedRoots = true;
      (this.options.onRefused ?? ((l: string) => console.error(l)))(
        reader.traits.namedRoots
          ? `note: no --root NAME=PATH given: the songs of ${reader.label} are listed, not played`
          : `note: ${reader.label} records no collection folders (written by an older version): its songs ` +
            `are not played until \`deno task embed <folder>\` runs once more (it records the folder; unchanged ` +
            `songs are skipped) or serve gets --root music=<folder>`,
      );
    }
    const songs: SongInfo[] = index.ids.map((id) => {
      const s = summaries.get(id);
      if (s) {
        // a song under a named root is played only through this machine's mount of that root
        const local = s.root === undefined || s.relPath === undefined
          ? s.path
          : roots.has(s.root)
          ? join(roots.get(s.root)!, ...s.relPath.split("/"))
          : undefined;
        if (local) paths.set(id, local);
      }
      const tag = (name: string) => s?.tags?.[name] || undefined;
      return {
        id,
        title: tag("title") ?? basename(s?.path ?? id).replace(/\.[^.]+$/, ""),
        artist: tag("artist"),
        album: tag("album"),
        genre: tag("genre"),
        duration: s?.duration,
        path: paths.get(id),
      };
    });
    const cacheBase = await reader.cacheBase();
    const { map } = await loadMap(cacheBase ?? "", index, cacheBase === null ? null : identity, {
      onProgress: this.options.onMapProgress,
      previous,
      nearest: ann ? (v, k) => ann.search(v, k) : undefined,
      compute: computeMapInThread, // the server answers while the map is made
    });
    const quantized = index.ids.length >= (this.options.annThreshold ?? ANN_THRESHOLD)
      ? await QuantizedIndex.build(index)
      : null;
    // everything at once (no await from here on)
    this.#config = config;
    this.#index = index;
    this.#identity = key;
    this.#paths = paths;
    this.#allowed = allowedRoots;
    this.#songs = songs;
    this.#map = map;
    this.#ann = quantized;
    this.#summaries = [...summaries.values()];
    this.#revision++;
  }

  /** How neighbours are found: exact search, or the int8 SIMD scan re-ranked exactly (large collections). */
  get neighbourSearch(): "exact" | "simd-scan" {
    return this.#ann ? "simd-scan" : "exact";
  }

  /** The songs, in map order. */
  get songs(): readonly SongInfo[] {
    return this.#songs;
  }

  /** The map, in the order of {@linkcode songs}. */
  get map(): CollectionMap {
    return this.#map;
  }

  /** The `k` nearest stored songs to a stored one (cosine; the ranking of `similar`), or null for an unknown id. */
  similar(id: string, k: number): (Hit & SongInfo)[] | null {
    const row = this.#index.row(id);
    if (row < 0) return null;
    return this.#withInfo(this.#search(this.#index.vector(row), k, id));
  }

  /** Cosine ranking: exact, or from the int8 scan (re-ranked exactly) above the threshold. */
  #search(v: ArrayLike<number>, k: number, exclude?: string): Hit[] {
    return this.#ann ? this.#ann.search(v, k, exclude) : this.#index.search(v, k, "cosine", exclude);
  }

  #withInfo(hits: Hit[]): (Hit & SongInfo)[] {
    return hits.map((h) => ({ ...this.#songs[this.#index.row(h.id)], ...h }));
  }

  /**
   * The file of a stored song, or null: only a regular file whose real path (every link resolved) lies
   * inside one of the collection's roots; a stored path or `rel_path` that leads elsewhere is refused and
   * logged, whatever the database row says.
   */
  async audioPath(id: string): Promise<string | null> {
    const path = this.#paths.get(id);
    if (!path) return null;
    let real: string;
    try {
      real = await Deno.realPath(path);
    } catch {
      return null;
    }
    if (
      !this.#allowed.some((r) => real === r || real.startsWith(r.endsWith(SEPARATOR) ? r : r + SEPARATOR))
    ) {
      (this.options.onRefused ?? ((l: string) => console.error(l)))(
        `serve: refused the audio of ${JSON.stringify(id)}: ${
          JSON.stringify(real)
        } is outside the collection's folders`,
      );
      return null;
    }
    try {
      return (await Deno.stat(real)).isFile ? real : null;
    } catch {
      return null;
    }
  }

  /**
   * Embed an uploaded file (already on disk) as the stored songs were, rank its neighbours and place it on
   * the map (the mean position of its nearest stored songs); store it with `store`. One at a time.
   */
  embedUpload(
    file: string,
    originalName: string,
    onStage?: (stage: string) => void,
    signal?: AbortSignal,
  ): Promise<UploadResult> {
    const run = this.#queue.then(() => this.#embedUpload(file, originalName, onStage, signal));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Uploads given up because their client went away (before or while they were embedded). */
  get uploadsAbandoned(): number {
    return this.#abandoned;
  }

  #abandoned = 0;

  async #embedUpload(
    file: string,
    originalName: string,
    onStage?: (stage: string) => void,
    signal?: AbortSignal,
  ): Promise<UploadResult> {
    if (signal?.aborted) {
      this.#abandoned++;
      throw new OpenL3Error("the client went away: not embedded");
    }
    if (this.#index.ids.length === 0) {
      throw new OpenL3Error(`${redactUrl(this.db)} holds no songs to compare with`);
    }
    const cfg = this.#config;
    // the format first: a text file is refused before any model is loaded
    const head = await readHead(file, 1 << 16);
    if (detectFormat(head) === null) {
      throw new OpenL3Error(
        `not an audio file this tool reads (MP3, WAV, FLAC, Ogg Vorbis, Opus, M4A/AAC; it starts ` +
          `${Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ") || "empty"})`,
      );
    }
    onStage?.("loading the model");
    const { embedderLikeStored, querySong } = await import("../pipeline/query_file.ts");
    // the network in a thread of its own: the API keeps answering while an upload is embedded
    this.#embedder ??= embedderLikeStored(
      { ...this.options.model, verbose: false, networkThread: true },
      cfg,
      redactUrl(this.db),
    );
    let embedder;
    try {
      embedder = await this.#embedder;
    } catch (e) {
      this.#embedder = null;
      throw e;
    }
    onStage?.("embedding");
    let song: FileEmbedding;
    try {
      song = await querySong(embedder, file, cfg, this.options.maxUploadSeconds ?? 1200, signal);
    } catch (e) {
      if (signal?.aborted) this.#abandoned++;
      throw e;
    }
    const placed = this.place(song.vector!);
    if (this.options.store) {
      onStage?.("storing");
      placed.storedId = await this.#store(file, originalName, song, embedder);
    }
    return placed;
  }

  /**
   * Rank a song vector computed elsewhere (a page that embedded a dropped file itself) against the stored
   * songs and place it on the map, as an upload is.
   *
   * @throws {OpenL3Error} for a vector of another length, one with a value that is not a finite number,
   *   or all zeros (it has no direction to compare).
   */
  place(vector: ArrayLike<number>): UploadResult {
    const dim = this.#index.dim;
    if (this.#index.ids.length === 0) {
      throw new OpenL3Error(`${redactUrl(this.db)} holds no songs to compare with`);
    }
    if (vector.length !== dim) {
      throw new OpenL3Error(`a vector of ${vector.length} values: the stored songs have ${dim}`);
    }
    let top = 0;
    for (let i = 0; i < vector.length; i++) {
      const v = vector[i];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new OpenL3Error(`value ${i} of the vector is ${JSON.stringify(v)}, not a finite number`);
      }
      top = Math.max(top, Math.abs(v));
    }
    if (top === 0) throw new OpenL3Error("the vector is all zeros: it cannot be compared");
    // scaled by its largest value first: a vector of huge finite values has a norm that overflows (1e308 ×
    // 512), and one of tiny values a norm that underflows; only its direction is compared
    const scaled = Float64Array.from({ length: vector.length }, (_, i) => vector[i] / top);
    const hits = this.#search(scaled, Math.max(10, PLACEMENT_NEIGHBOURS));
    const near = hits.slice(0, PLACEMENT_NEIGHBOURS).map((h) => this.#index.row(h.id));
    const { position } = placeAmong(this.#map, near);
    return {
      neighbours: this.#withInfo(hits.slice(0, 10)),
      position,
      placement: `mean position of its ${near.length} nearest stored songs (cosine)`,
    };
  }

  /**
   * What a page needs to embed a dropped file itself exactly as the stored songs were (their framing,
   * pooling and variant), or null where it must upload the file instead: with `store` (the file is kept),
   * or a database with no songs, or songs from the int8 network (which runs on the server's CPU only).
   */
  get inPage(): InPageConfig | null {
    const cfg = this.#config;
    if (this.options.store || !cfg || this.#index.ids.length === 0 || cfg.precision !== "fp32") return null;
    return {
      inputRepr: cfg.inputRepr,
      embeddingSize: cfg.embeddingSize,
      hopSize: cfg.hopSize,
      center: cfg.center,
      pooling: cfg.pooling,
      weightsHash: cfg.weightsHash,
      provenance: cfg.weightsProvenance,
    };
  }

  #onnx: Promise<Uint8Array> | null = null;

  /**
   * The converted network the stored songs were embedded with (ONNX bytes), for a page that embeds in
   * the browser: the same weights found as uploads find them, checked against the recorded hash.
   *
   * @throws {OpenL3Error} when the database holds no configuration, or its weights are not found here.
   */
  modelOnnx(): Promise<Uint8Array> {
    this.#onnx ??= (async () => {
      const cfg = this.#config;
      if (!cfg) throw new OpenL3Error(`${redactUrl(this.db)} records no model configuration`);
      const { modelLikeStored } = await import("../pipeline/query_file.ts");
      const model = await modelLikeStored({ ...this.options.model, verbose: false }, cfg, redactUrl(this.db));
      return model.onnx;
    })();
    const p = this.#onnx;
    p.catch(() => {
      if (this.#onnx === p) this.#onnx = null; // a later request tries again
    });
    return p;
  }

  /**
   * Keep an upload: copy it beside the database and store the embedding already made of it (its vector and
   * timeline, with the stored songs' configuration): an upload is embedded once.
   */
  async #store(file: string, originalName: string, song: FileEmbedding, embedder: Embedder): Promise<string> {
    const bytes = await Deno.readFile(file);
    const ext = extname(originalName).toLowerCase().replace(/[^.a-z0-9]/g, "").slice(0, 6);
    const dir = join(dirname(resolve(this.db)), "uploads");
    await Deno.mkdir(dir, { recursive: true });
    const hash = await sha256(bytes);
    const target = join(dir, `${hash.slice(0, 16)}${ext}`);
    await writeFileAtomic(target, bytes);
    const cfg = this.#config;
    if (!cfg) {
      throw new OpenL3Error(
        `${redactUrl(this.db)} records no model configuration (the original project's vectors only): an ` +
          `upload cannot be stored beside them; serve it without --store, or embed the collection again`,
      );
    }
    const store = await openStore(this.db);
    try {
      const real = await Deno.realPath(target);
      await store.addRoots([await Deno.realPath(dir)]);
      await store.putSong(
        {
          songId: real,
          path: real,
          duration: song.duration,
          sampleRate: song.sampleRate,
          channels: song.channels,
          format: song.format,
          size: bytes.length,
          contentHash: hash,
          tags: song.tags,
          windows: song.windows,
        },
        song.vector!,
        {
          inputRepr: cfg.inputRepr,
          contentType: cfg.contentType,
          embeddingSize: cfg.embeddingSize,
          weightsHash: cfg.weightsHash,
          hopSize: cfg.hopSize,
          center: cfg.center,
          pooling: cfg.pooling,
          precision: cfg.precision,
          weightsProvenance: embedder.model.provenance,
          frontend: embedder.frontend.kind,
          backend: embedder.session.backend,
          toolVersion: TOOL_VERSION,
        },
        undefined,
        song.timeline,
      );
    } finally {
      await store.close();
    }
    await this.refresh();
    return await Deno.realPath(target);
  }

  /** The collection as playlists see it (made once per reload, over the explorer's own index). */
  catalog(): Catalog {
    if (this.#catalog?.revision !== this.#revision) {
      this.#catalog = {
        revision: this.#revision,
        catalog: Catalog.of(this.#reader!, this.#index, this.#summaries, this.#config),
      };
    }
    return this.#catalog.catalog;
  }

  /**
   * A playlist of stored songs (the `playlist` command's, with the same checks): seeds are stored ids only
   * (a page does not name files on the server).
   *
   * @throws {ArgumentError} for a bad request or a seed that is not a stored song.
   */
  async playlist(request: PlaylistRequest): Promise<Playlist> {
    await this.refresh();
    checkRequest(request);
    for (const id of [...request.seeds, ...(request.via ?? []), ...(request.to ? [request.to] : [])]) {
      if (this.#index.row(id) < 0) throw new ArgumentError(`"${printable(id)}" is not a stored song`);
    }
    return await makePlaylist(this.catalog(), request, () => {
      throw new ArgumentError("the explorer makes playlists of stored songs only");
    });
  }

  /** The copies of one recording and versions of one song among the stored songs (computed once per reload). */
  duplicates(): Promise<DuplicateGroup[]> {
    if (this.#duplicates?.revision !== this.#revision) {
      const songs = this.#summaries;
      const reader = this.#reader!;
      this.#duplicates = {
        revision: this.#revision,
        groups: (async () => {
          const { songs: list } = duplicateSongs(songs, await reader.timelines());
          return list.length < 2 ? [] : findDuplicates(list);
        })(),
      };
      const d = this.#duplicates;
      d.groups.catch(() => {
        if (this.#duplicates === d) this.#duplicates = null;
      });
    }
    return this.#duplicates.groups;
  }

  /** Release the model and the database. */
  async close(): Promise<void> {
    await this.#reader?.close();
    this.#reader = undefined;
    const e = this.#embedder;
    this.#embedder = null;
    if (e) await (await e.catch(() => null))?.close();
  }
}
