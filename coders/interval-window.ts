/**
 * `beam:coder:interval_window:v1`: the end as a timestamp (8 bytes, sign bit
 * flipped) followed by the span `end - start` in millis as a varint.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder } from "./coder.js";
import { encodeError } from "./errors.js";
import { isInt64 } from "./int64.js";
import { registerCoder } from "./registry.js";
import type { IntervalWindow } from "./values.js";

export const INTERVAL_WINDOW_URN = "beam:coder:interval_window:v1";

function asBigInt(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  return undefined;
}

/** Interval windows ↔ `{start, end, maxTimestamp}` (bigint millis, `maxTimestamp = end - 1`). */
export class IntervalWindowCoder extends BaseCoder<IntervalWindow> {
  readonly urn = INTERVAL_WINDOW_URN;
  readonly minSize = 9;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: IntervalWindow, writer: ByteWriter): void {
    const start = asBigInt(value?.start);
    const end = asBigInt(value?.end);
    if (start === undefined || end === undefined) {
      throw encodeError(this, "an interval window {start, end} of bigint millis", value);
    }
    const span = end - start;
    if (!isInt64(end) || !isInt64(span)) {
      throw encodeError(this, "an interval window whose end and span fit int64", value);
    }
    writer.writeTimestamp(end);
    writer.writeVarInt(span);
  }

  decodeFrom(reader: ByteReader): IntervalWindow {
    const end = reader.readTimestamp();
    const span = reader.readVarInt(this);
    return { start: end - BigInt(span), end, maxTimestamp: end - 1n };
  }
}

registerCoder(INTERVAL_WINDOW_URN, ({ coderId }) => new IntervalWindowCoder(coderId));
