/**
 * int64s as bigints ↔ 8 big-endian bytes. On little-endian hosts (all Node
 * platforms in use) through a `BigInt64Array` scratch, whose stores and
 * loads V8 compiles inline; `DataView.setBigInt64`/`getBigInt64` are calls
 * (a write takes about 4 ns against 15 ns, a read about 30% less). A
 * `DataView` version serves big-endian hosts; tests run both.
 */

/** The int64 range. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** True when the bigint `v` fits an int64 (one inlined `BigInt.asIntN`, no comparisons). */
export function isInt64(v: bigint): boolean {
  return BigInt.asIntN(64, v) === v;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const scratch64 = new BigInt64Array(1);
const scratch32 = new Int32Array(scratch64.buffer);
const scratchBytes = new Uint8Array(scratch64.buffer);
const scratchView = new DataView(scratch64.buffer);

function putInt64Swapped(bytes: Uint8Array, p: number, v: bigint, flip: number): void {
  scratch64[0] = v;
  const s = scratchBytes;
  bytes[p] = s[7]! ^ flip;
  bytes[p + 1] = s[6]!;
  bytes[p + 2] = s[5]!;
  bytes[p + 3] = s[4]!;
  bytes[p + 4] = s[3]!;
  bytes[p + 5] = s[2]!;
  bytes[p + 6] = s[1]!;
  bytes[p + 7] = s[0]!;
}

function putInt64Portable(bytes: Uint8Array, p: number, v: bigint, flip: number): void {
  scratchView.setBigInt64(0, v);
  bytes[p] = scratchBytes[0]! ^ flip;
  for (let i = 1; i < 8; i++) bytes[p + i] = scratchBytes[i]!;
}

function int64OfSwapped(hi: number, lo: number): bigint {
  scratch32[1] = hi;
  scratch32[0] = lo;
  return scratch64[0]!;
}

function int64OfPortable(hi: number, lo: number): bigint {
  scratchView.setInt32(0, hi);
  scratchView.setUint32(4, lo);
  return scratchView.getBigInt64(0);
}

/**
 * Writes the int64 `v` (the caller checked it with {@link isInt64})
 * big-endian at `bytes[p, p + 8)`, with `flip` xored into the first byte
 * (0x80 flips the sign bit, as timestamps are written).
 */
export const putInt64 = LITTLE_ENDIAN ? putInt64Swapped : putInt64Portable;

/**
 * The int64 (e.g. a timestamp, once its sign bit is unflipped) whose high 32
 * bits are `hi` (signed) and low 32 bits `lo` (unsigned): one native bigint
 * read, no bigint arithmetic.
 */
export const int64Of = LITTLE_ENDIAN ? int64OfSwapped : int64OfPortable;

/** Both implementations of each, for tests. */
export const INT64_IMPLEMENTATIONS = {
  put: { swapped: putInt64Swapped, portable: putInt64Portable },
  of: { swapped: int64OfSwapped, portable: int64OfPortable },
};
