/**
 * Column decoders: read the nested encoding of one standard coder straight
 * into an Arrow column, with no JavaScript object per value. Each decoder
 * writes row `row` (a row that turns out incomplete is simply overwritten by
 * the next attempt) and hands its rows over as Arrow `Data` in `finish`,
 * starting a fresh column. Registered by coder URN, like the coders.
 */
import {
  Binary,
  Bool,
  type Data,
  type DataType,
  Dictionary,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  makeData,
  Utf8,
  Vector,
} from "apache-arrow";
import { BOOL_URN } from "../bool.js";
import { BYTES_URN } from "../bytes.js";
import { DOUBLE_URN } from "../double.js";
import { CoderError } from "../errors.js";
import { STRING_UTF8_URN } from "../string-utf8.js";
import { VARINT_URN } from "../varint.js";
import { ByteDictionary, roomFor } from "./byte-dictionary.js";
import { INCOMPLETE, lastRead, readUVarInt32, readVarInt64Halves } from "./varint-read.js";

export { INCOMPLETE };

/** The URNs of the row coder's own field coders (coders/row-fields.ts). */
const BYTE_FIELD_URN = "beam:schema:byte";
const INT16_FIELD_URN = "beam:schema:int16";
const INT32_FIELD_URN = "beam:schema:int32";
const FLOAT_FIELD_URN = "beam:schema:float";

export interface ColumnDecoder {
  /** Reads one value into `row` from `b[p, end)`; the position after it, or INCOMPLETE. */
  read(b: Uint8Array, p: number, end: number, row: number): number;
  /**
   * Rows `[0, length)` as Arrow data (with `nulls`, rows whose bit is clear
   * are null: their cells were never read); the decoder then starts a fresh column.
   */
  finish(length: number, nulls?: Nulls): Data;
  /** Row `row` is null (variable-length columns keep their offsets in order). */
  skip?(row: number): void;
}

/** An Arrow validity bitmap (bit set: valid) and its count of nulls. */
export interface Nulls {
  nullBitmap: Uint8Array;
  nullCount: number;
}

export interface ColumnKind {
  /** A decoder for batches of at most `capacity` rows. */
  decoder(capacity: number): ColumnDecoder;
  /** The Arrow type of the column (also for columns built from decoded values). */
  arrowType(): DataType;
  /** A decoded value (README value model) as the Arrow builder takes it. */
  toArrow(value: unknown): unknown;
}

const kinds = new Map<string, ColumnKind>();

/** Registers the column kind of a coder URN; registering a URN twice is an error. */
export function registerColumnKind(urn: string, kind: ColumnKind): void {
  if (kinds.has(urn)) throw new Error(`column kind for ${urn} is already registered`);
  kinds.set(urn, kind);
}

/** The column kind of a coder URN, or undefined when values of that coder are not columnar. */
export function columnKind(urn: string): ColumnKind | undefined {
  return kinds.get(urn);
}

const identity = (v: unknown): unknown => v;

class DoubleColumn implements ColumnDecoder {
  private values: Float64Array;
  private bytes: Uint8Array;
  constructor(private readonly capacity: number) {
    this.values = new Float64Array(capacity);
    this.bytes = new Uint8Array(this.values.buffer);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    if (p + 8 > end) return INCOMPLETE;
    const out = this.bytes;
    const o = row * 8;
    // Big-endian on the wire, little-endian in the column.
    out[o] = b[p + 7]!;
    out[o + 1] = b[p + 6]!;
    out[o + 2] = b[p + 5]!;
    out[o + 3] = b[p + 4]!;
    out[o + 4] = b[p + 3]!;
    out[o + 5] = b[p + 2]!;
    out[o + 6] = b[p + 1]!;
    out[o + 7] = b[p]!;
    return p + 8;
  }
  finish(length: number, nulls?: Nulls): Data {
    const data = makeData({
      type: new Float64(),
      length,
      data: this.values.subarray(0, length),
      ...nulls,
    });
    this.values = new Float64Array(this.capacity);
    this.bytes = new Uint8Array(this.values.buffer);
    return data;
  }
}

class VarIntColumn implements ColumnDecoder {
  private halves: Int32Array;
  constructor(private readonly capacity: number) {
    this.halves = new Int32Array(capacity * 2);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    return readVarInt64Halves(b, p, end, this.halves, row * 2, VARINT_URN);
  }
  finish(length: number, nulls?: Nulls): Data {
    const values = new BigInt64Array(this.halves.buffer, 0, length);
    this.halves = new Int32Array(this.capacity * 2);
    return makeData({ type: new Int64(), length, data: values, ...nulls });
  }
}

class BoolColumn implements ColumnDecoder {
  private values: Uint8Array;
  constructor(private readonly capacity: number) {
    this.values = new Uint8Array(capacity);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    if (p >= end) return INCOMPLETE;
    const v = b[p]!;
    if (v > 1) {
      throw new CoderError({ urn: BOOL_URN, offset: p, expected: "byte 0 or 1", actual: `${v}` });
    }
    this.values[row] = v;
    return p + 1;
  }
  finish(length: number, nulls?: Nulls): Data {
    const bits = new Uint8Array((length + 7) >> 3);
    const values = this.values;
    for (let i = 0; i < length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
    this.values = new Uint8Array(this.capacity);
    return makeData({ type: new Bool(), length, data: bits, ...nulls });
  }
}

/** Schema BYTE: one signed byte. */
class Int8Column implements ColumnDecoder {
  private values: Int8Array;
  constructor(private readonly capacity: number) {
    this.values = new Int8Array(capacity);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    if (p >= end) return INCOMPLETE;
    this.values[row] = b[p]!;
    return p + 1;
  }
  finish(length: number, nulls?: Nulls): Data {
    const data = makeData({
      type: new Int8(),
      length,
      data: this.values.subarray(0, length),
      ...nulls,
    });
    this.values = new Int8Array(this.capacity);
    return data;
  }
}

/** Schema INT16: two bytes, big-endian. */
class Int16Column implements ColumnDecoder {
  private values: Int16Array;
  constructor(private readonly capacity: number) {
    this.values = new Int16Array(capacity);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    if (p + 2 > end) return INCOMPLETE;
    this.values[row] = (b[p]! << 8) | b[p + 1]!;
    return p + 2;
  }
  finish(length: number, nulls?: Nulls): Data {
    const data = makeData({
      type: new Int16(),
      length,
      data: this.values.subarray(0, length),
      ...nulls,
    });
    this.values = new Int16Array(this.capacity);
    return data;
  }
}

const scratchHalves = new Int32Array(2);

/**
 * Schema INT32: a varint, in Java's 5-byte form (the unsigned 32-bit
 * pattern) or Python's sign-extended 10-byte form, as the row coder reads it.
 */
class Int32VarIntColumn implements ColumnDecoder {
  private values: Int32Array;
  constructor(private readonly capacity: number) {
    this.values = new Int32Array(capacity);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    if (p < end && b[p]! < 0x80) {
      this.values[row] = b[p]!;
      return p + 1;
    }
    const q = readVarInt64Halves(b, p, end, scratchHalves, 0, INT32_FIELD_URN);
    if (q === INCOMPLETE) return INCOMPLETE;
    const lo = scratchHalves[0]!;
    const hi = scratchHalves[1]!;
    if (hi !== 0 && !(hi === -1 && lo < 0)) {
      throw new CoderError({ urn: INT32_FIELD_URN, offset: p, expected: "an int32 varint" });
    }
    this.values[row] = lo;
    return q;
  }
  finish(length: number, nulls?: Nulls): Data {
    const data = makeData({
      type: new Int32(),
      length,
      data: this.values.subarray(0, length),
      ...nulls,
    });
    this.values = new Int32Array(this.capacity);
    return data;
  }
}

/** Schema FLOAT: a big-endian IEEE 754 single. */
class Float32Column implements ColumnDecoder {
  private values: Float32Array;
  private bytes: Uint8Array;
  constructor(private readonly capacity: number) {
    this.values = new Float32Array(capacity);
    this.bytes = new Uint8Array(this.values.buffer);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    if (p + 4 > end) return INCOMPLETE;
    const out = this.bytes;
    const o = row * 4;
    out[o] = b[p + 3]!;
    out[o + 1] = b[p + 2]!;
    out[o + 2] = b[p + 1]!;
    out[o + 3] = b[p]!;
    return p + 4;
  }
  finish(length: number, nulls?: Nulls): Data {
    const data = makeData({
      type: new Float32(),
      length,
      data: this.values.subarray(0, length),
      ...nulls,
    });
    this.values = new Float32Array(this.capacity);
    this.bytes = new Uint8Array(this.values.buffer);
    return data;
  }
}

/** Variable-length values (bytes or UTF-8) in one buffer with offsets. */
class ByteRuns {
  offsets: Int32Array;
  bytes: Uint8Array;
  constructor(capacity: number) {
    this.offsets = new Int32Array(capacity + 1);
    this.bytes = new Uint8Array(Math.max(64, capacity * 8));
  }
  /** Appends `b[p, p + n)` as entry `i` (offsets[i] must be set). */
  append(i: number, b: Uint8Array, p: number, n: number): void {
    const start = this.offsets[i]!;
    this.bytes = roomFor(this.bytes, start, n);
    if (n < 16) for (let k = 0; k < n; k++) this.bytes[start + k] = b[p + k]!;
    else this.bytes.set(b.subarray(p, p + n), start);
    this.offsets[i + 1] = start + n;
  }
}

/**
 * Where the bytes of the length-prefixed run at `p` start (its length in
 * `lastRead.length`), or INCOMPLETE unless all of it is before `end`.
 */
function runStart(b: Uint8Array, p: number, end: number, urn: string): number {
  const at = readUVarInt32(b, p, end, urn);
  return at === INCOMPLETE || at + lastRead.length > end ? INCOMPLETE : at;
}

class BytesColumn implements ColumnDecoder {
  private runs: ByteRuns;
  constructor(private readonly capacity: number) {
    this.runs = new ByteRuns(capacity);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    const at = runStart(b, p, end, BYTES_URN);
    if (at !== INCOMPLETE) this.runs.append(row, b, at, lastRead.length);
    return at === INCOMPLETE ? INCOMPLETE : at + lastRead.length;
  }
  /** A null cell: an empty run, so the offsets stay monotonic. */
  skip(row: number): void {
    const offsets = this.runs.offsets;
    offsets[row + 1] = offsets[row]!;
  }
  finish(length: number, nulls?: Nulls): Data {
    const { offsets, bytes } = this.runs;
    this.runs = new ByteRuns(this.capacity);
    return makeData({
      type: new Binary(),
      length,
      valueOffsets: offsets.subarray(0, length + 1),
      data: bytes.subarray(0, offsets[length]),
      ...nulls,
    });
  }
}

/**
 * UTF-8 strings, dictionary-encoded: each distinct string's bytes are kept
 * once (byte-dictionary.ts), and rows hold Int32 indices into that
 * dictionary. The dictionary outlives a batch (it only grows: a batch's view
 * of it never changes), so repeated keys are looked up but not stored again;
 * past `maxEntries` distinct strings it starts over.
 */
class Utf8DictionaryColumn implements ColumnDecoder {
  private indices: Int32Array;
  private dictionary = new ByteDictionary();
  private readonly maxEntries: number;
  constructor(private readonly capacity: number) {
    this.indices = new Int32Array(capacity);
    this.maxEntries = Math.max(1024, 4 * capacity);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    const at = runStart(b, p, end, STRING_UTF8_URN);
    if (at === INCOMPLETE) return INCOMPLETE;
    this.indices[row] = this.dictionary.entryOf(b, at, lastRead.length);
    return at + lastRead.length;
  }
  finish(length: number, nulls?: Nulls): Data {
    const { offsets, bytes, size } = this.dictionary;
    const dictionary = makeData({
      type: new Utf8(),
      length: size,
      valueOffsets: offsets.subarray(0, size + 1),
      data: bytes.subarray(0, offsets[size]),
    });
    const data = makeData({
      type: utf8DictionaryType(),
      length,
      data: this.indices.subarray(0, length),
      dictionary: new Vector([dictionary]),
      ...nulls,
    });
    this.indices = new Int32Array(this.capacity);
    if (size > this.maxEntries) this.dictionary = new ByteDictionary();
    return data;
  }
}

/** The type of dictionary-encoded string columns. */
export function utf8DictionaryType(): Dictionary<Utf8, Int32> {
  return new Dictionary(new Utf8(), new Int32());
}

const toBigInt = (v: unknown): unknown => (typeof v === "bigint" ? v : BigInt(v as number));

/** The built-in column kinds: coder URN, column class, Arrow type, value conversion. */
const BUILT_IN: [
  string,
  new (capacity: number) => ColumnDecoder,
  () => DataType,
  typeof identity,
][] = [
  [DOUBLE_URN, DoubleColumn, () => new Float64(), identity],
  [VARINT_URN, VarIntColumn, () => new Int64(), toBigInt],
  [BOOL_URN, BoolColumn, () => new Bool(), identity],
  [BYTES_URN, BytesColumn, () => new Binary(), identity],
  [STRING_UTF8_URN, Utf8DictionaryColumn, utf8DictionaryType, identity],
  [BYTE_FIELD_URN, Int8Column, () => new Int8(), identity],
  [INT16_FIELD_URN, Int16Column, () => new Int16(), identity],
  [INT32_FIELD_URN, Int32VarIntColumn, () => new Int32(), identity],
  [FLOAT_FIELD_URN, Float32Column, () => new Float32(), identity],
];
for (const [urn, Column, arrowType, toArrow] of BUILT_IN)
  registerColumnKind(urn, { decoder: (capacity) => new Column(capacity), arrowType, toArrow });
