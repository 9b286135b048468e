/**
 * The coder of a URN Firefly does not know, inside `beam:coder:length_prefix:v1`:
 * its values are the raw encoded bytes, passed through unchanged.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";

/** Passes the bytes of an unknown coder through (values are `Uint8Array`). */
export class OpaqueCoder extends BaseCoder<Uint8Array> {
  readonly urn: string;
  readonly minSize = 1;

  constructor(urn: string, coderId?: string) {
    super([], coderId);
    this.urn = urn;
  }

  encodeTo(value: Uint8Array, writer: ByteWriter, context: Context): void {
    if (!(value instanceof Uint8Array))
      throw encodeError(this, "the raw bytes (a Uint8Array) of an opaque value", value);
    if (context === "nested") writer.writeUVarInt32(value.length);
    writer.writeBytes(value);
  }

  decodeFrom(reader: ByteReader, context: Context): Uint8Array {
    const n = context === "nested" ? reader.readLength(this) : reader.end - reader.pos;
    return reader.readBytes(n);
  }
}
