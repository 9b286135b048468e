/** `beam:coder:double:v1`: a big-endian IEEE 754 double. */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const DOUBLE_URN = "beam:coder:double:v1";

/** Numbers ↔ 8 bytes (NaN encodes as the canonical quiet NaN). */
export class DoubleCoder extends BaseCoder<number> {
  readonly urn = DOUBLE_URN;
  readonly minSize = 8;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: number, writer: ByteWriter): void {
    if (typeof value !== "number") throw encodeError(this, "a number", value);
    writer.writeDouble(value);
  }

  decodeFrom(reader: ByteReader): number {
    return reader.readDouble();
  }
}

registerCoder(DOUBLE_URN, ({ coderId }) => new DoubleCoder(coderId));
