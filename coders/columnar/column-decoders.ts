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
  Float64,
  Int32,
  Int64,
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
import { INCOMPLETE, lastRead, readUVarInt32, readVarInt64Halves } from "./varint-read.js";

export { INCOMPLETE };

export interface ColumnDecoder {
  /** Reads one value into `row` from `b[p, end)`; the position after it, or INCOMPLETE. */
  read(b: Uint8Array, p: number, end: number, row: number): number;
  /** Rows `[0, length)` as Arrow data; the decoder then starts a fresh column. */
  finish(length: number): Data;
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
  finish(length: number): Data {
    const data = makeData({ type: new Float64(), length, data: this.values.subarray(0, length) });
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
  finish(length: number): Data {
    const values = new BigInt64Array(this.halves.buffer, 0, length);
    this.halves = new Int32Array(this.capacity * 2);
    return makeData({ type: new Int64(), length, data: values });
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
  finish(length: number): Data {
    const bits = new Uint8Array((length + 7) >> 3);
    const values = this.values;
    for (let i = 0; i < length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
    this.values = new Uint8Array(this.capacity);
    return makeData({ type: new Bool(), length, data: bits });
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
    if (start + n > this.bytes.length) {
      let cap = this.bytes.length * 2;
      while (cap < start + n) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.bytes.subarray(0, start));
      this.bytes = grown;
    }
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
  finish(length: number): Data {
    const { offsets, bytes } = this.runs;
    this.runs = new ByteRuns(this.capacity);
    return makeData({
      type: new Binary(),
      length,
      valueOffsets: offsets.subarray(0, length + 1),
      data: bytes.subarray(0, offsets[length]),
    });
  }
}

/**
 * UTF-8 strings, dictionary-encoded: each distinct string's bytes are kept
 * once (found through an open-addressing hash table over the raw bytes, each
 * entry's hash kept to skip mismatches), and rows hold Int32 indices into
 * that dictionary. The dictionary outlives a batch (it only grows: a batch's
 * view of it never changes), so repeated keys are hashed but not stored
 * again; past `maxEntries` distinct strings it starts over.
 */
class Utf8DictionaryColumn implements ColumnDecoder {
  private indices: Int32Array;
  private entries = new ByteRuns(64);
  private hashes = new Int32Array(64);
  private size = 0;
  private slots = new Int32Array(256);
  private readonly maxEntries: number;
  constructor(private readonly capacity: number) {
    this.indices = new Int32Array(capacity);
    this.maxEntries = Math.max(1024, 4 * capacity);
  }
  read(b: Uint8Array, p: number, end: number, row: number): number {
    const at = runStart(b, p, end, STRING_UTF8_URN);
    if (at !== INCOMPLETE) this.indices[row] = this.entryOf(b, at, lastRead.length);
    return at === INCOMPLETE ? INCOMPLETE : at + lastRead.length;
  }
  private entryOf(b: Uint8Array, p: number, n: number): number {
    let h = 0x811c9dc5;
    for (let k = 0; k < n; k++) h = Math.imul(h ^ b[p + k]!, 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x45d9f3b);
    h ^= h >>> 16;
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = slots.length - 1;
    const { offsets, bytes } = this.entries;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = slots[s]! - 1;
      if (e < 0) break;
      if (hashes[e] !== h) continue;
      const start = offsets[e]!;
      if (offsets[e + 1]! - start !== n) continue;
      let k = 0;
      while (k < n && bytes[start + k] === b[p + k]) k++;
      if (k === n) return e;
    }
    return this.insert(b, p, n, h);
  }
  private insert(b: Uint8Array, p: number, n: number, h: number): number {
    const e = this.size++;
    if (e + 1 >= this.entries.offsets.length) {
      const offsets = new Int32Array(this.entries.offsets.length * 2);
      offsets.set(this.entries.offsets);
      this.entries.offsets = offsets;
      const hashes = new Int32Array(offsets.length);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.hashes[e] = h;
    this.entries.append(e, b, p, n);
    if (this.size * 4 > this.slots.length) this.rehash();
    else this.place(h, e);
    return e;
  }
  private place(h: number, e: number): void {
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = e + 1;
  }
  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let e = 0; e < this.size; e++) this.place(this.hashes[e]!, e);
  }
  finish(length: number): Data {
    const { offsets, bytes } = this.entries;
    const dictionary = makeData({
      type: new Utf8(),
      length: this.size,
      valueOffsets: offsets.subarray(0, this.size + 1),
      data: bytes.subarray(0, offsets[this.size]),
    });
    const data = makeData({
      type: utf8DictionaryType(),
      length,
      data: this.indices.subarray(0, length),
      dictionary: new Vector([dictionary]),
    });
    this.indices = new Int32Array(this.capacity);
    if (this.size > this.maxEntries) {
      this.entries = new ByteRuns(64);
      this.hashes = new Int32Array(64);
      this.size = 0;
      this.slots = new Int32Array(256);
    }
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
];
for (const [urn, Column, arrowType, toArrow] of BUILT_IN)
  registerColumnKind(urn, { decoder: (capacity) => new Column(capacity), arrowType, toArrow });
