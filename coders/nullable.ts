/** `beam:coder:nullable:v1`: a marker byte (0 = null, 1 = present) then the value in the given context. */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder, type Context } from "./coder.js";
import { decodeError } from "./errors.js";
import { registerCoder } from "./registry.js";

export const NULLABLE_URN = "beam:coder:nullable:v1";

/** `null` (or `undefined` when encoding) ↔ 0x00; anything else ↔ 0x01 + the value. */
export class NullableCoder<T> extends BaseCoder<T | null> {
  readonly urn = NULLABLE_URN;
  readonly minSize = 1;
  readonly valueCoder: Coder<T>;

  constructor(valueCoder: Coder<T>, coderId?: string) {
    super([valueCoder], coderId);
    this.valueCoder = valueCoder;
  }

  encodeTo(value: T | null, writer: ByteWriter, context: Context): void {
    if (value === null || value === undefined) {
      writer.writeByte(0);
      return;
    }
    writer.writeByte(1);
    this.valueCoder.encodeTo(value, writer, context);
  }

  decodeFrom(reader: ByteReader, context: Context): T | null {
    const marker = reader.readByte();
    if (marker === 0) return null;
    if (marker !== 1)
      throw decodeError(this, reader.pos - 1, "a null marker 0 or 1", `0x${marker.toString(16)}`);
    return this.valueCoder.decodeFrom(reader, context);
  }
}

registerCoder(NULLABLE_URN, ({ components, coderId }) => {
  const [c] = components;
  if (components.length !== 1 || !c)
    throw new TypeError(`nullable needs 1 component, got ${components.length}`);
  return new NullableCoder(c, coderId);
});
