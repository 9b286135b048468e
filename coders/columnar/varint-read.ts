/**
 * Varints read from raw bytes for the columnar decoders: a position is
 * returned (or INCOMPLETE when the bytes end first), values go to typed
 * arrays or `lastRead`, so no number pair or bigint is allocated.
 */
import { CoderError } from "../errors.js";

/** Returned instead of a position when the bytes end inside a value. */
export const INCOMPLETE = -1;

/** The unsigned 32-bit value `readUVarInt32` read last. */
export const lastRead = { length: 0 };

/** Reads a length (an unsigned varint below 2^31) into `lastRead.length`. */
export function readUVarInt32(b: Uint8Array, from: number, end: number, urn: string): number {
  if (from < end && b[from]! < 0x80) {
    // One byte: most lengths (short strings and keys).
    lastRead.length = b[from]!;
    return from + 1;
  }
  let p = from;
  let v = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (p >= end) return INCOMPLETE;
    const byte = b[p++]!;
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) {
      if (v > 0x7fffffff)
        throw new CoderError({ urn, offset: p, expected: "a length below 2^31", actual: `${v}` });
      lastRead.length = v;
      return p;
    }
  }
  throw new CoderError({ urn, offset: p, expected: "a length varint of at most 5 bytes" });
}

/**
 * Reads an int64 varint into `halves[at]` (low 32 bits) and `halves[at + 1]`
 * (high 32 bits): a little-endian BigInt64Array's layout.
 */
export function readVarInt64Halves(
  b: Uint8Array,
  from: number,
  end: number,
  halves: Int32Array,
  at: number,
  urn: string,
): number {
  let p = from;
  let lo = 0;
  let hi = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (p >= end) return INCOMPLETE;
    const byte = b[p++]!;
    const bits = byte & 0x7f;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (shift - 32);
    if (byte < 0x80) {
      halves[at] = lo;
      halves[at + 1] = hi;
      return p;
    }
  }
  throw new CoderError({ urn, offset: p, expected: "a varint of at most 10 bytes" });
}

/** The position after the varint at `p`, or INCOMPLETE. */
export function skipVarInt(b: Uint8Array, from: number, end: number): number {
  let p = from;
  for (let i = 0; i < 10; i++) {
    if (p >= end) return INCOMPLETE;
    if (b[p++]! < 0x80) return p;
  }
  throw new CoderError({
    urn: "beam:coder:varint:v1",
    offset: p,
    expected: "a varint of at most 10 bytes",
  });
}
