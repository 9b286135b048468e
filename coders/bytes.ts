/** `beam:coder:bytes:v1`: a byte array; nested, it is prefixed with its length as a varint. */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const BYTES_URN = "beam:coder:bytes:v1";

/** Bytes ↔ `Uint8Array` (decoded values are copies, never views of the input). */
export class BytesCoder extends BaseCoder<Uint8Array> {
  readonly urn = BYTES_URN;
  readonly minSize = 1;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: Uint8Array, writer: ByteWriter, context: Context): void {
    if (!(value instanceof Uint8Array)) throw encodeError(this, "a Uint8Array", value);
    if (context === "nested") writer.writeUVarInt32(value.length);
    writer.writeBytes(value);
  }

  decodeFrom(reader: ByteReader, context: Context): Uint8Array {
    const n = context === "nested" ? reader.readLength(this) : reader.end - reader.pos;
    return reader.readBytes(n);
  }
}

registerCoder(BYTES_URN, ({ coderId }) => new BytesCoder(coderId));
