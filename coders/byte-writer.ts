/**
 * `ByteWriter`: the growable output buffer every coder encodes into.
 *
 * One writer is reused for many elements: the buffer doubles when full and is
 * never shrunk by `reset()`. `finish()` hands the written bytes over without
 * copying and starts a fresh buffer, so a data-plane sink can encode a batch
 * of elements and send the result as one chunk.
 */

import { isInt64, putInt64 } from "./int64.js";
import { allocBytes } from "./alloc.js";

const TWO_32 = 4294967296;
/** Strings up to this many UTF-16 units are written with a JS loop (ASCII fast path). */
const SHORT_STRING = 64;

type Utf8Write = (this: Buffer, s: string, offset: number, length: number) => number;
const nativeUtf8Write = (Buffer.prototype as unknown as { utf8Write?: Utf8Write }).utf8Write;
const utf8Write: Utf8Write =
  nativeUtf8Write ??
  function (this: Buffer, s: string, offset: number, length: number): number {
    return this.write(s, offset, length, "utf8");
  };

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);

/**
 * A growable, reusable output buffer.
 *
 * Ownership: the bytes returned by {@link ByteWriter.finish} belong to the
 * caller (the writer never touches that memory again, and the view is the
 * only user of its `ArrayBuffer`, which may be transferred to another thread).
 * {@link ByteWriter.view} returns a view that is only valid until the next
 * write or `reset()`. {@link ByteWriter.toBytes} returns a copy.
 */
export class ByteWriter {
  /** The current buffer (internal to coders: read `length`, write through methods). */
  buf: Buffer;
  /** The write position, i.e. the number of bytes written. */
  pos = 0;
  private readonly initialCapacity: number;

  /** @param initialCapacity bytes allocated up front. @default 4096 */
  constructor(initialCapacity = 4096) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new RangeError("initialCapacity must be a positive integer");
    }
    this.initialCapacity = initialCapacity;
    this.buf = Buffer.allocUnsafeSlow(initialCapacity);
  }

  /** Bytes written since the last `reset()`/`finish()`. */
  get length(): number {
    return this.pos;
  }

  /** Forgets the written bytes, keeping the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /**
   * Returns the written bytes without copying and starts a fresh buffer (sized
   * for a similar amount of output). The caller owns the returned bytes.
   */
  finish(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    let next = this.initialCapacity;
    while (next < this.pos && next < this.buf.length) next *= 2;
    this.buf = Buffer.allocUnsafeSlow(next);
    this.pos = 0;
    return out;
  }

  /** A copy of the written bytes (a plain `Uint8Array`); the writer is unchanged. */
  toBytes(): Uint8Array {
    const n = this.pos;
    const out = allocBytes(n);
    if (n < 32) {
      const b = this.buf;
      for (let i = 0; i < n; i++) out[i] = b[i]!;
    } else {
      out.set(this.buf.subarray(0, n));
    }
    return out;
  }

  /** A view of the written bytes, valid until the next write or `reset()`. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafeSlow(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes one byte (0..255). */
  writeByte(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /**
   * Writes a Beam varint: an int64 in two's complement, 7 bits per byte, least
   * significant group first (`-1` takes ten bytes). Numbers must be safe
   * integers; bigints must fit int64.
   */
  writeVarInt(v: number | bigint): void {
    if (typeof v === "number") {
      if (v >>> 0 === v) {
        this.writeUVarInt32(v);
        return;
      }
      if (!Number.isSafeInteger(v)) throw new RangeError(`varint must be a safe integer, got ${v}`);
      const hi = Math.floor(v / TWO_32);
      this.writeVarInt64(hi >>> 0, v - hi * TWO_32);
      return;
    }
    if (!isInt64(v)) throw new RangeError(`varint out of int64 range: ${v}`);
    const u = BigInt.asUintN(64, v);
    this.writeVarInt64(Number(u >> 32n), Number(u & 0xffffffffn));
  }

  /** Writes an unsigned 32-bit integer (0..2^32-1) as a varint: lengths and counts. */
  writeUVarInt32(v: number): void {
    if (this.pos + 5 > this.buf.length) this.grow(5);
    const b = this.buf;
    let p = this.pos;
    let x = v;
    while (x >= 0x80) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p++] = x;
    this.pos = p;
  }

  /** Writes a varint from the two unsigned 32-bit halves of a 64-bit value. */
  writeVarInt64(hi: number, lo: number): void {
    if (this.pos + 10 > this.buf.length) this.grow(10);
    const b = this.buf;
    let p = this.pos;
    let h = hi;
    let l = lo;
    while (h !== 0 || l >= 0x80) {
      b[p++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    b[p++] = l;
    this.pos = p;
  }

  /** Writes a big-endian 16-bit integer (signed or unsigned). */
  writeInt16BE(v: number): void {
    if (this.pos + 2 > this.buf.length) this.grow(2);
    const b = this.buf;
    b[this.pos] = v >>> 8;
    b[this.pos + 1] = v;
    this.pos += 2;
  }

  /** Writes a big-endian 32-bit integer (signed or unsigned). */
  writeInt32BE(v: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Writes a big-endian 64-bit two's complement integer (a safe integer or an int64 bigint). */
  writeInt64BE(v: bigint | number): void {
    const big = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v) : undefined;
    if (big === undefined || !isInt64(big)) throw new RangeError(`int64 out of range: ${v}`);
    if (this.pos + 8 > this.buf.length) this.grow(8);
    putInt64(this.buf, this.pos, big, 0);
    this.pos += 8;
  }

  /**
   * Writes a timestamp (int64 millis) as Beam's `InstantCoder` does: big-endian
   * with the sign bit flipped, so byte order matches time order.
   */
  writeTimestamp(millis: bigint | number): void {
    if (typeof millis === "bigint") {
      if (!isInt64(millis)) throw new RangeError(`timestamp out of int64 range: ${millis}`);
      if (this.pos + 8 > this.buf.length) this.grow(8);
      putInt64(this.buf, this.pos, millis, 0x80);
      this.pos += 8;
      return;
    }
    if (!Number.isSafeInteger(millis))
      throw new RangeError(`timestamp must be a safe integer or bigint, got ${millis}`);
    const hi = Math.floor(millis / TWO_32);
    const lo = millis - hi * TWO_32;
    this.writeInt32BE((hi ^ 0x80000000) >>> 0);
    this.writeInt32BE(lo);
  }

  /** Writes a big-endian IEEE 754 double. */
  writeDouble(v: number): void {
    if (this.pos + 8 > this.buf.length) this.grow(8);
    f64[0] = v;
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < 8; i++) b[p + i] = f64Bytes[7 - i]!;
    this.pos = p + 8;
  }

  /** Writes a big-endian IEEE 754 single-precision float. */
  writeFloat(v: number): void {
    if (this.pos + 4 > this.buf.length) this.grow(4);
    f32[0] = v;
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < 4; i++) b[p + i] = f32Bytes[3 - i]!;
    this.pos = p + 4;
  }

  /** Writes raw bytes. */
  writeBytes(bytes: Uint8Array): void {
    const n = bytes.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    if (n < 16) {
      const b = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) b[p + i] = bytes[i]!;
    } else {
      this.buf.set(bytes, this.pos);
    }
    this.pos += n;
  }

  /** Writes `bytes` prefixed with its length as a varint. */
  writeLengthPrefixed(bytes: Uint8Array): void {
    this.writeUVarInt32(bytes.length);
    this.writeBytes(bytes);
  }

  /** Writes a string as UTF-8 (lone surrogates become U+FFFD); returns the byte count. */
  writeUtf8(s: string): number {
    const len = s.length;
    if (len <= SHORT_STRING) {
      if (this.pos + len * 3 > this.buf.length) this.grow(len * 3);
      const b = this.buf;
      const p = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p + i] = c;
      }
      const n = i === len ? len : utf8Write.call(b, s, p, len * 3);
      this.pos = p + n;
      return n;
    }
    const n = Buffer.byteLength(s, "utf8");
    if (this.pos + n > this.buf.length) this.grow(n);
    utf8Write.call(this.buf, s, this.pos, n);
    this.pos += n;
    return n;
  }

  /** Writes a string as UTF-8 prefixed with its byte length as a varint. */
  writeUtf8LengthPrefixed(s: string): void {
    const len = s.length;
    if (len <= 42) {
      // At most 126 bytes: the length fits one varint byte, written afterwards.
      if (this.pos + 1 + len * 3 > this.buf.length) this.grow(1 + len * 3);
      const start = this.pos;
      this.pos = start + 1;
      const n = this.writeUtf8(s);
      this.buf[start] = n;
      return;
    }
    const n = Buffer.byteLength(s, "utf8");
    this.writeUVarInt32(n);
    if (this.pos + n > this.buf.length) this.grow(n);
    utf8Write.call(this.buf, s, this.pos, n);
    this.pos += n;
  }

  /**
   * Reserves one byte for a varint length and returns a mark for
   * {@link ByteWriter.endLengthPrefix}, which fills it in (moving the content
   * when the length needs more than one byte).
   */
  beginLengthPrefix(): number {
    this.writeByte(0);
    return this.pos;
  }

  /** Completes a length prefix begun at `mark`: the content is everything written since. */
  endLengthPrefix(mark: number): void {
    const n = this.pos - mark;
    if (n < 0x80) {
      this.buf[mark - 1] = n;
      return;
    }
    let size = 1;
    for (let x = n; x >= 0x80; x >>>= 7) size++;
    this.ensure(size - 1);
    this.buf.copy(this.buf, mark + size - 1, mark, this.pos);
    const end = this.pos + size - 1;
    this.pos = mark - 1;
    this.writeUVarInt32(n);
    this.pos = end;
  }
}
