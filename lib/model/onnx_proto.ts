/**
 * A minimal ONNX protobuf writer: just the messages a feed-forward graph
 * needs (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto), encoded by hand with the field numbers of `onnx.proto`.
 *
 * @module
 */

import { OpenL3Error } from "../util/errors.ts";

/** An attribute value: int, float (`{ f }`), ints, or string. */
export type OnnxAttribute = number | { f: number } | number[] | string;

/** A graph node. */
export interface OnnxNode {
  /** Operator type, e.g. `Conv`. */
  op: string;
  /** Input value names. */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Node name. */
  name?: string;
  /** Operator attributes. */
  attributes?: Record<string, OnnxAttribute>;
}

/** An initializer: float32, int64 (shapes), or the integer types of a quantized graph (int8, uint8, int32). */
export interface OnnxTensor {
  /** Initializer name. */
  name: string;
  /** Its shape (`[]` for a scalar). */
  dims: number[];
  /** Its values; the array's type is the tensor's element type. */
  data: Float32Array | BigInt64Array | Int8Array | Uint8Array | Int32Array;
}

/** A graph input or output: float32 with a shape whose entries are sizes or symbolic names. */
export interface OnnxValue {
  /** Value name. */
  name: string;
  /** Shape; a string is a symbolic dimension (the batch). */
  shape: (number | string)[];
}

/** A model to encode. */
export interface OnnxModel {
  /** Graph name. */
  name: string;
  /** Nodes in topological order. */
  nodes: OnnxNode[];
  /** Constant tensors. */
  initializers: OnnxTensor[];
  /** Graph inputs. */
  inputs: OnnxValue[];
  /** Graph outputs. */
  outputs: OnnxValue[];
  /** ONNX opset version. */
  opset: number;
  /** `producer_name` of the model. */
  producer: string;
  /** `metadata_props` of the model. */
  metadata?: Record<string, string>;
}

const FLOAT = 1, UINT8 = 2, INT8 = 3, INT32 = 6, INT64 = 7;
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS = 7;
const utf8 = new TextEncoder();

/** Protobuf message builder (wire types 0, 2 and 5). */
class Message {
  parts: Uint8Array[] = [];
  length = 0;

  #push(bytes: Uint8Array) {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  #varint(value: number | bigint) {
    let v = BigInt(value);
    if (v < 0n) v += 1n << 64n; // two's complement, 10 bytes
    const out: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
    this.#push(Uint8Array.from(out));
  }

  #key(field: number, wire: number) {
    this.#varint((field << 3) | wire);
  }

  int(field: number, value: number) {
    this.#key(field, 0);
    this.#varint(value);
    return this;
  }

  float(field: number, value: number) {
    this.#key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array) {
    this.#key(field, 2);
    this.#varint(value.length);
    this.#push(value);
    return this;
  }

  string(field: number, value: string) {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, m: Message) {
    this.#key(field, 2);
    this.#varint(m.length);
    for (const p of m.parts) this.#push(p);
    return this;
  }

  packedInts(field: number, values: number[]) {
    const inner = new Message();
    for (const v of values) inner.#varint(v);
    return this.message(field, inner);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function attribute(name: string, value: OnnxAttribute): Message {
  const m = new Message().string(1, name);
  if (typeof value === "string") return m.int(20, ATTR_STRING).bytes(4, utf8.encode(value));
  if (Array.isArray(value)) return m.int(20, ATTR_INTS).packedInts(8, value);
  if (typeof value === "object") return m.int(20, ATTR_FLOAT).float(2, value.f);
  return m.int(20, ATTR_INT).int(3, value);
}

function node(n: OnnxNode): Message {
  const m = new Message();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) m.message(5, attribute(k, v));
  return m;
}

function tensor(t: OnnxTensor): Message {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const type = t.data instanceof BigInt64Array
    ? INT64
    : t.data instanceof Int8Array
    ? INT8
    : t.data instanceof Uint8Array
    ? UINT8
    : t.data instanceof Int32Array
    ? INT32
    : FLOAT;
  const m = new Message();
  if (t.dims.length) m.packedInts(1, t.dims);
  return m.int(2, type).string(8, t.name).bytes(9, raw);
}

function valueInfo(v: OnnxValue): Message {
  const shape = new Message();
  for (const d of v.shape) {
    shape.message(1, typeof d === "number" ? new Message().int(1, d) : new Message().string(2, d));
  }
  const tensorType = new Message().int(1, FLOAT).message(2, shape);
  return new Message().string(1, v.name).message(2, new Message().message(1, tensorType));
}

/**
 * Encode a model as ONNX protobuf bytes (IR version 8).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeOnnxModel } from "./onnx_proto.ts";
 * const bytes = encodeOnnxModel({
 *   name: "relu", opset: 17, producer: "example", initializers: [],
 *   nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
 *   inputs: [{ name: "x", shape: ["N", 4] }], outputs: [{ name: "y", shape: ["N", 4] }],
 * });
 * assert.ok(bytes.length > 0);
 * ```
 */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const graph = new Message();
  for (const n of model.nodes) graph.message(1, node(n));
  graph.string(2, model.name);
  for (const t of model.initializers) graph.message(5, tensor(t));
  for (const v of model.inputs) graph.message(11, valueInfo(v));
  for (const v of model.outputs) graph.message(12, valueInfo(v));
  const m = new Message()
    .int(1, 8) // ir_version
    .string(2, model.producer)
    .message(7, graph)
    .message(8, new Message().string(1, "").int(2, model.opset));
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    m.message(14, new Message().string(1, key).string(2, value));
  }
  return m.finish();
}

/**
 * Read the `metadata_props` of an ONNX model (field 14 of ModelProto),
 * skipping everything else.
 *
 * @throws {OpenL3Error} when the bytes are not a protobuf ModelProto.
 */
export function readOnnxMetadata(bytes: Uint8Array, file = "model.onnx"): Record<string, string> {
  let at = 0;
  const fail = (why: string): never => {
    throw new OpenL3Error(`${file}: not an ONNX model (${why})`);
  };
  const varint = (): number => {
    let v = 0, mul = 1;
    for (;;) {
      if (at >= bytes.length) fail("truncated varint");
      const b = bytes[at++];
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
      if (mul > 2 ** 63) fail("varint too long");
    }
  };
  const fields = (end: number, visit: (field: number, start: number, stop: number) => void) => {
    while (at < end) {
      const key = varint();
      const field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) varint();
      else if (wire === 1) at += 8;
      else if (wire === 5) at += 4;
      else if (wire === 2) {
        const len = varint();
        const start = at;
        if (start + len > end) fail("field runs past the end");
        at = start + len;
        visit(field, start, at);
      } else fail(`wire type ${wire}`);
    }
    if (at !== end) fail("misaligned field");
  };
  const text = (s: number, e: number) => new TextDecoder().decode(bytes.subarray(s, e));
  const meta: Record<string, string> = {};
  let sawGraph = false;
  fields(bytes.length, (field, start, stop) => {
    if (field === 7) sawGraph = true;
    if (field !== 14) return;
    const save = at;
    at = start;
    let key = "", value = "";
    fields(stop, (f, s, e) => {
      if (f === 1) key = text(s, e);
      if (f === 2) value = text(s, e);
    });
    meta[key] = value;
    at = save;
  });
  if (!sawGraph) fail("no graph");
  return meta;
}

/** A float tensor read back from an ONNX model. */
export interface OnnxInitializer {
  /** Its name. */
  name: string;
  /** Its shape. */
  dims: number[];
  /** Its values. */
  data: Float32Array;
}

/**
 * The float initializers of an ONNX model (graph field 5), in file order, as
 * this project writes them (raw little-endian data or packed floats).
 *
 * @throws {OpenL3Error} when the bytes are not a protobuf ModelProto.
 */
export function readOnnxInitializers(bytes: Uint8Array, file = "model.onnx"): OnnxInitializer[] {
  const fail = (why: string): never => {
    throw new OpenL3Error(`${file}: not an ONNX model (${why})`);
  };
  const walk = (
    start: number,
    end: number,
    visit: (field: number, wire: number, s: number, e: number) => void,
  ) => {
    let at = start;
    const varint = (): number => {
      let v = 0, mul = 1;
      for (;;) {
        if (at >= end) fail("truncated varint");
        const b = bytes[at++];
        v += (b & 0x7f) * mul;
        if (!(b & 0x80)) return v;
        mul *= 128;
      }
    };
    while (at < end) {
      const key = varint();
      const field = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) {
        const s = at;
        varint();
        visit(field, wire, s, at);
      } else if (wire === 1) at += 8;
      else if (wire === 5) at += 4;
      else if (wire === 2) {
        const len = varint();
        if (at + len > end) fail("field runs past the end");
        visit(field, wire, at, at + len);
        at += len;
      } else fail(`wire type ${wire}`);
    }
  };
  const varints = (s: number, e: number): number[] => {
    const out: number[] = [];
    let v = 0, mul = 1;
    for (let i = s; i < e; i++) {
      v += (bytes[i] & 0x7f) * mul;
      mul *= 128;
      if (!(bytes[i] & 0x80)) {
        out.push(v);
        v = 0;
        mul = 1;
      }
    }
    return out;
  };
  const out: OnnxInitializer[] = [];
  walk(0, bytes.length, (field, wire, s, e) => {
    if (field !== 7 || wire !== 2) return;
    walk(s, e, (gf, gw, gs, ge) => {
      if (gf !== 5 || gw !== 2) return;
      let name = "", dims: number[] = [], data: Float32Array | undefined;
      walk(gs, ge, (tf, tw, ts, te) => {
        if (tf === 1) dims = tw === 2 ? varints(ts, te) : [...dims, ...varints(ts, te)];
        else if (tf === 8) name = new TextDecoder().decode(bytes.subarray(ts, te));
        else if ((tf === 9 || tf === 4) && tw === 2) {
          const copy = bytes.slice(ts, te);
          data = new Float32Array(copy.buffer, 0, copy.length / 4);
        }
      });
      if (data) out.push({ name, dims, data });
    });
  });
  return out;
}
