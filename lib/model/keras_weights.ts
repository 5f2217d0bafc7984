/**
 * Keras HDF5 weights (the layout of `model.save_weights` and of full-model
 * saves, whose weights sit under `model_weights/`), read and written with
 * h5wasm. Weights are taken by **layer order**, as Keras loads them: layer
 * names are auto-numbered and differ between files.
 *
 * @module
 */

import h5wasm from "h5wasm/node";
import { OpenL3Error } from "../util/errors.ts";
import { type Architecture, weightShapes } from "./architecture.ts";
import type { LayerWeights, OpenL3Weights } from "./onnx_graph.ts";

/** One array of a layer. */
export interface KerasArray {
  /** Its name in `weight_names`, e.g. `conv2d_3/kernel:0`. */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Its values. */
  data: Float32Array;
}

/** A layer that carries weights, in file order. */
export interface KerasLayer {
  /** The layer's name in the file. */
  name: string;
  /** Its arrays, in `weight_names` order. */
  arrays: KerasArray[];
}

/** An error reading or checking a weights file. */
export class WeightsError extends OpenL3Error {}

let ready: Promise<unknown> | undefined;
async function h5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready;
  await ready;
  return h5wasm;
}

/** True when the bytes are gzip (the published `.h5.gz`). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** gunzip in memory. */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value == null ? [] : [value];
  return list.map((v) =>
    (v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v)).replace(/\0+$/, "")
  );
}

/** Root attribute that marks seeded random test weights (its value says so in words). */
export const UNTRAINED_ATTRIBUTE = "openl3_deno_untrained";

/** A Keras weights file as read. */
export interface KerasFile {
  /** The weighted layers, in file order. */
  layers: KerasLayer[];
  /** Set (to a sentence) when the file says it holds untrained test weights. */
  untrained?: string;
}

/**
 * The file length an HDF5 superblock declares (base address + end-of-file
 * address), or null when the superblock cannot be read. A file shorter than
 * that is truncated: checking first keeps HDF5's own diagnostics off stderr.
 */
export function hdf5DeclaredLength(bytes: Uint8Array, at: number): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[at + 8];
  const read = (pos: number, size: number): number | null => {
    if (pos + size > bytes.length) return null;
    if (size === 8) {
      const lo = view.getUint32(pos, true), hi = view.getUint32(pos + 4, true);
      return hi === 0xffffffff && lo === 0xffffffff ? null : hi * 2 ** 32 + lo;
    }
    return size === 4 ? view.getUint32(pos, true) : size === 2 ? view.getUint16(pos, true) : null;
  };
  if (version === 0 || version === 1) {
    const offsets = bytes[at + 13];
    const start = at + 24 + (version === 1 ? 4 : 0);
    const base = read(start, offsets), eof = read(start + 2 * offsets, offsets);
    return base === null || eof === null ? null : base + eof;
  }
  if (version === 2 || version === 3) {
    const offsets = bytes[at + 9];
    const start = at + 12;
    const base = read(start, offsets), eof = read(start + 2 * offsets, offsets);
    return base === null || eof === null ? null : base + eof;
  }
  return null;
}

/**
 * Read the weighted layers of a Keras weights file (`.h5`, or gzip of it),
 * in the order of the root attribute `layer_names`.
 *
 * @param bytes The file's bytes.
 * @param file Its name, for error messages.
 * @throws {WeightsError} when the bytes are not HDF5, are truncated, or lack the Keras layout.
 */
export async function readKerasLayers(bytes: Uint8Array, file: string): Promise<KerasLayer[]> {
  return (await readKerasFile(bytes, file)).layers;
}

/**
 * Read a Keras weights file (`.h5`, or gzip of it): its weighted layers, and
 * whether it says it holds untrained test weights.
 *
 * @param bytes The file's bytes.
 * @param file Its name, for error messages.
 * @throws {WeightsError} when the bytes are not HDF5, are truncated, or lack the Keras layout.
 */
export async function readKerasFile(bytes: Uint8Array, file: string): Promise<KerasFile> {
  if (isGzip(bytes)) {
    try {
      bytes = await gunzip(bytes);
    } catch (e) {
      throw new WeightsError(`${file}: corrupt or truncated gzip data (${(e as Error).message})`, {
        cause: e,
      });
    }
  }
  // HDF5 files may carry a user block: the signature sits at 0, 512, 1024, …
  const signature = [0, 512, 1024, 2048].find((at) => HDF5_MAGIC.every((b, i) => bytes[at + i] === b));
  if (signature === undefined) throw new WeightsError(`${file}: not an HDF5 file (no HDF5 signature)`);
  const declared = hdf5DeclaredLength(bytes, signature);
  if (declared !== null && bytes.length < declared) {
    throw new WeightsError(
      `${file}: truncated HDF5 file (${bytes.length} bytes, its superblock declares ${declared})`,
    );
  }
  const lib = await h5();
  const tmp = await Deno.makeTempFile({ suffix: ".h5" });
  let f: InstanceType<typeof lib.File> | undefined;
  try {
    await Deno.writeFile(tmp, bytes);
    try {
      f = new lib.File(tmp, "r");
    } catch (e) {
      throw new WeightsError(`${file}: HDF5 file cannot be opened (truncated or corrupt)`, { cause: e });
    }
    try {
      const layers = readLayers(f, file);
      const holder: H5Group = f.attrs?.[UNTRAINED_ATTRIBUTE] || !f.keys().includes("model_weights")
        ? f
        : f.get("model_weights");
      const note = holder.attrs?.[UNTRAINED_ATTRIBUTE]?.value;
      return { layers, untrained: note === undefined ? undefined : strings(note).join(" ") };
    } catch (e) {
      if (e instanceof OpenL3Error) throw e;
      throw new WeightsError(
        `${file}: HDF5 structure cannot be read (truncated or corrupt): ${(e as Error)?.message ?? e}`,
        {
          cause: e,
        },
      );
    }
  } finally {
    try {
      f?.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
  }
}

// deno-lint-ignore no-explicit-any
type H5Group = any;

function readLayers(f: H5Group, file: string): KerasLayer[] {
  let root: H5Group = f;
  const keys: string[] = f.keys();
  if (!f.attrs?.["layer_names"] && keys.includes("model_weights")) root = f.get("model_weights");
  const namesAttr = root.attrs?.["layer_names"];
  if (!namesAttr) {
    throw new WeightsError(`${file}: no 'layer_names' attribute: not a Keras weights file`);
  }
  const layers: KerasLayer[] = [];
  for (const layerName of strings(namesAttr.value)) {
    const group = root.get(layerName);
    if (!group) throw new WeightsError(`${file}: layer '${layerName}' is listed but missing`);
    const weightNames = strings(group.attrs?.["weight_names"]?.value);
    if (weightNames.length === 0) continue;
    const arrays = weightNames.map((name) => {
      let ds: H5Group;
      try {
        ds = group.get(name);
      } catch (e) {
        throw new WeightsError(`${file}: cannot read dataset '${layerName}/${name}'`, { cause: e });
      }
      if (!ds || !ds.shape) throw new WeightsError(`${file}: dataset '${layerName}/${name}' is missing`);
      let value: unknown;
      try {
        value = ds.value;
      } catch (e) {
        throw new WeightsError(`${file}: dataset '${layerName}/${name}' cannot be read (truncated?)`, {
          cause: e,
        });
      }
      const data = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number>);
      return { name, shape: [...ds.shape] as number[], data };
    });
    layers.push({ name: layerName, arrays });
  }
  return layers;
}

/**
 * Bind file layers to an architecture by order, checking every shape.
 * The error names the first layer and array that does not fit.
 */
export function bindWeights(layers: KerasLayer[], arch: Architecture, file: string): OpenL3Weights {
  if (layers.length !== arch.layers.length) {
    throw new WeightsError(
      `${file}: ${layers.length} layers carry weights, the OpenL3 audio network has ${arch.layers.length}`,
    );
  }
  const bound: LayerWeights[] = arch.layers.map((spec, i) => {
    const layer = layers[i];
    const shapes = weightShapes(spec);
    if (layer.arrays.length !== shapes.length) {
      throw new WeightsError(
        `${file}: layer ${i} '${layer.name}' has ${layer.arrays.length} arrays, expected ${shapes.length} ` +
          `for a ${spec.kind === "bn" ? "BatchNormalization" : "Conv2D"} layer`,
      );
    }
    shapes.forEach((shape, k) => {
      const got = layer.arrays[k].shape;
      if (got.length !== shape.length || got.some((d, j) => d !== shape[j])) {
        throw new WeightsError(
          `${file}: layer ${i} '${layer.name}' array '${
            layer.arrays[k].name
          }' has shape [${got}], expected [${shape}]`,
        );
      }
    });
    const a = layer.arrays.map((x) => x.data);
    return spec.kind === "bn"
      ? { kind: "bn", gamma: a[0], beta: a[1], mean: a[2], variance: a[3] }
      : { kind: "conv", kernel: a[0], bias: a[1] };
  });
  return { arch, layers: bound };
}

/** Options of {@linkcode writeKerasWeights}. */
export interface WriteKerasOptions {
  /** `weights` (save_weights) or `model` (full save: everything under `model_weights/`); default `weights`. */
  layout?: "weights" | "model";
  /** First number of Keras' auto-generated layer names (files differ by it); default 1. */
  firstIndex?: number;
  /** Mark the file as untrained test weights (the attribute's text). */
  untrained?: string;
}

/**
 * Write weights in the Keras layout of the published OpenL3 files: every
 * layer listed in `layer_names` (those without weights too), weighted layers
 * holding `<layer>/<layer>/<kernel:0|bias:0|gamma:0|…>`.
 */
export async function writeKerasWeights(
  path: string,
  w: OpenL3Weights,
  options: WriteKerasOptions = {},
): Promise<string[]> {
  const lib = await h5();
  const n0 = options.firstIndex ?? 1;
  let conv = n0, bn = n0, act = n0, pool = n0;
  const names: string[] = [`input_${n0}`];
  const layerOf: (LayerWeights | null)[] = [null];
  w.layers.forEach((l, i) => {
    if (l.kind === "bn") {
      names.push(`batch_normalization_${bn++}`);
      layerOf.push(l);
      if (i > 0) {
        names.push(`activation_${act++}`);
        layerOf.push(null);
      }
    } else {
      names.push(i === w.layers.length - 1 ? "audio_embedding_layer" : `conv2d_${conv++}`);
      layerOf.push(l);
    }
    // a pool follows every second conv block's BN+activation, except after the last block
    if (l.kind === "bn" && i > 0 && i % 4 === 0) {
      names.push(`max_pooling2d_${pool++}`);
      layerOf.push(null);
    }
  });
  names.push(`max_pooling2d_${pool++}`, `flatten_${n0}`);
  layerOf.push(null, null);
  const f = new lib.File(path, "w");
  try {
    let root: H5Group = f;
    if (options.layout === "model") {
      f.create_attribute("model_config", JSON.stringify({ class_name: "Model", config: { name: "openl3" } }));
      f.create_group("model_weights");
      root = f.get("model_weights");
    }
    const width = Math.max(...names.map((s) => s.length));
    root.create_attribute("layer_names", names, null, `A${width}`);
    root.create_attribute("backend", "tensorflow");
    root.create_attribute("keras_version", "2.2.4");
    if (options.untrained) root.create_attribute(UNTRAINED_ATTRIBUTE, options.untrained);
    names.forEach((name, k) => {
      root.create_group(name);
      const g = root.get(name);
      const l = layerOf[k];
      if (!l) {
        g.create_attribute("weight_names", [], [0], "A1");
        return;
      }
      const entries: [string, Float32Array][] = l.kind === "bn"
        ? [["gamma:0", l.gamma], ["beta:0", l.beta], ["moving_mean:0", l.mean], [
          "moving_variance:0",
          l.variance,
        ]]
        : [["kernel:0", l.kernel], ["bias:0", l.bias]];
      const spec = w.arch.layers[w.layers.indexOf(l)];
      const shapes = weightShapes(spec);
      const weightNames = entries.map(([n]) => `${name}/${n}`);
      g.create_attribute(
        "weight_names",
        weightNames,
        null,
        `A${Math.max(...weightNames.map((s) => s.length))}`,
      );
      g.create_group(name);
      const inner = g.get(name);
      entries.forEach(([n, data], j) => inner.create_dataset({ name: n, data, shape: shapes[j] }));
    });
  } finally {
    f.close();
  }
  return names;
}
