/**
 * `beam:coder:length_prefix:v1`: the component's outer-context encoding,
 * prefixed with its byte length as a varint (the same in both contexts).
 * Runners wrap the coders they do not know in it; such a component is an
 * opaque coder whose values are the raw bytes.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder } from "./coder.js";
import { ByteUnderflow, decodeError } from "./errors.js";
import { LENGTH_PREFIX_URN, registerCoder } from "./registry.js";

export { LENGTH_PREFIX_URN };

/** Length-prefixes the value's outer encoding. */
export class LengthPrefixCoder<T> extends BaseCoder<T> {
  readonly urn = LENGTH_PREFIX_URN;
  readonly minSize = 1;
  readonly valueCoder: Coder<T>;

  constructor(valueCoder: Coder<T>, coderId?: string) {
    super([valueCoder], coderId);
    this.valueCoder = valueCoder;
  }

  encodeTo(value: T, writer: ByteWriter): void {
    const mark = writer.beginLengthPrefix();
    this.valueCoder.encodeTo(value, writer, "outer");
    writer.endLengthPrefix(mark);
  }

  decodeFrom(reader: ByteReader): T {
    const n = reader.readLength(this);
    reader.require(n);
    const limit = reader.pos + n;
    const end = reader.end;
    reader.end = limit;
    let value: T;
    try {
      value = this.valueCoder.decodeFrom(reader, "outer");
    } catch (err) {
      if (err instanceof ByteUnderflow) {
        throw decodeError(
          this,
          err.offset,
          `a value within its length prefix of ${n} bytes`,
          "a longer value",
        );
      }
      throw err;
    } finally {
      reader.end = end;
    }
    if (reader.pos !== limit) {
      throw decodeError(
        this,
        reader.pos,
        `a value of exactly ${n} bytes`,
        `${limit - reader.pos} unread bytes`,
      );
    }
    return value;
  }
}

registerCoder(LENGTH_PREFIX_URN, ({ components, coderId }) => {
  const [c] = components;
  if (components.length !== 1 || !c)
    throw new TypeError(`length_prefix needs 1 component, got ${components.length}`);
  return new LengthPrefixCoder(c, coderId);
});
