/**
 * `StreamDecoder`: decodes a stream of nested-context elements that arrives
 * in chunks (the data plane's `Elements.Data` payloads, state pages).
 *
 * - Chunks are not copied: elements are decoded in place, except one that
 *   spans chunks, whose bytes (and only those) are copied into a stitch buffer.
 * - A failed attempt (the element is incomplete) throws a `ByteUnderflow`
 *   telling how many bytes the element needs at least; the decoder waits
 *   until that many are buffered. Iterables keep the elements decoded so far
 *   between attempts, so a large element arriving in many chunks is not
 *   re-decoded from its start each time.
 * - Forged lengths cannot make it buffer without bound: an element needing
 *   more than `maxElementBytes` is a `CoderError`.
 */
import {
  ByteReader,
  type DecodeOptions,
  DEFAULT_MAX_ZERO_SIZE_ELEMENTS,
  type ResumeState,
} from "./byte-reader.js";
import type { Coder } from "./coder.js";
import { ByteUnderflow, CoderError } from "./errors.js";

/** Options of a {@link StreamDecoder}. */
export interface StreamDecoderOptions extends DecodeOptions {
  /**
   * The largest element (in bytes) the decoder will buffer; an element that
   * needs more is a `CoderError`.
   * @default 268_435_456 (256 MiB)
   */
  maxElementBytes?: number | undefined;
}

/** Default of {@link StreamDecoderOptions.maxElementBytes}. */
export const DEFAULT_MAX_ELEMENT_BYTES = 256 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);
/** A stitch buffer larger than this is released after its element. */
const KEEP_STITCH = 1 << 20;

/** Decodes the elements of a chunked byte stream one by one. */
export class StreamDecoder<T> {
  private readonly coder: Coder<T>;
  private readonly maxElementBytes: number;
  private readonly maxZeroSize: number;
  private readonly reader: ByteReader;
  private readonly resume = new Map<number, ResumeState>();
  private chunks: (Uint8Array | undefined)[] = [];
  /** Index of the current chunk. */
  private head = 0;
  /** Read position in the current chunk. */
  private pos = 0;
  private buffered = 0;
  /** Bytes the pending element needs before the next attempt (0: try now). */
  private need = 0;
  /** Copy of the pending element's first `stitchLen` bytes, when it spans chunks. */
  private stitch: Buffer = EMPTY;
  private stitchLen = 0;
  /** Where copying into the stitch buffer stopped: chunk index and position. */
  private srcChunk = 0;
  private srcPos = 0;
  /** Stream offset of the current position. */
  private offset = 0;
  private failure: CoderError | undefined;
  private decoded = 0;

  constructor(coder: Coder<T>, options: StreamDecoderOptions = {}) {
    const max = options.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES;
    if (!Number.isSafeInteger(max) || max < 1)
      throw new RangeError("options.maxElementBytes must be a positive integer");
    this.coder = coder;
    this.maxElementBytes = max;
    this.maxZeroSize = options.maxZeroSizeElements ?? DEFAULT_MAX_ZERO_SIZE_ELEMENTS;
    this.reader = new ByteReader(EMPTY, options);
    this.reader.resume = this.resume;
  }

  /** Bytes pushed and not yet consumed by decoded elements. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Elements returned by `next()` so far. */
  get elementsDecoded(): number {
    return this.decoded;
  }

  /** Adds a chunk of the stream (kept by reference: do not modify it afterwards). */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next element, or `undefined` when more bytes are needed. Malformed
   * input is a `CoderError` (offsets are stream offsets); after one, the
   * decoder keeps throwing it.
   */
  next(): T | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (this.buffered === 0 || this.buffered < this.need) return undefined;
    const reader = this.reader;
    reader.zeroSizeBudget = this.maxZeroSize;
    const cur = this.chunks[this.head]!;
    const pos = this.pos;
    if (this.stitchLen === 0 && this.need <= cur.length - pos) {
      reader.reset(cur, pos, cur.length);
      let value: T;
      try {
        value = this.coder.decodeFrom(reader, "nested");
      } catch (err) {
        if (!(err instanceof ByteUnderflow)) throw this.fail(err, pos);
        const needed = err.needed - pos;
        this.checkSize(needed);
        if (this.buffered < needed) {
          this.need = needed;
          return undefined;
        }
        return this.decodeStitched(needed);
      }
      if (reader.pos === pos) throw this.fail(this.zeroSizeElement(), pos);
      this.consume(reader.pos - pos);
      return this.done(value);
    }
    return this.decodeStitched(this.need);
  }

  /**
   * Ends the stream: a `CoderError` if bytes remain (a truncated element, or
   * elements not taken with `next()`).
   */
  finish(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.buffered === 0) return;
    const pending = this.next();
    const err = new CoderError({
      urn: this.coder.urn,
      coderId: this.coder.coderId,
      offset: this.offset,
      expected:
        pending === undefined
          ? `a complete element ${this.decoded} (at least ${Math.max(this.need, this.buffered + 1)} bytes)`
          : "no more elements (call next() until it returns undefined before finish())",
      actual: `${this.buffered} bytes at the end of the stream${pending === undefined ? " (truncated input)" : ""}`,
    });
    this.failure = err;
    throw err;
  }

  /** Decodes the pending element from a stitched copy of its bytes. */
  private decodeStitched(initialNeed: number): T | undefined {
    const reader = this.reader;
    let needed = initialNeed;
    for (;;) {
      this.extendStitch(Math.min(this.buffered, Math.max(needed, this.stitchLen)));
      reader.reset(this.stitch, 0, this.stitchLen);
      reader.zeroSizeBudget = this.maxZeroSize;
      let value: T;
      try {
        value = this.coder.decodeFrom(reader, "nested");
      } catch (err) {
        if (!(err instanceof ByteUnderflow)) throw this.fail(err, 0);
        needed = err.needed;
        this.checkSize(needed);
        if (this.buffered < needed) {
          this.need = needed;
          return undefined;
        }
        continue;
      }
      if (reader.pos === 0) throw this.fail(this.zeroSizeElement(), 0);
      this.consume(reader.pos);
      this.stitchLen = 0;
      if (this.stitch.length > KEEP_STITCH) this.stitch = EMPTY;
      return this.done(value);
    }
  }

  /** Copies element bytes into the stitch buffer until it holds `target` bytes. */
  private extendStitch(target: number): void {
    if (this.stitchLen === 0) {
      this.srcChunk = this.head;
      this.srcPos = this.pos;
    }
    if (target <= this.stitchLen) return;
    if (target > this.stitch.length) {
      let cap = Math.max(256, this.stitch.length * 2);
      while (cap < target) cap *= 2;
      const next = Buffer.allocUnsafeSlow(cap);
      this.stitch.copy(next, 0, 0, this.stitchLen);
      this.stitch = next;
    }
    while (this.stitchLen < target) {
      const chunk = this.chunks[this.srcChunk]!;
      const n = Math.min(chunk.length - this.srcPos, target - this.stitchLen);
      this.stitch.set(chunk.subarray(this.srcPos, this.srcPos + n), this.stitchLen);
      this.stitchLen += n;
      this.srcPos += n;
      if (this.srcPos === chunk.length) {
        this.srcChunk++;
        this.srcPos = 0;
      }
    }
  }

  /** Advances past `n` bytes of the stream. */
  private consume(n: number): void {
    this.buffered -= n;
    this.offset += n;
    const chunks = this.chunks;
    if (this.pos + n < chunks[this.head]!.length) {
      // The common case: the element ended inside the current chunk.
      this.pos += n;
      return;
    }
    let left = n;
    while (left > 0) {
      const avail = chunks[this.head]!.length - this.pos;
      if (left < avail) {
        this.pos += left;
        break;
      }
      left -= avail;
      chunks[this.head] = undefined;
      this.head++;
      this.pos = 0;
    }
    if (this.head < chunks.length && this.pos === chunks[this.head]!.length) {
      chunks[this.head] = undefined;
      this.head++;
      this.pos = 0;
    }
    if (this.head === chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > chunks.length) {
      this.chunks = chunks.slice(this.head);
      this.head = 0;
    }
  }

  private done(value: T): T {
    this.decoded++;
    this.need = 0;
    if (this.resume.size > 0) this.resume.clear();
    return value;
  }

  /** A coder whose values can take zero bytes cannot delimit a stream (it would never advance). */
  private zeroSizeElement(): CoderError {
    return new CoderError({
      urn: this.coder.urn,
      coderId: this.coder.coderId,
      offset: 0,
      expected:
        "elements of at least one byte (this coder's values may take none, so a stream cannot hold them)",
      actual: `${this.buffered} more bytes`,
    });
  }

  private checkSize(needed: number): void {
    if (needed > this.maxElementBytes) {
      throw this.fail(
        new CoderError({
          urn: this.coder.urn,
          coderId: this.coder.coderId,
          offset: 0,
          expected: `an element of at most maxElementBytes (${this.maxElementBytes}) bytes`,
          actual: `an element needing at least ${needed} bytes`,
        }),
        0,
      );
    }
  }

  /** Records a failure of the pending element; `base` is its start in the reader's coordinates. */
  private fail(err: unknown, base: number): CoderError {
    const prefix = `element ${this.decoded} of the stream: `;
    let failure: CoderError;
    if (err instanceof CoderError) {
      failure = err.withOffset(this.offset + (err.offset ?? base) - base, prefix);
    } else {
      failure = new CoderError({
        urn: this.coder.urn,
        coderId: this.coder.coderId,
        offset: this.offset,
        expected: "decodable bytes",
        actual: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        cause: err,
      });
    }
    this.failure = failure;
    return failure;
  }
}
