/** `beam:coder:kv:v1`: the key (always nested) followed by the value (in the outer context given). */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";
import type { KV } from "./values.js";

export const KV_URN = "beam:coder:kv:v1";

/** Key-value pairs ↔ `{key, value}`. */
export class KvCoder<K, V> extends BaseCoder<KV<K, V>> {
  readonly urn = KV_URN;
  readonly minSize: number;
  readonly keyCoder: Coder<K>;
  readonly valueCoder: Coder<V>;

  constructor(keyCoder: Coder<K>, valueCoder: Coder<V>, coderId?: string) {
    super([keyCoder, valueCoder], coderId);
    this.keyCoder = keyCoder;
    this.valueCoder = valueCoder;
    this.minSize = keyCoder.minSize + valueCoder.minSize;
  }

  encodeTo(value: KV<K, V>, writer: ByteWriter, context: Context): void {
    if (typeof value !== "object" || value === null)
      throw encodeError(this, "a {key, value} object", value);
    this.keyCoder.encodeTo(value.key, writer, "nested");
    this.valueCoder.encodeTo(value.value, writer, context);
  }

  decodeFrom(reader: ByteReader, context: Context): KV<K, V> {
    const key = this.keyCoder.decodeFrom(reader, "nested");
    const value = this.valueCoder.decodeFrom(reader, context);
    return { key, value };
  }
}

registerCoder(KV_URN, ({ components, coderId }) => {
  const [k, v] = components;
  if (components.length !== 2 || !k || !v)
    throw new TypeError(`kv needs 2 components, got ${components.length}`);
  return new KvCoder(k, v, coderId);
});
