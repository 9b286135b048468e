/**
 * `firefly:coder:offset_range:v1`: the built-in restriction of splittable
 * DoFns, a half-open int64 range `{start, stop}`, as two varints (start,
 * stop). Decodes to bigints always (offsets are exact over int64); encodes
 * bigints or safe integers. Other SDKs and runners see an unknown coder and
 * pass its bytes through length-prefixed, as for any SDK-specific coder.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { BaseCoder } from "./coder.js";
import { decodeError, encodeError } from "./errors.js";
import { isInt64 } from "./int64.js";
import { registerCoder } from "./registry.js";

export const OFFSET_RANGE_URN = "firefly:coder:offset_range:v1";

export interface OffsetRangeValue {
  readonly start: bigint;
  readonly stop: bigint;
}

const asInt64 = (v: unknown): bigint | undefined =>
  typeof v === "bigint"
    ? isInt64(v)
      ? v
      : undefined
    : typeof v === "number" && Number.isSafeInteger(v)
      ? BigInt(v)
      : undefined;

export class OffsetRangeCoder extends BaseCoder<OffsetRangeValue> {
  readonly urn = OFFSET_RANGE_URN;
  readonly minSize = 2;

  constructor(coderId?: string) {
    super([], coderId);
  }

  encodeTo(value: OffsetRangeValue, writer: ByteWriter): void {
    const start = asInt64((value as { start?: unknown } | null)?.start);
    const stop = asInt64((value as { stop?: unknown } | null)?.stop);
    if (start === undefined || stop === undefined || start > stop)
      throw encodeError(this, "an offset range {start, stop} of int64s with start ≤ stop", value);
    writer.writeVarInt(start);
    writer.writeVarInt(stop);
  }

  decodeFrom(reader: ByteReader): OffsetRangeValue {
    const at = reader.pos;
    const start = BigInt(reader.readVarInt(this));
    const stop = BigInt(reader.readVarInt(this));
    if (start > stop)
      throw decodeError(this, at, "an offset range with start ≤ stop", `[${start}, ${stop})`);
    return { start, stop };
  }
}

registerCoder(OFFSET_RANGE_URN, ({ coderId }) => new OffsetRangeCoder(coderId));
