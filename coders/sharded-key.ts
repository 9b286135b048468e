/** `beam:coder:sharded_key:v1`: the shard id as nested bytes, then the key (nested, in both contexts). */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";
import type { ShardedKey } from "./values.js";

export const SHARDED_KEY_URN = "beam:coder:sharded_key:v1";

/** Sharded keys ↔ `{shardId: Uint8Array, key}`. */
export class ShardedKeyCoder<K> extends BaseCoder<ShardedKey<K>> {
  readonly urn = SHARDED_KEY_URN;
  readonly minSize: number;
  readonly keyCoder: Coder<K>;

  constructor(keyCoder: Coder<K>, coderId?: string) {
    super([keyCoder], coderId);
    this.keyCoder = keyCoder;
    this.minSize = 1 + keyCoder.minSize;
  }

  encodeTo(value: ShardedKey<K>, writer: ByteWriter): void {
    if (typeof value !== "object" || value === null || !(value.shardId instanceof Uint8Array)) {
      throw encodeError(this, "a {shardId: Uint8Array, key} object", value);
    }
    writer.writeLengthPrefixed(value.shardId);
    this.keyCoder.encodeTo(value.key, writer, "nested");
  }

  decodeFrom(reader: ByteReader): ShardedKey<K> {
    const shardId = reader.readLengthPrefixed(this);
    const key = this.keyCoder.decodeFrom(reader, "nested");
    return { shardId, key };
  }
}

registerCoder(SHARDED_KEY_URN, ({ components, coderId }) => {
  const [c] = components;
  if (components.length !== 1 || !c)
    throw new TypeError(`sharded_key needs 1 component, got ${components.length}`);
  return new ShardedKeyCoder(c, coderId);
});
