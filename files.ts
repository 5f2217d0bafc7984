/**
 * Default paths of the project, relative to the working directory. Every one
 * can be overridden by a flag of the script that uses it.
 *
 * @module
 */

/** Folder of audio previews that `simple_embed.ts` embeds and `create_test_audio.ts` writes. */
export const PREVIEWS_DIR = "previews";

/** SQLite database of song vectors. */
export const DB_PATH = "metadata/songs.db";

/** Folder of model weights and converted models. */
export const MODELS_DIR = "models";

/** The t-SNE map `compare_embeddings.ts` renders. */
export const VISUALIZATION_PNG = "embedding_visualization.png";

/** Folder of the comparison's CSVs and heatmap. */
export const ANALYSIS_DIR = "metadata";
