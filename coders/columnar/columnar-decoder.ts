/**
 * Decodes a stream of encoded windowed values straight into columns
 * (`ElementBatch`es): timestamps into an int64 column, the value's fields
 * through the column decoders of their coders. Rows of one batch share their
 * encoded window set and pane (compared as bytes); a different one starts
 * the next batch. Supported: windowed values in global or interval windows
 * whose value is a KV or an atomic value with column kinds (see
 * column-decoders.ts); `ColumnarDecoder.forCoder` says undefined otherwise.
 */
import { Table, Vector } from "apache-arrow";
import { ByteReader } from "../byte-reader.js";
import type { Coder } from "../coder.js";
import { GLOBAL_WINDOW_URN } from "../global-window.js";
import { INTERVAL_WINDOW_URN } from "../interval-window.js";
import { KV_URN } from "../kv.js";
import { readPane } from "../pane-info.js";
import type { BoundedWindow } from "../values.js";
import { WINDOWED_VALUE_URN } from "../windowed-value.js";
import { WindowsCodec } from "../windows.js";
import { columnKind, INCOMPLETE, type ColumnDecoder, type ColumnKind } from "./column-decoders.js";
import type { ElementBatch } from "./element-batch.js";
import { skipVarInt } from "./varint-read.js";

/** Returned by `next` when the current batch must be taken before the element at `p`. */
export const BATCH_FULL = -2;
export { INCOMPLETE };

export interface BatchLimits {
  /** Most rows in one batch. */
  maxElements: number;
  /** A batch is full once its elements' encoded bytes reach this. */
  maxBytes: number;
}

/** The named columns of a value coder: `key`/`value` for a KV, `value` otherwise. */
export function valueColumns(valueCoder: Coder<unknown>): [string, ColumnKind][] | undefined {
  if (valueCoder.urn === KV_URN) {
    const [k, v] = valueCoder.components as Coder<unknown>[];
    const key = columnKind(k!.urn);
    const value = columnKind(v!.urn);
    return key && value
      ? [
          ["key", key],
          ["value", value],
        ]
      : undefined;
  }
  const kind = columnKind(valueCoder.urn);
  return kind ? [["value", kind]] : undefined;
}

export class ColumnarDecoder {
  private readonly names: string[];
  private readonly columns: ColumnDecoder[];
  private timestamps: Int32Array;
  private rows = 0;
  private bytes = 0;
  private header: Uint8Array | undefined;
  private readonly windows: WindowsCodec;
  private readonly windowBytes: number;

  /** A decoder for `coder`, or undefined when its elements cannot be decoded into columns. */
  static forCoder(coder: Coder<unknown>, limits: BatchLimits): ColumnarDecoder | undefined {
    if (coder.urn !== WINDOWED_VALUE_URN) return undefined;
    const [valueCoder, windowCoder] = coder.components as Coder<unknown>[];
    const windowBytes = WINDOW_SIZES.get(windowCoder!.urn);
    const columns = valueColumns(valueCoder!);
    if (windowBytes === undefined || !columns) return undefined;
    return new ColumnarDecoder(
      coder,
      windowCoder as Coder<BoundedWindow>,
      windowBytes,
      columns,
      limits,
    );
  }

  private constructor(
    private readonly coder: Coder<unknown>,
    windowCoder: Coder<BoundedWindow>,
    windowBytes: number,
    columns: [string, ColumnKind][],
    private readonly limits: BatchLimits,
  ) {
    this.names = columns.map(([name]) => name);
    this.columns = columns.map(([, kind]) => kind.decoder(limits.maxElements));
    this.timestamps = new Int32Array(limits.maxElements * 2);
    this.windows = new WindowsCodec(windowCoder, coder);
    this.windowBytes = windowBytes;
  }

  /** Rows decoded into the current batch. */
  get pending(): number {
    return this.rows;
  }

  /**
   * Decodes the element at `b[p]` into the current batch: the position after
   * it, INCOMPLETE when the bytes end inside it, or BATCH_FULL when the batch
   * must be taken first (full, or the element has another window set or pane).
   */
  next(b: Uint8Array, p: number, end: number): number {
    const rows = this.rows;
    if (rows === this.limits.maxElements || this.bytes >= this.limits.maxBytes) return BATCH_FULL;
    const headerEnd = this.headerEnd(b, p + 8, end);
    if (headerEnd === INCOMPLETE) return INCOMPLETE;
    if (rows > 0 && !this.sameHeader(b, p + 8, headerEnd)) return BATCH_FULL;
    let q = headerEnd;
    const columns = this.columns;
    for (let c = 0; c < columns.length; c++) {
      q = columns[c]!.read(b, q, end, rows);
      if (q === INCOMPLETE) return INCOMPLETE;
    }
    // A copy (a Buffer's slice would be a view of the caller's bytes).
    if (rows === 0) this.header = Uint8Array.prototype.slice.call(b, p + 8, headerEnd);
    const ts = this.timestamps;
    ts[rows * 2 + 1] =
      ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) ^ 0x80000000;
    ts[rows * 2] = (b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!;
    this.rows = rows + 1;
    this.bytes += q - p;
    return q;
  }

  /** Forgets the row decoded last (an element a split made residual). */
  dropLast(): void {
    if (this.rows > 0) this.rows--;
  }

  /** The rows decoded so far as a batch (undefined when there are none). */
  take(): ElementBatch | undefined {
    const rows = this.rows;
    const header = this.header;
    if (rows === 0 || !header) return undefined;
    const vectors: Record<string, Vector> = {};
    for (let c = 0; c < this.columns.length; c++)
      vectors[this.names[c]!] = new Vector([this.columns[c]!.finish(rows)]);
    const timestamps = new BigInt64Array(this.timestamps.buffer, 0, rows);
    this.timestamps = new Int32Array(this.limits.maxElements * 2);
    this.rows = 0;
    this.bytes = 0;
    this.header = undefined;
    const reader = new ByteReader(header);
    const windows = this.windows.read(reader);
    const pane = readPane(reader, this.coder);
    return { table: new Table(vectors), timestamps, windows, pane };
  }

  /** Decodes whole encoded elements (all of `bytes`) into batches. */
  decodeAll(bytes: Uint8Array): ElementBatch[] {
    const batches: ElementBatch[] = [];
    let p = 0;
    while (p < bytes.length) {
      const q = this.next(bytes, p, bytes.length);
      if (q === INCOMPLETE) throw new RangeError(`truncated element at byte ${p}`);
      if (q === BATCH_FULL) batches.push(this.take() as ElementBatch);
      else p = q;
    }
    const last = this.take();
    if (last) batches.push(last);
    return batches;
  }

  /** End of the window list and pane that start at `p` (after the timestamp). */
  private headerEnd(b: Uint8Array, p: number, end: number): number {
    if (p + 4 > end) return INCOMPLETE;
    const count = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    let q = p + 4;
    for (let i = 0; i < count && q !== INCOMPLETE; i++) {
      q += this.windowBytes;
      if (this.windowBytes > 0) q = q > end ? INCOMPLETE : skipVarInt(b, q, end);
    }
    if (q === INCOMPLETE || q >= end) return INCOMPLETE;
    const paneKind = b[q]! >> 4;
    q += 1;
    for (let i = 0; i < paneKind && q !== INCOMPLETE; i++) q = skipVarInt(b, q, end);
    return q;
  }

  private sameHeader(b: Uint8Array, p: number, end: number): boolean {
    const header = this.header as Uint8Array;
    if (header.length !== end - p) return false;
    for (let i = 0; i < header.length; i++) if (header[i] !== b[p + i]) return false;
    return true;
  }
}

/** Fixed bytes of one window before its varint, by window coder (global windows have none). */
const WINDOW_SIZES = new Map<string, number>([
  [GLOBAL_WINDOW_URN, 0],
  [INTERVAL_WINDOW_URN, 8],
]);
