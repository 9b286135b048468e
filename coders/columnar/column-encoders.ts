/**
 * Column encoders: write the nested encoding of one standard coder straight
 * from an Arrow column, byte for byte what the per-element coder writes.
 * Registered by coder URN; a column they do not take (several chunks,
 * nulls, another Arrow type) is encoded through the per-element coder
 * instead. Each is an object of a class of its own (`write(i, w)`), so the
 * compiled row loop's call site for a column sees one class across batches
 * and V8 inlines it.
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

/** Writes the cell of row `i` of a column. */
export interface CellEncoder {
  write(i: number, w: ByteWriter): void;
}

/** A fast encoder of a single-chunk column, or undefined for another column type. */
type FastEncoder = (data: Data) => CellEncoder | undefined;

const encoders = new Map<string, FastEncoder>();

export function registerColumnEncoder(urn: string, encoder: FastEncoder): void {
  if (encoders.has(urn)) throw new Error(`column encoder for ${urn} is already registered`);
  encoders.set(urn, encoder);
}

/** Any column, through the per-element coder (the fallback). */
class CoderCells implements CellEncoder {
  constructor(
    private readonly column: Vector,
    private readonly coder: Coder<unknown>,
  ) {}
  write(i: number, w: ByteWriter): void {
    this.coder.encodeTo(fromArrow(this.column.get(i)), w, "nested");
  }
}

/**
 * An encoder of `column`'s cells with `coder` (nested): the fast path if one
 * applies. With `validOnly` the caller writes only its non-null cells (a
 * row's null fields are in its null bitmap), so a column with nulls may use
 * the fast path too.
 */
export function cellEncoder(column: Vector, coder: Coder<unknown>, validOnly = false): CellEncoder {
  const fast = encoders.get(coder.urn);
  const data = column.data.length === 1 ? column.data[0] : undefined;
  const encoder = fast && data && (validOnly || data.nullCount === 0) ? fast(data) : undefined;
  return encoder ?? new CoderCells(column, coder);
}

/** Whether the column's values are JavaScript numbers (floats but half, ints up to 32 bits). */
function holdsNumbers(data: Data): boolean {
  const type = data.type as { precision?: Precision; bitWidth?: number };
  if (data.typeId === Type.Float) return type.precision !== Precision.HALF;
  return data.typeId === Type.Int && (type.bitWidth ?? 64) <= 32;
}

/** Float64 cells: the column's little-endian bytes, reversed (big-endian on the wire). */
class Float64Cells implements CellEncoder {
  private readonly bytes: Uint8Array;
  private readonly offset: number;
  constructor(data: Data) {
    const values = data.values as Float64Array;
    this.bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.offset = data.offset;
  }
  write(i: number, w: ByteWriter): void {
    w.ensure(8);
    const src = this.bytes;
    const o = (this.offset + i) * 8;
    const b = w.buf;
    const p = w.pos;
    b[p] = src[o + 7]!;
    b[p + 1] = src[o + 6]!;
    b[p + 2] = src[o + 5]!;
    b[p + 3] = src[o + 4]!;
    b[p + 4] = src[o + 3]!;
    b[p + 5] = src[o + 2]!;
    b[p + 6] = src[o + 1]!;
    b[p + 7] = src[o]!;
    w.pos = p + 8;
  }
}

/** Cells of a column of JavaScript numbers (float32, ints up to 32 bits). */
abstract class NumberCells implements CellEncoder {
  protected readonly values: ArrayLike<number>;
  protected readonly offset: number;
  constructor(data: Data) {
    this.values = data.values as ArrayLike<number>;
    this.offset = data.offset;
  }
  abstract write(i: number, w: ByteWriter): void;
}

/** Number cells as doubles. */
class NumberDoubleCells extends NumberCells {
  write(i: number, w: ByteWriter): void {
    w.writeDouble(this.values[this.offset + i]!);
  }
}

registerColumnEncoder(DOUBLE_URN, (data) => {
  if (!holdsNumbers(data)) return undefined;
  return data.values instanceof Float64Array ? new Float64Cells(data) : new NumberDoubleCells(data);
});

/** Int64 cells as varints, from the column's int32 halves. */
class Int64VarIntCells implements CellEncoder {
  private readonly halves: Int32Array;
  private readonly offset: number;
  constructor(data: Data) {
    const values = data.values as BigInt64Array;
    this.halves = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    this.offset = data.offset;
  }
  write(i: number, w: ByteWriter): void {
    const j = (this.offset + i) * 2;
    w.writeVarInt64(this.halves[j + 1]! >>> 0, this.halves[j]! >>> 0);
  }
}

/** Number cells (ints up to 32 bits) as varints. */
class NumberVarIntCells extends NumberCells {
  write(i: number, w: ByteWriter): void {
    w.writeVarInt(this.values[this.offset + i]!);
  }
}

registerColumnEncoder(VARINT_URN, (data) => {
  if (data.typeId !== Type.Int) return undefined;
  return holdsNumbers(data) ? new NumberVarIntCells(data) : new Int64VarIntCells(data);
});

class BoolCells implements CellEncoder {
  private readonly bits: Uint8Array;
  private readonly offset: number;
  constructor(data: Data) {
    this.bits = data.values as Uint8Array;
    this.offset = data.offset;
  }
  write(i: number, w: ByteWriter): void {
    const j = this.offset + i;
    w.writeByte((this.bits[j >> 3]! >> (j & 7)) & 1);
  }
}

registerColumnEncoder(BOOL_URN, (data) =>
  data.typeId === Type.Bool ? new BoolCells(data) : undefined,
);

/** Writes entry `e` of offsets + bytes as a length-prefixed run. */
function writeRun(offsets: Int32Array, bytes: Uint8Array, e: number, w: ByteWriter): void {
  const start = offsets[e]!;
  const n = offsets[e + 1]! - start;
  w.ensure(n + 5);
  const b = w.buf;
  let p = w.pos;
  if (n < 0x80) b[p++] = n;
  else {
    w.writeUVarInt32(n);
    p = w.pos;
  }
  if (n < 16) for (let k = 0; k < n; k++) b[p + k] = bytes[start + k]!;
  else b.set(bytes.subarray(start, start + n), p);
  w.pos = p + n;
}

/** Length-prefixed runs of a Utf8 or Binary column (offsets + bytes). */
class RunCells implements CellEncoder {
  private readonly offsets: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly offset: number;
  constructor(data: Data) {
    this.offsets = data.valueOffsets as Int32Array;
    this.bytes = data.values as Uint8Array;
    this.offset = data.offset;
  }
  write(i: number, w: ByteWriter): void {
    writeRun(this.offsets, this.bytes, this.offset + i, w);
  }
}

/** A dictionary-encoded string column: each row writes its dictionary entry's run. */
class DictionaryRunCells implements CellEncoder {
  private readonly indices: ArrayLike<number>;
  private readonly offset: number;
  private readonly offsets: Int32Array;
  private readonly bytes: Uint8Array;
  constructor(data: Data, dictionary: Data) {
    this.indices = data.values as ArrayLike<number>;
    this.offset = data.offset;
    // A sliced dictionary's offsets start at its own offset.
    this.offsets = (dictionary.valueOffsets as Int32Array).subarray(dictionary.offset);
    this.bytes = dictionary.values as Uint8Array;
  }
  write(i: number, w: ByteWriter): void {
    writeRun(this.offsets, this.bytes, this.indices[this.offset + i]!, w);
  }
}

registerColumnEncoder(BYTES_URN, (data) =>
  data.typeId === Type.Binary ? new RunCells(data) : undefined,
);

registerColumnEncoder(STRING_UTF8_URN, (data) => {
  if (data.typeId === Type.Utf8) return new RunCells(data);
  if (data.typeId !== Type.Dictionary || data.dictionary?.data.length !== 1) return undefined;
  const dictionary = data.dictionary.data[0] as Data;
  if (dictionary.typeId !== Type.Utf8 || dictionary.nullCount !== 0) return undefined;
  return new DictionaryRunCells(data, dictionary);
});
