/** `beam:coder:kv:v1`: the key (always nested) followed by the value (in the outer context given). */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import type { DecodeGen, EncodeGen, InlineCoder } from "./codegen.js";
import { BaseCoder, type Coder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";
import type { KV } from "./values.js";

export const KV_URN = "beam:coder:kv:v1";

/** Key-value pairs ↔ `{key, value}`. */
export class KvCoder<K, V> extends BaseCoder<KV<K, V>> implements InlineCoder<KV<K, V>> {
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

  emitDecode(g: DecodeGen, context: Context): string {
    const key = g.decode(this.keyCoder, "nested");
    const value = g.decode(this.valueCoder, context);
    const kv = g.local("kv");
    g.line(`const ${kv} = { key: ${key}, value: ${value} };`);
    return kv;
  }

  emitEncode(g: EncodeGen, kv: string, context: Context): void {
    g.branch(
      `typeof ${kv} === "object" && ${kv} !== null`,
      () => {
        const key = g.local("k");
        g.line(`const ${key} = ${kv}.key;`);
        g.encode(this.keyCoder, key, "nested");
        const value = g.local("v");
        g.line(`const ${value} = ${kv}.value;`);
        g.encode(this.valueCoder, value, context);
      },
      () => g.interpret(this, kv, context),
    );
  }
}

registerCoder(KV_URN, ({ components, coderId }) => {
  const [k, v] = components;
  if (components.length !== 2 || !k || !v)
    throw new TypeError(`kv needs 2 components, got ${components.length}`);
  return new KvCoder(k, v, coderId);
});
