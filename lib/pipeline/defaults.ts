/**
 * Every default of the tool in one place: the paths (relative to the working
 * folder, each overridable by a flag) and the model options (OpenL3's own
 * defaults). `files.ts`, the original project's module of paths, re-exports
 * the paths from here.
 *
 * @module
 */

/** Default paths. */
export const DEFAULT_PATHS = {
  /** Folder of audio previews that `simple_embed.ts` embeds and `create_test_audio.ts` writes. */
  previews: "previews",
  /** SQLite database of song vectors. */
  db: "metadata/songs.db",
  /** Folder of model weights and converted models. */
  models: "models",
  /** The t-SNE map `compare_embeddings.ts` renders. */
  visualization: "embedding_visualization.png",
  /** Folder of the comparison's CSVs and heatmap. */
  analysis: "metadata",
} as const;

/**
 * The range every numeric option accepts (inclusive), each with why its bound is where it is: outside it, a
 * one-line usage error naming the flag, the value and the range, before any work.
 */
export const OPTION_RANGES = {
  /** Seconds between windows: one sample at 48 kHz, up to an hour (a song then gives one window). */
  hop: { min: 1 / 48000, max: 3600 },
  /** Windows per batch (1 024 mel256 windows are 200 MB of spectrograms). */
  "batch-size": { min: 1, max: 1024 },
  /** CPU threads of the native backend, at most the machine's cores (more only slows it down). */
  threads: { min: 1, max: 256 },
  /** Feed workers: each holds a file's decoder and batches (~30–60 MB). */
  workers: { min: 0, max: 16 },
  /** Longest audio per file, seconds: up to a day. */
  "max-duration": { min: 1, max: 86_400 },
  /** Seconds a PostgreSQL job is leased. */
  lease: { min: 1, max: 3600 },
  /** Errors a file may raise in a PostgreSQL run before it is failed. */
  "max-attempts": { min: 1, max: 100 },
  /** Neighbours listed. */
  k: { min: 1, max: 10_000 },
  /** Largest upload to the explorer, MiB. */
  "max-upload-mb": { min: 1, max: 4096 },
  /** Longest upload to the explorer, seconds of audio. */
  "max-upload-seconds": { min: 1, max: 86_400 },
} as const;

/** Default model and run options (OpenL3's defaults where OpenL3 has one). */
export const EMBED_DEFAULTS = {
  /** OpenL3's `input_repr` default. */
  inputRepr: "mel256",
  /** OpenL3's `content_type` default. */
  contentType: "music",
  /** OpenL3's `embedding_size` default. */
  embeddingSize: 512,
  /** OpenL3's `hop_size` default, seconds. */
  hopSize: 0.1,
  /** OpenL3's `center` default. */
  center: true,
  /** Frontend device. */
  device: "auto",
  /** Network backend. */
  backend: "auto",
  /** The network's precision (`int8`: opt-in). */
  precision: "fp32",
  /** Song-level pooling of the frame embeddings (the original project's max). */
  pool: "max",
  /** Windows per batch when the network runs on WebGPU. */
  gpuBatchSize: 32,
  /**
   * Windows per batch on the CPU backends: the same speed per window as 32,
   * and a quarter of the activation memory (~0.8 GB transient for 32 mel256 windows).
   */
  cpuBatchSize: 8,
  /** Longest audio decoded per file, seconds (a header claiming more is refused). */
  maxDuration: 4 * 3600,
} as const;
