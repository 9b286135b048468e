/**
 * `beam:coder:custom_window:v1` (Java's `TimestampPrefixingWindowCoder`): the
 * window's max timestamp (8 bytes, sign bit flipped) then the window, nested
 * (the same in both contexts). The component is usually a length prefix
 * around a window coder Firefly does not know.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder } from "./coder.js";
import { encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";
import type { CustomWindow } from "./values.js";

export const CUSTOM_WINDOW_URN = "beam:coder:custom_window:v1";

/**
 * Custom windows ↔ `{maxTimestamp, window}`. Encoding also takes a window
 * object with its own `maxTimestamp` (and no `window` field).
 */
export class CustomWindowCoder<W> extends BaseCoder<CustomWindow<W>> {
  readonly urn = CUSTOM_WINDOW_URN;
  readonly minSize: number;
  readonly windowCoder: Coder<W>;

  constructor(windowCoder: Coder<W>, coderId?: string) {
    super([windowCoder], coderId);
    this.windowCoder = windowCoder;
    this.minSize = 8 + windowCoder.minSize;
  }

  encodeTo(value: CustomWindow<W>, writer: ByteWriter): void {
    if (typeof value !== "object" || value === null)
      throw encodeError(this, "a {maxTimestamp, window} object", value);
    const ts = value.maxTimestamp;
    if (typeof ts !== "bigint" && typeof ts !== "number")
      throw encodeError(this, "a bigint maxTimestamp", ts);
    writer.writeTimestamp(ts);
    const window = "window" in value ? value.window : (value as unknown as W);
    this.windowCoder.encodeTo(window, writer, "nested");
  }

  decodeFrom(reader: ByteReader): CustomWindow<W> {
    const maxTimestamp = reader.readTimestamp();
    const window = this.windowCoder.decodeFrom(reader, "nested");
    return { maxTimestamp, window };
  }
}

registerCoder(CUSTOM_WINDOW_URN, ({ components, coderId }) => {
  const [w] = components;
  if (components.length !== 1 || !w)
    throw new TypeError(`custom_window needs 1 component, got ${components.length}`);
  return new CustomWindowCoder(w, coderId);
});
