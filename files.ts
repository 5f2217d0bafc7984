/**
 * Default paths of the project, relative to the working directory (the
 * original project's module of paths). Every one can be overridden by a flag
 * of the script that uses it; the values live in `lib/pipeline/defaults.ts`
 * with the tool's other defaults.
 *
 * @module
 */

import { DEFAULT_PATHS } from "./lib/pipeline/defaults.ts";

/** Folder of audio previews that `simple_embed.ts` embeds and `create_test_audio.ts` writes. */
export const PREVIEWS_DIR: string = DEFAULT_PATHS.previews;

/** SQLite database of song vectors. */
export const DB_PATH: string = DEFAULT_PATHS.db;

/** Folder of model weights and converted models. */
export const MODELS_DIR: string = DEFAULT_PATHS.models;

/** The t-SNE map `compare_embeddings.ts` renders. */
export const VISUALIZATION_PNG: string = DEFAULT_PATHS.visualization;

/** Folder of the comparison's CSVs and heatmap. */
export const ANALYSIS_DIR: string = DEFAULT_PATHS.analysis;
