/**
 * Pane info as Beam's `PaneInfoCoder` writes it: one byte with isFirst (bit
 * 0), isLast (bit 1), the timing (bits 2-3: EARLY, ON_TIME, LATE, UNKNOWN)
 * and an encoding tag (high nibble): 0 = no indices (index and on-time index
 * are 0, or the timing is UNKNOWN), 1 = one varint for both indices (also
 * every EARLY pane: its on-time index is always -1), 2 = two varints.
 */
import type { ByteReader } from "./byte-reader.js";
import type { ByteWriter } from "./byte-writer.js";
import { decodeError, encodeError, type CoderIdentity } from "./errors.js";
import { NO_FIRING, type PaneInfo, type PaneTiming } from "./values.js";

const TIMINGS: readonly PaneTiming[] = ["EARLY", "ON_TIME", "LATE", "UNKNOWN"];

/** The 16 panes of the one-byte encoding, by low nibble (frozen, shared). */
const PANES: readonly PaneInfo[] = Array.from({ length: 16 }, (_, b) =>
  b === 0x0f
    ? NO_FIRING
    : Object.freeze({
        isFirst: (b & 1) !== 0,
        isLast: (b & 2) !== 0,
        timing: TIMINGS[b >> 2]!,
        index: 0,
        onTimeIndex: 0,
      }),
);

function timingOrdinal(t: PaneTiming): number {
  switch (t) {
    case "EARLY":
      return 0;
    case "ON_TIME":
      return 1;
    case "LATE":
      return 2;
    case "UNKNOWN":
      return 3;
    default:
      return -1;
  }
}

/** Writes a pane (Beam's encoding; non-zero indices of UNKNOWN panes are dropped, as Beam does). */
export function writePane(writer: ByteWriter, pane: PaneInfo, coder: CoderIdentity): void {
  if (pane === NO_FIRING) {
    writer.writeByte(0x0f);
    return;
  }
  if (typeof pane !== "object" || pane === null)
    throw encodeError(coder, "a pane info object", pane);
  const t = timingOrdinal(pane.timing);
  if (t < 0) throw encodeError(coder, "a pane timing EARLY, ON_TIME, LATE or UNKNOWN", pane.timing);
  const header = (pane.isFirst ? 1 : 0) | (pane.isLast ? 2 : 0) | (t << 2);
  const { index, onTimeIndex } = pane;
  if ((index === 0 && onTimeIndex === 0) || t === 3) {
    writer.writeByte(header);
    return;
  }
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(onTimeIndex)) {
    throw encodeError(coder, "pane indices that are safe integers", pane);
  }
  if (index === onTimeIndex || t === 0) {
    writer.writeByte(header | 0x10);
    writer.writeVarInt(index);
  } else {
    writer.writeByte(header | 0x20);
    writer.writeVarInt(index);
    writer.writeVarInt(onTimeIndex);
  }
}

function readIndex(reader: ByteReader, coder: CoderIdentity): number {
  const at = reader.pos;
  const v = reader.readVarInt(coder);
  if (typeof v !== "number")
    throw decodeError(coder, at, "a pane index that is a safe integer", String(v));
  return v;
}

/** Reads a pane; panes without indices are shared frozen objects. */
export function readPane(reader: ByteReader, coder: CoderIdentity): PaneInfo {
  const b = reader.readByte();
  const base = PANES[b & 0x0f]!;
  switch (b >> 4) {
    case 0:
      return base;
    case 1: {
      const index = readIndex(reader, coder);
      const onTimeIndex = base.timing === "EARLY" ? -1 : index;
      return {
        isFirst: base.isFirst,
        isLast: base.isLast,
        timing: base.timing,
        index,
        onTimeIndex,
      };
    }
    case 2: {
      const index = readIndex(reader, coder);
      const onTimeIndex = readIndex(reader, coder);
      return {
        isFirst: base.isFirst,
        isLast: base.isLast,
        timing: base.timing,
        index,
        onTimeIndex,
      };
    }
    default:
      throw decodeError(
        coder,
        reader.pos - 1,
        "a pane encoding tag 0, 1 or 2",
        `0x${b.toString(16)}`,
      );
  }
}
