/**
 * Embedding a new file the way a database's songs were: the one model
 * configuration they were stored with, as embedder options.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";
import type { Store, StoredConfig } from "../store/sqlite_store.ts";
import type { EmbedderOptions } from "./embed_options.ts";

/** The one configuration the stored songs were made with. */
export function storedConfig(store: Store, db: string): StoredConfig | undefined {
  return singleConfig(store.storedConfigs(), db);
}

/** The one configuration of a list (a database's), or an error when they are mixed. */
export function singleConfig(configs: StoredConfig[], db: string): StoredConfig | undefined {
  if (configs.length > 1) {
    throw new OpenL3Error(
      `${db} mixes ${configs.length} model configurations: compare stored songs by id instead`,
    );
  }
  return configs[0];
}

/** Embedder options that reproduce a stored configuration. */
export function modelOf(cfg: StoredConfig | undefined): EmbedderOptions {
  return cfg
    ? {
      inputRepr: cfg.inputRepr,
      contentType: cfg.contentType,
      embeddingSize: cfg.embeddingSize,
      hopSize: cfg.hopSize,
      center: cfg.center,
    }
    : {};
}
