/**
 * `beam:coder:iterable:v1` (and `beam:coder:state_backed_iterable:v1`, the
 * same encoding): a 4-byte big-endian count then the elements (nested), or
 * count `-1` then blocks: a varint count and that many elements, repeated,
 * ended by `0`, or by `-1` and a length-prefixed state token naming the rest
 * of the iterable in the runner's state. The same in both contexts.
 * `beam:coder:state_backed_iterable:v1` writes that token form for a
 * {@link StateWritingIterable} (the runner side, as Beam Python does).
 *
 * Decoding is resumable inside a `StreamDecoder`: when the input ends in the
 * middle, the elements decoded so far are kept and the next attempt resumes
 * after them, so a large iterable arriving in many chunks is decoded once.
 */
import type { ByteReader, ResumeState } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { BaseCoder, type Coder } from "./coder.js";
import { ByteUnderflow, decodeError, encodeError } from "./errors.js";
import { registerCoder } from "./registry.js";
import {
  STATE_BACKED_ITERABLE_URN,
  StateBackedIterable,
  StateWritingIterable,
} from "./state-reader.js";
import { VarIntCoder } from "./varint.js";

export const ITERABLE_URN = "beam:coder:iterable:v1";

/** Counts up to this get a preallocated array. */
const PREALLOCATE = 10000;

/** Elements per block when encoding an iterable that is not an array. */
const BLOCK_SIZE = 1024;

/** Bytes per block when writing state (Beam Python's `SequenceCoderImpl._DEFAULT_BUFFER_SIZE`). */
const STATE_BLOCK_BYTES = 64 * 1024;

interface IterableResume<T> extends ResumeState {
  items: T[];
  remaining: number;
  blocks: boolean;
  preallocated: boolean;
  offset: number;
}

/**
 * Iterables ↔ arrays. Arrays encode with a count; other iterables (Sets,
 * generators) in blocks. An iterable with a state token decodes to a
 * {@link StateBackedIterable} (needs `DecodeOptions.stateReader`).
 */
export class IterableCoder<T> extends BaseCoder<T[]> {
  readonly urn: string;
  readonly minSize = 4;
  readonly elementCoder: Coder<T>;
  /** Varint elements are read and written inline (the common iterable of counts and ids). */
  private readonly varints: boolean;

  constructor(elementCoder: Coder<T>, coderId?: string, urn: string = ITERABLE_URN) {
    super([elementCoder], coderId);
    this.elementCoder = elementCoder;
    this.urn = urn;
    this.varints = elementCoder instanceof VarIntCoder;
  }

  encodeTo(value: T[] | Iterable<T>, writer: ByteWriter): void {
    const elem = this.elementCoder;
    if (Array.isArray(value)) {
      const n = value.length;
      writer.writeInt32BE(n);
      if (this.varints) writeVarints(value as unknown[], writer, elem);
      else for (let i = 0; i < n; i++) elem.encodeTo(value[i] as T, writer, "nested");
      return;
    }
    if (value instanceof StateWritingIterable) {
      if (this.urn === STATE_BACKED_ITERABLE_URN) this.encodeWritingState(value, writer);
      else this.encodeTo(value.values as T[], writer);
      return;
    }
    if (
      typeof value !== "object" ||
      value === null ||
      value instanceof StateBackedIterable ||
      typeof (value as Iterable<T>)[Symbol.iterator] !== "function"
    ) {
      throw encodeError(
        this,
        "an array or a synchronous iterable (await toArray() on state-backed iterables)",
        value,
      );
    }
    writer.writeInt32BE(-1);
    let block: T[] = [];
    const flush = (): void => {
      writer.writeUVarInt32(block.length);
      for (const v of block) elem.encodeTo(v, writer, "nested");
      block = [];
    };
    for (const v of value as Iterable<T>) {
      block.push(v);
      if (block.length === BLOCK_SIZE) flush();
    }
    if (block.length > 0) flush();
    writer.writeByte(0);
  }

  /** Beam Python's `SequenceCoderImpl.encode_to_stream` with `write_state` (same bytes). */
  private encodeWritingState(value: StateWritingIterable<T>, writer: ByteWriter): void {
    const { values, thresholdBytes, stateWriter } = value;
    const elem = this.elementCoder;
    const target = Math.min(STATE_BLOCK_BYTES, thresholdBytes);
    const block = new ByteWriter(Math.min(target, 4096) + 64);
    writer.writeInt32BE(-1);
    const start = writer.pos;
    let flushed = 0;
    for (let i = 0; i < values.length; i++) {
      elem.encodeTo(values[i] as T, block, "nested");
      if (block.pos <= target) continue;
      writer.writeUVarInt32(i + 1 - flushed);
      writer.writeBytes(block.view());
      flushed = i + 1;
      block.reset();
      if (writer.pos - start > thresholdBytes) {
        for (let j = i + 1; j < values.length; j++) elem.encodeTo(values[j] as T, block, "nested");
        const token = stateWriter.write(block.finish());
        writer.writeVarInt(-1);
        writer.writeLengthPrefixed(token);
        return;
      }
    }
    if (values.length > flushed) {
      writer.writeUVarInt32(values.length - flushed);
      writer.writeBytes(block.view());
    }
    writer.writeByte(0);
  }

  decodeFrom(reader: ByteReader): T[] {
    const start = reader.pos;
    const resume = reader.resume;
    if (this.varints && (resume === undefined || resume.size === 0)) {
      // The common case (a counted iterable of varints, nothing to resume): no resume bookkeeping
      // unless the input ends inside it or a varint is longer than five bytes.
      const end = reader.end;
      if (start + 4 <= end) {
        const b = reader.buf;
        const count =
          (b[start]! << 24) | (b[start + 1]! << 16) | (b[start + 2]! << 8) | b[start + 3]!;
        // The same bounds as the general path's: preallocated, and checkCount would pass.
        if (count > 0 && count <= PREALLOCATE && count <= end - start - 4) {
          const items = new Array<T>(count);
          reader.pos = start + 4;
          const i = readShortVarints(reader, items as unknown[], 0);
          if (i === count) return items;
          return this.decodeElements(reader, start - reader.start, items, count - i, false, true);
        }
      }
    }
    const key = start - reader.start;
    let items: T[];
    let remaining: number;
    let blocks: boolean;
    let preallocated: boolean;
    const saved = resume?.get(key) as IterableResume<T> | undefined;
    if (saved !== undefined && saved.coder === this) {
      resume!.delete(key);
      items = saved.items;
      remaining = saved.remaining;
      blocks = saved.blocks;
      preallocated = saved.preallocated;
      reader.pos = reader.start + saved.offset;
    } else {
      const count = reader.readInt32BE();
      // Known counts get an array of their size (a bounded one: huge counts grow as they decode).
      preallocated = count > 0 && count <= PREALLOCATE;
      items = preallocated ? new Array<T>(count) : [];
      if (count >= 0) {
        remaining = count;
        blocks = false;
      } else if (count === -1) {
        remaining = 0;
        blocks = true;
      } else {
        throw decodeError(this, start, "an element count >= 0, or -1 for blocks", String(count));
      }
      this.checkCount(reader, remaining);
    }
    return this.decodeElements(reader, key, items, remaining, blocks, preallocated);
  }

  /**
   * Decodes the `count` remaining elements of the current block into `items` (at
   * `length - count` when preallocated, else appended), then the further
   * blocks; saves the progress under `key` when the input ends.
   */
  private decodeElements(
    reader: ByteReader,
    key: number,
    items: T[],
    count: number,
    blocks: boolean,
    preallocated: boolean,
  ): T[] {
    const elem = this.elementCoder;
    let remaining = count;
    let mark = reader.pos;
    let inElement = false;
    try {
      for (;;) {
        inElement = true;
        // Preallocated arrays (count form only) fill from `length - remaining`; others grow.
        if (preallocated) {
          if (this.varints) {
            const from = items.length - remaining;
            remaining -= readShortVarints(reader, items as unknown[], from) - from;
            mark = reader.pos;
            for (let i = items.length - remaining; remaining > 0; remaining--) {
              items[i++] = reader.readVarInt(elem) as T;
              mark = reader.pos;
            }
          }
          for (let i = items.length - remaining; remaining > 0; remaining--) {
            items[i++] = elem.decodeFrom(reader, "nested");
            mark = reader.pos;
          }
        }
        while (remaining > 0) {
          items.push(elem.decodeFrom(reader, "nested"));
          remaining--;
          mark = reader.pos;
        }
        inElement = false;
        if (!blocks) return items;
        const at = reader.pos;
        const count = reader.readVarInt(this);
        if (count === 0) return items;
        if (count === -1) return this.withToken(items, reader);
        if (typeof count !== "number" || count < 0 || count > 0x7fffffff) {
          throw decodeError(this, at, "a block count >= 0, or -1 for a state token", String(count));
        }
        remaining = count;
        mark = reader.pos;
        this.checkCount(reader, remaining);
      }
    } catch (err) {
      if (err instanceof ByteUnderflow) {
        const resume = reader.resume;
        if (resume !== undefined) {
          const state: IterableResume<T> = {
            coder: this,
            items,
            remaining,
            blocks,
            preallocated,
            offset: mark - reader.start,
          };
          resume.set(key, state);
        }
        // The elements still to come need at least minSize bytes each.
        if (inElement && remaining > 1 && elem.minSize > 0) {
          throw new ByteUnderflow(err.needed + (remaining - 1) * elem.minSize, err.offset);
        }
      }
      throw err;
    }
  }

  /** Checks that `count` elements can fit in the input (or charges the zero-size budget). */
  private checkCount(reader: ByteReader, count: number): void {
    const min = this.elementCoder.minSize;
    if (min === 0) reader.chargeZeroSize(this, count);
    else if (count * min > reader.end - reader.pos)
      throw new ByteUnderflow(reader.pos + count * min, reader.pos);
  }

  private withToken(items: T[], reader: ByteReader): T[] {
    const at = reader.pos;
    const token = reader.readLengthPrefixed(this);
    const stateReader = reader.stateReader;
    if (stateReader === undefined) {
      throw decodeError(
        this,
        at,
        "no state token (decoding a state-backed iterable needs a state reader)",
        "a state token",
      );
    }
    // The value model types iterables as arrays; a state-backed one is lazy.
    return new StateBackedIterable(items, token, this.elementCoder, stateReader) as unknown as T[];
  }
}

/**
 * Reads varints of at most five bytes into `items[from..]` while five bytes
 * are left to read, with the position in a local; returns the index it
 * stopped at (the end, a longer varint, or the last bytes), where the
 * general loop takes over. Never throws. The values are those of
 * `ByteReader.readVarInt`.
 *
 * Without branches on the length (varints of mixed lengths mispredict a
 * byte-by-byte loop's branches): four bytes are read as one little-endian
 * word, the lowest clear top bit marks the last byte of the varint, the
 * bytes after it are masked off and the 7-bit groups packed together.
 */
function readShortVarints(reader: ByteReader, items: unknown[], from: number): number {
  const view = reader.dataView();
  const b = reader.buf;
  const end = reader.end - 5;
  const n = items.length;
  let p = reader.pos;
  let i = from;
  for (; i < n && p <= end; i++) {
    const w = view.getInt32(p, true);
    // One bit per byte, set on the bytes that end a varint.
    const stops = ~w & 0x80808080;
    if (stops === 0) {
      // Five bytes or more.
      const x = b[p + 4]!;
      if (x >= 0x80) break;
      items[i] = packGroups(w) + x * 268435456;
      p += 5;
      continue;
    }
    const last = stops & -stops;
    items[i] = packGroups(w & ((last << 1) - 1));
    // The last byte's top bit is bit 7, 15, 23 or 31: the varint is 1 to 4 bytes.
    p += (32 - Math.clz32(last)) >> 3;
  }
  reader.pos = p;
  return i;
}

/** The 28-bit value of four varint bytes (little-endian in `w`, continuation bits ignored). */
function packGroups(w: number): number {
  return (w & 0x7f) | ((w >>> 1) & 0x3f80) | ((w >>> 2) & 0x1fc000) | ((w >>> 3) & 0xfe00000);
}

/** Writes small non-negative integers inline; anything else through the element coder. */
function writeVarints(values: readonly unknown[], writer: ByteWriter, elem: Coder<unknown>): void {
  const n = values.length;
  let i = 0;
  while (i < n) {
    writer.ensure(5 * Math.min(n - i, 1024));
    const b = writer.buf;
    let p = writer.pos;
    const stop = Math.min(n, i + 1024);
    for (; i < stop; i++) {
      const v = values[i];
      if (typeof v !== "number" || v >>> 0 !== v) break;
      let x = v;
      while (x >= 0x80) {
        b[p++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      b[p++] = x;
    }
    writer.pos = p;
    if (i < stop) elem.encodeTo(values[i++], writer, "nested");
  }
}

registerCoder(ITERABLE_URN, ({ components, coderId }) => {
  const [c] = components;
  if (components.length !== 1 || !c)
    throw new TypeError(`iterable needs 1 component, got ${components.length}`);
  return new IterableCoder(c, coderId);
});
