/**
 * `beam:coder:row:v1`: a row of a schema (the payload, a `Schema` proto).
 * Encoding: the field count (varint); a null bitmap as length-prefixed bytes
 * (bit i of byte i/8 set when field i is null; empty when nothing is null);
 * then each non-null field, nested, in encoding-position order. The same in
 * both contexts.
 *
 * Values are plain objects by field name; null fields are `null`. Rows
 * encoded with fewer fields than the schema (an older schema) decode with the
 * missing fields `null`; rows with more fields than the schema are a
 * `CoderError` (Java drops them unread, which would corrupt a stream).
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder } from "./coder.js";
import { buildError, decodeError, encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";
import { nonNullFieldCoder } from "./row-fields.js";
import { parseSchemaProto, type RowSchema } from "./row-schema.js";

export const ROW_URN = "beam:coder:row:v1";

/** A row value: field name → value (`null` for null fields). */
export type Row = Record<string, unknown>;

/** Rows of one schema ↔ plain objects. */
export class RowCoder extends BaseCoder<Row> {
  readonly urn = ROW_URN;
  readonly minSize = 2;
  readonly schema: RowSchema;
  private readonly names: string[];
  /** The (non-null) coder of each field, by field index. */
  readonly fieldCoders: readonly Coder<unknown>[];
  private readonly nullable: boolean[];
  /** Field indexes in encoding order. */
  readonly encodingOrder: readonly number[];
  private readonly hasNullable: boolean;
  private readonly bitmapBytes: number;
  private readonly identityOrder: boolean;

  /** Builds a row coder for `schema`; `coderId` names it in errors. */
  constructor(schema: RowSchema, coderId?: string) {
    super([], coderId);
    this.schema = schema;
    const fields = schema.fields;
    const prefix = coderId === undefined ? "" : `${coderId}:`;
    this.names = fields.map((f) => f.name);
    if (new Set(this.names).size !== this.names.length)
      throw new TypeError("schema has duplicate field names");
    this.fieldCoders = fields.map((f) =>
      nonNullFieldCoder(f.type, `${prefix}${f.name}`, (s, path) => new RowCoder(s, path)),
    );
    this.nullable = fields.map((f) => f.type.nullable === true);
    this.hasNullable = this.nullable.some((n) => n);
    this.bitmapBytes = (fields.length + 7) >> 3;
    this.encodingOrder = fields.map((_, i) => i);
    if (schema.encodingPositionsSet) {
      const order: number[] = new Array<number>(fields.length);
      fields.forEach((f, i) => {
        const p = f.encodingPosition ?? -1;
        if (!Number.isInteger(p) || p < 0 || p >= fields.length || order[p] !== undefined) {
          throw new TypeError("encoding positions must be a permutation of 0..fields-1");
        }
        order[p] = i;
      });
      this.encodingOrder = order;
    }
    this.identityOrder = this.encodingOrder.every((f, k) => f === k);
  }

  encodeTo(row: Row, w: ByteWriter): void {
    if (typeof row !== "object" || row === null) throw encodeError(this, "a row object", row);
    const names = this.names;
    const n = names.length;
    w.writeUVarInt32(n);
    let anyNull = false;
    for (let i = 0; i < n; i++) {
      const v = row[names[i]!];
      if (v === null || v === undefined) {
        if (!this.nullable[i])
          throw encodeError(this, `a value for non-nullable field ${JSON.stringify(names[i])}`, v);
        anyNull = true;
      }
    }
    if (!anyNull) {
      w.writeByte(0);
    } else {
      const nb = this.bitmapBytes;
      w.writeUVarInt32(nb);
      for (let byte = 0; byte < nb; byte++) {
        let bits = 0;
        for (let bit = 0; bit < 8; bit++) {
          const i = byte * 8 + bit;
          if (i < n && (row[names[i]!] === null || row[names[i]!] === undefined)) bits |= 1 << bit;
        }
        w.writeByte(bits);
      }
    }
    const order = this.encodingOrder;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const v = row[names[i]!];
      if (v !== null && v !== undefined) this.fieldCoders[i]!.encodeTo(v, w, "nested");
    }
  }

  decodeFrom(r: ByteReader): Row {
    const at = r.pos;
    const count = r.readLength(this, "field count");
    const n = this.names.length;
    if (count > n)
      throw decodeError(this, at, `at most ${n} fields (the schema's)`, `${count} fields`);
    const nb = r.readLength(this, "null bitmap length");
    const bitmap = r.pos;
    r.skip(nb);
    const buf = r.buf;
    const names = this.names;
    const coders = this.fieldCoders;
    const row: Row = {};
    if (this.identityOrder) {
      for (let i = 0; i < n; i++) {
        const isNull =
          i >= count || (i >> 3 < nb && ((buf[bitmap + (i >> 3)]! >> (i & 7)) & 1) === 1);
        row[names[i]!] = isNull ? null : coders[i]!.decodeFrom(r, "nested");
      }
      return row;
    }
    const order = this.encodingOrder;
    const values: unknown[] = new Array<unknown>(n).fill(null);
    for (let k = 0; k < count; k++) {
      const i = order[k]!;
      if (i >> 3 < nb && ((buf[bitmap + (i >> 3)]! >> (i & 7)) & 1) === 1) continue;
      values[i] = coders[i]!.decodeFrom(r, "nested");
    }
    for (let i = 0; i < n; i++) row[names[i]!] = values[i];
    return row;
  }
}

registerCoder(ROW_URN, ({ payload, coderId }) => {
  let schema: RowSchema;
  try {
    schema = parseSchemaProto(payload);
  } catch (err) {
    throw buildError(
      ROW_URN,
      coderId,
      "a Schema proto payload",
      err instanceof Error ? err.message : String(err),
      err,
    );
  }
  return new RowCoder(schema, coderId);
});
