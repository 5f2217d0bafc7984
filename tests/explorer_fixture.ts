/**
 * A small embedded collection for the explorer's tests: the synthetic test
 * set as WAV (2 s each), seeded random weights, embedded on the native
 * backend (hop 0.5 s).
 */
import { join } from "node:path";
import { run as createAudio } from "../create_test_audio.ts";
import { run as makeTestWeights } from "../make_test_weights.ts";
import { embedCollection } from "../lib/pipeline/collection.ts";

/** Where the fixture lives. */
export interface ExplorerFixture {
  /** Its temporary folder (remove it when done). */
  root: string;
  /** The database. */
  db: string;
  /** The weights the songs were embedded with. */
  weights: string;
  /** Converted models. */
  modelsDir: string;
  /** The audio files. */
  files: string[];
}

/** Build the fixture. */
export async function explorerFixture(prefix = "openl3-explorer-"): Promise<ExplorerFixture> {
  const root = await Deno.makeTempDir({ prefix });
  const files = await createAudio({ out: join(root, "audio"), format: "wav", duration: 2, verbose: false });
  const weights = join(root, "random.h5");
  await makeTestWeights({ out: weights, seed: 11 });
  const db = join(root, "songs.db");
  const modelsDir = join(root, "models");
  await embedCollection({
    inputs: [join(root, "audio")],
    db,
    weights,
    modelsDir,
    backend: "native",
    device: "cpu",
    hopSize: 0.5,
    quiet: true,
  });
  return { root, db, weights, modelsDir, files: files.map((f) => Deno.realPathSync(f)) };
}
