/**
 * `beam:coder:timer:v1` (Java's `Timer.Coder`): user key, dynamic timer tag
 * (string), windows, clear bit; a set timer then has its fire timestamp, hold
 * timestamp and pane. Every part is nested, in both contexts.
 * Components: key coder, window coder.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder } from "./coder.js";
import { decodeError, encodeError } from "./errors.js";
import { readPane, writePane } from "./pane-info.js";
import { registerCoder } from "./registry.js";
import type { BoundedWindow, Timer } from "./values.js";
import { WindowsCodec } from "./windows.js";

export const TIMER_URN = "beam:coder:timer:v1";

/** Timers ↔ {@link Timer} objects (cleared timers have no timestamps and no pane). */
export class TimerCoder<K> extends BaseCoder<Timer<K>> {
  readonly urn = TIMER_URN;
  readonly minSize: number;
  readonly keyCoder: Coder<K>;
  readonly windowCoder: Coder<BoundedWindow>;
  private readonly windows: WindowsCodec;

  constructor(keyCoder: Coder<K>, windowCoder: Coder<BoundedWindow>, coderId?: string) {
    super([keyCoder, windowCoder], coderId);
    this.keyCoder = keyCoder;
    this.windowCoder = windowCoder;
    this.windows = new WindowsCodec(windowCoder, this);
    this.minSize = keyCoder.minSize + 1 + 4 + 1;
  }

  encodeTo(timer: Timer<K>, writer: ByteWriter): void {
    if (typeof timer !== "object" || timer === null)
      throw encodeError(this, "a timer object", timer);
    if (typeof timer.dynamicTimerTag !== "string")
      throw encodeError(this, "a string dynamicTimerTag", timer.dynamicTimerTag);
    this.keyCoder.encodeTo(timer.userKey, writer, "nested");
    writer.writeUtf8LengthPrefixed(timer.dynamicTimerTag);
    this.windows.write(writer, timer.windows);
    if (timer.clearBit) {
      writer.writeByte(1);
      return;
    }
    if (timer.clearBit !== false)
      throw encodeError(this, "a boolean clearBit", (timer as { clearBit: unknown }).clearBit);
    const { fireTimestamp, holdTimestamp } = timer;
    if (typeof fireTimestamp !== "bigint" && typeof fireTimestamp !== "number") {
      throw encodeError(this, "a bigint fireTimestamp", fireTimestamp);
    }
    if (typeof holdTimestamp !== "bigint" && typeof holdTimestamp !== "number") {
      throw encodeError(this, "a bigint holdTimestamp", holdTimestamp);
    }
    writer.writeByte(0);
    writer.writeTimestamp(fireTimestamp);
    writer.writeTimestamp(holdTimestamp);
    writePane(writer, timer.pane, this);
  }

  decodeFrom(reader: ByteReader): Timer<K> {
    const userKey = this.keyCoder.decodeFrom(reader, "nested");
    const tagLength = reader.readLength(this, "timer tag length");
    const dynamicTimerTag = reader.readUtf8(tagLength);
    const windows = this.windows.read(reader);
    const clear = reader.readByte();
    if (clear === 1) return { userKey, dynamicTimerTag, windows, clearBit: true };
    if (clear !== 0)
      throw decodeError(this, reader.pos - 1, "a clear bit 0 or 1", `0x${clear.toString(16)}`);
    const fireTimestamp = reader.readTimestamp();
    const holdTimestamp = reader.readTimestamp();
    const pane = readPane(reader, this);
    return {
      userKey,
      dynamicTimerTag,
      windows,
      clearBit: false,
      fireTimestamp,
      holdTimestamp,
      pane,
    };
  }
}

registerCoder(TIMER_URN, ({ components, coderId }) => {
  const [k, w] = components;
  if (components.length !== 2 || !k || !w)
    throw new TypeError(`timer needs 2 components, got ${components.length}`);
  return new TimerCoder(k, w as Coder<BoundedWindow>, coderId);
});
