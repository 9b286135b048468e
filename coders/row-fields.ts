/**
 * Coders of schema field types (Beam's `SchemaCoderHelpers` / Python's
 * `row_coder`): BYTE 1 byte, INT16 2 bytes big-endian, INT32 and INT64
 * varints, FLOAT 4 bytes, DOUBLE 8 bytes, STRING, BOOLEAN, BYTES as their
 * standard coders; arrays and iterables as `beam:coder:iterable:v1`; maps as a
 * 4-byte count then keys and values; nested rows; logical types. Nullable
 * types inside containers use `beam:coder:nullable:v1`.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BoolCoder } from "./bool.js";
import { BytesCoder } from "./bytes.js";
import { BaseCoder, type Coder, type Context } from "./coder.js";
import { DoubleCoder } from "./double.js";
import { ByteUnderflow, decodeError, encodeError } from "./errors.js";
import { IterableCoder } from "./iterable.js";
import { logicalTypeCoder } from "./logical-types.js";
import { NullableCoder } from "./nullable.js";
import type { AtomicTypeName, RowFieldType, RowSchema } from "./row-schema.js";
import { StringUtf8Coder } from "./string-utf8.js";
import { VarIntCoder } from "./varint.js";

/** Builds the coder of a nested row (passed in to avoid an import cycle). */
export type NestedRowFactory = (schema: RowSchema, path: string) => Coder<unknown>;

/** Schema `BYTE`: a signed 8-bit integer in one byte. */
export class ByteFieldCoder extends BaseCoder<number> {
  readonly urn = "beam:schema:byte";
  readonly minSize = 1;
  encodeTo(v: number, w: ByteWriter): void {
    if (!Number.isInteger(v) || v < -128 || v > 255)
      throw encodeError(this, "an integer in -128..127", v);
    w.writeByte(v & 0xff);
  }
  decodeFrom(r: ByteReader): number {
    return (r.readByte() << 24) >> 24;
  }
}

/** Schema `INT16`: a signed 16-bit integer, big-endian (Beam's `BigEndianShortCoder`). */
export class Int16FieldCoder extends BaseCoder<number> {
  readonly urn = "beam:schema:int16";
  readonly minSize = 2;
  encodeTo(v: number, w: ByteWriter): void {
    if (!Number.isInteger(v) || v < -32768 || v > 32767)
      throw encodeError(this, "an integer in -32768..32767", v);
    w.writeInt16BE(v);
  }
  decodeFrom(r: ByteReader): number {
    return r.readInt16BE();
  }
}

/**
 * Schema `INT32`: a varint. Encodes as Java's `VarIntCoder` does (negative
 * values as their unsigned 32-bit pattern, 5 bytes); decodes that and the
 * sign-extended 10-byte form Python writes.
 */
export class Int32FieldCoder extends BaseCoder<number> {
  readonly urn = "beam:schema:int32";
  readonly minSize = 1;
  encodeTo(v: number, w: ByteWriter): void {
    if ((v | 0) !== v) throw encodeError(this, "an int32", v);
    w.writeUVarInt32(v >>> 0);
  }
  decodeFrom(r: ByteReader): number {
    return readInt32Varint(r, this);
  }
}

/** Reads an int32 varint in either the 5-byte (Java) or the 10-byte (Python) form. */
export function readInt32Varint(r: ByteReader, coder: Coder<unknown>): number {
  const at = r.pos;
  const v = r.readVarInt(coder);
  if (typeof v === "number" && v >= -0x80000000 && v <= 0xffffffff) return v | 0;
  throw decodeError(coder, at, "an int32 varint", String(v));
}

/** Schema `FLOAT`: a big-endian IEEE 754 single. */
export class FloatFieldCoder extends BaseCoder<number> {
  readonly urn = "beam:schema:float";
  readonly minSize = 4;
  encodeTo(v: number, w: ByteWriter): void {
    if (typeof v !== "number") throw encodeError(this, "a number", v);
    w.writeFloat(v);
  }
  decodeFrom(r: ByteReader): number {
    return r.readFloat();
  }
}

/** Schema maps ↔ `Map` (plain objects are accepted when encoding). */
export class MapFieldCoder<K, V> extends BaseCoder<Map<K, V>> {
  readonly urn = "beam:schema:map";
  readonly minSize = 4;
  constructor(
    readonly keyCoder: Coder<K>,
    readonly valueCoder: Coder<V>,
    coderId?: string,
  ) {
    super([keyCoder, valueCoder], coderId);
  }

  encodeTo(v: Map<K, V> | Record<string, V>, w: ByteWriter, context: Context): void {
    if (typeof v !== "object" || v === null) throw encodeError(this, "a Map", v);
    const entries: [K, V][] = v instanceof Map ? [...v] : (Object.entries(v) as [K, V][]);
    w.writeInt32BE(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const [key, value] = entries[i]!;
      this.keyCoder.encodeTo(key, w, "nested");
      this.valueCoder.encodeTo(value, w, i === entries.length - 1 ? context : "nested");
    }
  }

  decodeFrom(r: ByteReader, context: Context): Map<K, V> {
    const at = r.pos;
    const n = r.readInt32BE();
    if (n < 0) throw decodeError(this, at, "a map size >= 0", String(n));
    const min = this.keyCoder.minSize + this.valueCoder.minSize;
    if (min === 0) r.chargeZeroSize(this, n);
    else if (n * min > r.end - r.pos) throw new ByteUnderflow(r.pos + n * min, r.pos);
    const out = new Map<K, V>();
    for (let i = 0; i < n; i++) {
      const key = this.keyCoder.decodeFrom(r, "nested");
      out.set(key, this.valueCoder.decodeFrom(r, i === n - 1 ? context : "nested"));
    }
    return out;
  }
}

function atomicCoder(atomic: AtomicTypeName, id: string): Coder<unknown> {
  switch (atomic) {
    case "BYTE":
      return new ByteFieldCoder([], id);
    case "INT16":
      return new Int16FieldCoder([], id);
    case "INT32":
      return new Int32FieldCoder([], id);
    case "INT64":
      return new VarIntCoder(id);
    case "FLOAT":
      return new FloatFieldCoder([], id);
    case "DOUBLE":
      return new DoubleCoder(id);
    case "STRING":
      return new StringUtf8Coder(id);
    case "BOOLEAN":
      return new BoolCoder(id);
    case "BYTES":
      return new BytesCoder(id);
  }
}

/** The coder of a field type, with a nullable wrapper when the type is nullable. */
export function fieldCoder(
  type: RowFieldType,
  path: string,
  nestedRow: NestedRowFactory,
): Coder<unknown> {
  const coder = nonNullFieldCoder(type, path, nestedRow);
  return type.nullable ? new NullableCoder(coder, path) : coder;
}

/** The coder of a field type's non-null values (row fields: nulls are in the row's bitmap). */
export function nonNullFieldCoder(
  type: RowFieldType,
  path: string,
  nestedRow: NestedRowFactory,
): Coder<unknown> {
  switch (type.kind) {
    case "atomic":
      return atomicCoder(type.atomic, path);
    case "array":
    case "iterable":
      return new IterableCoder(fieldCoder(type.element, `${path}[]`, nestedRow), path);
    case "map":
      return new MapFieldCoder(
        fieldCoder(type.key, `${path}{key}`, nestedRow),
        fieldCoder(type.value, `${path}{value}`, nestedRow),
        path,
      );
    case "row":
      return nestedRow(type.schema, path);
    case "logical": {
      const rep = type.representation;
      const repCoder = rep === undefined ? undefined : fieldCoder(rep, path, nestedRow);
      return logicalTypeCoder(type.urn, repCoder, path);
    }
    default:
      throw new TypeError(
        `unsupported field type ${JSON.stringify((type as { kind?: unknown }).kind)}`,
      );
  }
}
