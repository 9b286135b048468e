/**
 * `beam:coder:windowed_value:v1`: timestamp (8 bytes, sign bit flipped),
 * windows (4-byte count + each window nested), pane info, then the value in
 * the given context. Components: value coder, window coder.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder, type Context } from "./coder.js";
import { encodeError } from "./errors.js";
import { readPane, writePane } from "./pane-info.js";
import { registerCoder } from "./registry.js";
import type { BoundedWindow, WindowedValue } from "./values.js";
import { WindowsCodec } from "./windows.js";

export const WINDOWED_VALUE_URN = "beam:coder:windowed_value:v1";

/** Windowed values ↔ `{value, timestamp, windows, pane}` (timestamps may be given as numbers). */
export class WindowedValueCoder<T> extends BaseCoder<WindowedValue<T>> {
  readonly urn = WINDOWED_VALUE_URN;
  readonly minSize: number;
  readonly valueCoder: Coder<T>;
  readonly windowCoder: Coder<BoundedWindow>;
  private readonly windows: WindowsCodec;

  constructor(valueCoder: Coder<T>, windowCoder: Coder<BoundedWindow>, coderId?: string) {
    super([valueCoder, windowCoder], coderId);
    this.valueCoder = valueCoder;
    this.windowCoder = windowCoder;
    this.windows = new WindowsCodec(windowCoder, this);
    this.minSize = 8 + 4 + 1 + valueCoder.minSize;
  }

  encodeTo(wv: WindowedValue<T>, writer: ByteWriter, context: Context): void {
    if (typeof wv !== "object" || wv === null)
      throw encodeError(this, "a {value, timestamp, windows, pane} object", wv);
    const ts = wv.timestamp;
    if (typeof ts !== "bigint" && typeof ts !== "number")
      throw encodeError(this, "a bigint timestamp", ts);
    writer.writeTimestamp(ts);
    this.windows.write(writer, wv.windows);
    writePane(writer, wv.pane, this);
    this.valueCoder.encodeTo(wv.value, writer, context);
  }

  decodeFrom(reader: ByteReader, context: Context): WindowedValue<T> {
    const timestamp = reader.readTimestamp();
    const windows = this.windows.read(reader);
    const pane = readPane(reader, this);
    const value = this.valueCoder.decodeFrom(reader, context);
    return { value, timestamp, windows, pane };
  }
}

registerCoder(WINDOWED_VALUE_URN, ({ components, coderId }) => {
  const [v, w] = components;
  if (components.length !== 2 || !v || !w)
    throw new TypeError(`windowed_value needs 2 components, got ${components.length}`);
  return new WindowedValueCoder(v, w as Coder<BoundedWindow>, coderId);
});
