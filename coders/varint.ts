/** `beam:coder:varint:v1`: an int64 as a varint (two's complement: -1 is ten bytes). */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const VARINT_URN = "beam:coder:varint:v1";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Integers ↔ varint: decodes to a `number` when safe, else a `bigint`; encodes either. */
export class VarIntCoder extends BaseCoder<number | bigint> {
  readonly urn = VARINT_URN;
  readonly minSize = 1;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: number | bigint, writer: ByteWriter): void {
    if (typeof value === "number") {
      if (value >>> 0 === value) {
        writer.writeUVarInt32(value);
        return;
      }
      if (value >>> 0 !== value && !Number.isSafeInteger(value)) {
        throw encodeError(this, "a safe integer or an int64 bigint", value);
      }
    } else if (typeof value !== "bigint" || value < INT64_MIN || value > INT64_MAX) {
      throw encodeError(this, "a safe integer or an int64 bigint", value);
    }
    writer.writeVarInt(value);
  }

  decodeFrom(reader: ByteReader): number | bigint {
    return reader.readVarInt(this);
  }
}

registerCoder(VARINT_URN, ({ coderId }) => new VarIntCoder(coderId));
