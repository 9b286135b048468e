/**
 * Column encoders: write the nested encoding of one standard coder straight
 * from an Arrow column, byte for byte what the per-element coder writes.
 * Registered by coder URN; a column they do not take (several chunks, nulls,
 * another Arrow type) is encoded through the per-element coder instead.
 */
import { type Data, Precision, Type, type Vector } from "apache-arrow";
import { BOOL_URN } from "../bool.js";
import { BYTES_URN } from "../bytes.js";
import type { ByteWriter } from "../byte-writer.js";
import type { Coder } from "../coder.js";
import { DOUBLE_URN } from "../double.js";
import { STRING_UTF8_URN } from "../string-utf8.js";
import { VARINT_URN } from "../varint.js";
import { fromArrow } from "./batch-rows.js";

/** Encodes row `i` of a column. */
export type CellEncoder = (i: number, w: ByteWriter) => void;

/** A fast encoder of a single-chunk, null-free column, or undefined for another column type. */
type FastEncoder = (data: Data) => CellEncoder | undefined;

const encoders = new Map<string, FastEncoder>();

export function registerColumnEncoder(urn: string, encoder: FastEncoder): void {
  if (encoders.has(urn)) throw new Error(`column encoder for ${urn} is already registered`);
  encoders.set(urn, encoder);
}

/** An encoder of `column`'s cells with `coder` (nested): the fast path if one applies. */
export function cellEncoder(column: Vector, coder: Coder<unknown>): CellEncoder {
  const fast = encoders.get(coder.urn);
  const data = column.data.length === 1 ? column.data[0] : undefined;
  const encoder = fast && data && data.nullCount === 0 ? fast(data) : undefined;
  return encoder ?? ((i, w) => coder.encodeTo(fromArrow(column.get(i)), w, "nested"));
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Whether the column's values are JavaScript numbers (floats but half, ints up to 32 bits). */
function holdsNumbers(data: Data): boolean {
  const type = data.type as { precision?: Precision; bitWidth?: number };
  if (data.typeId === Type.Float) return type.precision !== Precision.HALF;
  return data.typeId === Type.Int && (type.bitWidth ?? 64) <= 32;
}

registerColumnEncoder(DOUBLE_URN, (data) => {
  if (!holdsNumbers(data)) return undefined;
  const values = data.values as ArrayLike<number>;
  const offset = data.offset;
  return (i, w) => {
    w.ensure(8);
    f64[0] = values[offset + i]!;
    const b = w.buf;
    const p = w.pos;
    for (let k = 0; k < 8; k++) b[p + k] = f64Bytes[7 - k]!;
    w.pos = p + 8;
  };
});

registerColumnEncoder(VARINT_URN, (data) => {
  if (data.typeId !== Type.Int) return undefined;
  const offset = data.offset;
  if (!holdsNumbers(data)) {
    const halves = new Int32Array(
      data.values.buffer,
      data.values.byteOffset,
      (data.values as BigInt64Array).length * 2,
    );
    return (i, w) => {
      const j = (offset + i) * 2;
      w.writeVarInt64(halves[j + 1]! >>> 0, halves[j]! >>> 0);
    };
  }
  const values = data.values as ArrayLike<number>;
  return (i, w) => w.writeVarInt(values[offset + i]!);
});

registerColumnEncoder(BOOL_URN, (data) => {
  if (data.typeId !== Type.Bool) return undefined;
  const bits = data.values as Uint8Array;
  const offset = data.offset;
  return (i, w) => {
    const j = offset + i;
    w.writeByte((bits[j >> 3]! >> (j & 7)) & 1);
  };
});

/** Length-prefixed runs of a Utf8 or Binary column (offsets + bytes). */
function runEncoder(data: Data): CellEncoder {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const offset = data.offset;
  return (i, w) => {
    const start = offsets[offset + i]!;
    const n = offsets[offset + i + 1]! - start;
    w.writeUVarInt32(n);
    w.ensure(n);
    const b = w.buf;
    const p = w.pos;
    if (n < 16) for (let k = 0; k < n; k++) b[p + k] = bytes[start + k]!;
    else b.set(bytes.subarray(start, start + n), p);
    w.pos = p + n;
  };
}

registerColumnEncoder(BYTES_URN, (data) =>
  data.typeId === Type.Binary ? runEncoder(data) : undefined,
);

registerColumnEncoder(STRING_UTF8_URN, (data) => {
  if (data.typeId === Type.Utf8) return runEncoder(data);
  if (data.typeId !== Type.Dictionary || data.dictionary?.data.length !== 1) return undefined;
  const dictionary = data.dictionary.data[0] as Data;
  if (dictionary.typeId !== Type.Utf8 || dictionary.nullCount !== 0) return undefined;
  // Each distinct string is written once per batch via the dictionary's runs.
  const entry = runEncoder(dictionary);
  const indices = data.values as ArrayLike<number>;
  const offset = data.offset;
  return (i, w) => entry(indices[offset + i]!, w);
});
