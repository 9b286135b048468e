/**
 * `ByteReader`: a cursor over one `Uint8Array` that coders decode from.
 *
 * Every read checks the end of the input and throws a {@link ByteUnderflow}
 * carrying the input length the read needs; malformed bytes throw a
 * `CoderError` naming the coder that read them. Lengths read from the input
 * are checked against the remaining input before anything is allocated.
 */
import { allocBytes } from "./alloc.js";
import { MAX_ASCII_FAST, shortAscii } from "./ascii.js";
import { ByteUnderflow, decodeError, type CoderIdentity } from "./errors.js";
import { int64Of } from "./int64.js";
import type { StateBackedIterableReader } from "./state-reader.js";

const EMPTY = Buffer.alloc(0);

type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;
const nativeUtf8Slice = (Buffer.prototype as unknown as { utf8Slice?: Utf8Slice }).utf8Slice;
const utf8Slice: Utf8Slice =
  nativeUtf8Slice ??
  function (this: Uint8Array, start: number, end: number): string {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString("utf8", start, end);
  };

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);

const READER: CoderIdentity = { urn: "(byte reader)" };

/** Options of a decode: limits and the services some coders need. */
export interface DecodeOptions {
  /**
   * Reads the pages of state-backed iterables (`beam:coder:state_backed_iterable:v1`
   * and iterables with a state token). Without it, such an iterable is a `CoderError`.
   */
  stateReader?: StateBackedIterableReader | undefined;
  /**
   * The most elements of zero encoded size (global windows, for instance) one
   * decode may produce: their count is not bounded by the input length.
   * @default 1_048_576
   */
  maxZeroSizeElements?: number | undefined;
}

/** Default of {@link DecodeOptions.maxZeroSizeElements}. */
export const DEFAULT_MAX_ZERO_SIZE_ELEMENTS = 1 << 20;

/** Saved progress of a resumable coder (see `StreamDecoder`). */
export interface ResumeState {
  readonly coder: object;
}

/** A read cursor over one byte array. */
export class ByteReader {
  /** The input (a `Buffer` view of the bytes given). */
  buf: Buffer;
  /** The read position (an index into `buf`). */
  pos: number;
  /** The end of the input (an index into `buf`). */
  end: number;
  /** Where the current top-level element starts (offsets in errors and resume keys are relative to it). */
  start: number;
  /** See {@link DecodeOptions.stateReader}. */
  stateReader: StateBackedIterableReader | undefined;
  /** Remaining allowance of zero-size elements for this decode. */
  zeroSizeBudget: number;
  /** Resume states of partially decoded containers, by offset from `start` (streaming only). */
  resume: Map<number, ResumeState> | undefined;

  /** The array `buf` views (to skip re-wrapping it on `reset`). */
  private source: Uint8Array;
  /** A `DataView` of `viewOf` (`buf` when it was made; see {@link dataView}). */
  private view: DataView | undefined;
  private viewOf: Buffer | undefined;

  /** Reads `bytes[offset, end)`. */
  constructor(bytes: Uint8Array = EMPTY, options?: DecodeOptions, offset = 0, end = bytes.length) {
    this.source = bytes;
    this.buf = asBuffer(bytes);
    this.view = undefined;
    this.viewOf = undefined;
    this.pos = offset;
    this.start = offset;
    this.end = end;
    this.stateReader = options?.stateReader;
    this.zeroSizeBudget = options?.maxZeroSizeElements ?? DEFAULT_MAX_ZERO_SIZE_ELEMENTS;
    this.resume = undefined;
  }

  /** Points the reader at other bytes (the options stay). */
  reset(bytes: Uint8Array, offset = 0, end = bytes.length): void {
    if (bytes !== this.source) {
      this.source = bytes;
      this.buf = asBuffer(bytes);
    }
    this.pos = offset;
    this.start = offset;
    this.end = end;
  }

  /**
   * A `DataView` of `buf` (same indices), for word-at-a-time reads by fast
   * paths that check the bounds themselves.
   */
  dataView(): DataView {
    const b = this.buf;
    if (this.viewOf === b) return this.view!;
    this.viewOf = b;
    return (this.view = new DataView(b.buffer, b.byteOffset, b.byteLength));
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws a {@link ByteUnderflow} unless `n` more bytes are available. */
  require(n: number): void {
    if (this.pos + n > this.end) throw new ByteUnderflow(this.pos + n, this.pos);
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.require(n);
    this.pos += n;
  }

  /** Reads one byte. */
  readByte(): number {
    if (this.pos >= this.end) throw new ByteUnderflow(this.pos + 1, this.pos);
    return this.buf[this.pos++]!;
  }

  /**
   * Reads a Beam varint (int64): a `number` when it is a safe integer, else a
   * `bigint`. More than ten bytes, or bits beyond 64, are a `CoderError`.
   */
  readVarInt(coder: CoderIdentity = READER): number | bigint {
    const b = this.buf;
    const p = this.pos;
    if (p + 5 <= this.end) {
      // Up to five bytes without bounds checks: every value below 2^35.
      let x = b[p]!;
      if (x < 0x80) {
        this.pos = p + 1;
        return x;
      }
      let r = x & 0x7f;
      x = b[p + 1]!;
      r |= (x & 0x7f) << 7;
      if (x < 0x80) {
        this.pos = p + 2;
        return r;
      }
      x = b[p + 2]!;
      r |= (x & 0x7f) << 14;
      if (x < 0x80) {
        this.pos = p + 3;
        return r;
      }
      x = b[p + 3]!;
      r |= (x & 0x7f) << 21;
      if (x < 0x80) {
        this.pos = p + 4;
        return r;
      }
      x = b[p + 4]!;
      if (x < 0x80) {
        this.pos = p + 5;
        return r + x * 268435456;
      }
    }
    return this.readVarIntSlow(coder);
  }

  private readVarIntSlow(coder: CoderIdentity): number | bigint {
    const b = this.buf;
    let p = this.pos;
    const end = this.end;
    // General case: accumulate 28 low bits, then the high bits.
    const begin = p;
    let lo = 0;
    let shift = 0;
    let byte: number;
    do {
      if (p >= end) throw new ByteUnderflow(p + 1, begin);
      byte = b[p++]!;
      lo |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80 && shift < 28);
    if (byte < 0x80) {
      this.pos = p;
      return lo >>> 0;
    }
    let hi = 0;
    shift = 0;
    let count = 4;
    do {
      if (p >= end) throw new ByteUnderflow(p + 1, begin);
      byte = b[p++]!;
      count++;
      if (count === 10 && byte > 1) {
        throw decodeError(
          coder,
          begin,
          "a varint that fits int64",
          `tenth byte 0x${byte.toString(16)}`,
        );
      }
      hi += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte >= 0x80 && count < 10);
    if (byte >= 0x80) throw decodeError(coder, begin, "a varint of at most 10 bytes");
    this.pos = p;
    // value = hi * 2^28 + lo, as an unsigned 64-bit integer (hi < 2^36).
    const low = lo >>> 0;
    if (hi < 2 ** 25) return hi * 2 ** 28 + low;
    const u = (BigInt(hi) << 28n) | BigInt(low);
    const s = BigInt.asIntN(64, u);
    return s >= -9007199254740991n && s <= 9007199254740991n ? Number(s) : s;
  }

  /**
   * Reads a varint that must be a non-negative count or length below 2^31
   * (anything else is a `CoderError` naming `coder` and `what`).
   */
  readLength(coder: CoderIdentity = READER, what = "length"): number {
    const at = this.pos;
    if (at < this.end) {
      const b0 = this.buf[at]!;
      if (b0 < 0x80) {
        this.pos = at + 1;
        return b0;
      }
    }
    const v = this.readVarInt(coder);
    if (typeof v !== "number" || v < 0 || v > 0x7fffffff) {
      throw decodeError(coder, at, `a ${what} between 0 and 2^31-1`, String(v));
    }
    return v;
  }

  /** Reads a length-prefixed byte array and returns a copy. */
  readLengthPrefixed(coder: CoderIdentity = READER): Uint8Array {
    const n = this.readLength(coder);
    return this.readBytes(n);
  }

  /** Reads `n` bytes and returns a copy (a plain `Uint8Array`). */
  readBytes(n: number): Uint8Array {
    const p = this.pos;
    if (p + n > this.end) throw new ByteUnderflow(p + n, p);
    const out = allocBytes(n);
    const b = this.buf;
    if (n < 32) {
      for (let i = 0; i < n; i++) out[i] = b[p + i]!;
    } else {
      out.set(new Uint8Array(b.buffer, b.byteOffset + p, n));
    }
    this.pos = p + n;
    return out;
  }

  /** Reads `n` bytes of UTF-8 (invalid sequences become U+FFFD, as Java's decoder does). */
  readUtf8(n: number): string {
    const p = this.pos;
    if (p + n > this.end) throw new ByteUnderflow(p + n, p);
    this.pos = p + n;
    if (n <= MAX_ASCII_FAST) {
      const ascii = shortAscii(this.buf, p, n);
      if (ascii !== undefined) return ascii;
    }
    return utf8Slice.call(this.buf, p, p + n);
  }

  /** Reads a big-endian signed 16-bit integer. */
  readInt16BE(): number {
    const p = this.pos;
    if (p + 2 > this.end) throw new ByteUnderflow(p + 2, p);
    this.pos = p + 2;
    return ((this.buf[p]! << 24) | (this.buf[p + 1]! << 16)) >> 16;
  }

  /** Reads a big-endian signed 32-bit integer. */
  readInt32BE(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw new ByteUnderflow(p + 4, p);
    const b = this.buf;
    this.pos = p + 4;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  /** Reads a big-endian 64-bit two's complement integer. */
  readInt64BE(): bigint {
    const hi = this.readInt32BE();
    const lo = this.readInt32BE() >>> 0;
    return int64Of(hi, lo);
  }

  /**
   * The last timestamp decoded, to share the bigint when elements repeat it
   * (internal: compiled coders read and update it too).
   */
  lastTsHi = 0;
  lastTsLo = 0;
  lastTs = 0n;

  /** Reads a timestamp as Beam's `InstantCoder` writes it: int64 millis, sign bit flipped. */
  readTimestamp(): bigint {
    const p = this.pos;
    if (p + 8 > this.end) throw new ByteUnderflow(p + 8, p);
    const b = this.buf;
    const hi = ((b[p]! ^ 0x80) << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const lo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    this.pos = p + 8;
    if (hi === this.lastTsHi && lo === this.lastTsLo) return this.lastTs;
    const ts = int64Of(hi, lo);
    this.lastTsHi = hi;
    this.lastTsLo = lo;
    this.lastTs = ts;
    return ts;
  }

  /** Reads a big-endian IEEE 754 double. */
  readDouble(): number {
    const p = this.pos;
    if (p + 8 > this.end) throw new ByteUnderflow(p + 8, p);
    const b = this.buf;
    for (let i = 0; i < 8; i++) f64Bytes[7 - i] = b[p + i]!;
    this.pos = p + 8;
    return f64[0]!;
  }

  /** Reads a big-endian IEEE 754 single-precision float. */
  readFloat(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw new ByteUnderflow(p + 4, p);
    const b = this.buf;
    for (let i = 0; i < 4; i++) f32Bytes[3 - i] = b[p + i]!;
    this.pos = p + 4;
    return f32[0]!;
  }

  /** Charges `n` zero-size elements against the budget; a `CoderError` when it runs out. */
  chargeZeroSize(coder: CoderIdentity, n: number): void {
    this.zeroSizeBudget -= n;
    if (this.zeroSizeBudget < 0) {
      throw decodeError(
        coder,
        this.pos,
        "at most maxZeroSizeElements elements of zero encoded size in one decode",
        `${n} more`,
      );
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
