/**
 * Decodes a stream of encoded windowed values straight into columns
 * (`ElementBatch`es): timestamps into an int64 column, the value's fields
 * through the column decoders of their coders, in a compiled loop
 * (decode-run.ts). Rows of one batch share their encoded window set and pane
 * (compared as bytes); a different one starts the next batch. Supported:
 * windowed values in global or interval windows whose value is a KV or an
 * atomic value with column kinds, or a schema row whose fields all have
 * column kinds (nulls become Arrow nulls); `ColumnarDecoder.forCoder` says
 * undefined otherwise.
 */
import { Table, Vector } from "apache-arrow";
import { ByteReader } from "../byte-reader.js";
import type { Coder } from "../coder.js";
import { GLOBAL_WINDOW_URN } from "../global-window.js";
import { INTERVAL_WINDOW_URN } from "../interval-window.js";
import { KV_URN } from "../kv.js";
import { readPane } from "../pane-info.js";
import { ROW_URN, type RowCoder } from "../row.js";
import type { BoundedWindow } from "../values.js";
import { WINDOWED_VALUE_URN } from "../windowed-value.js";
import { WindowsCodec } from "../windows.js";
import {
  columnKind,
  INCOMPLETE,
  type ColumnDecoder,
  type ColumnKind,
  type Nulls,
} from "./column-decoders.js";
import {
  BATCH_FULL,
  compileRun,
  RunState,
  type DecodeRun,
  type ValueLayout,
} from "./decode-run.js";
import type { ElementBatch } from "./element-batch.js";

export { BATCH_FULL, INCOMPLETE };

export interface BatchLimits {
  /** Most rows in one batch. */
  maxElements: number;
  /** A batch is full once its elements' encoded bytes reach this. */
  maxBytes: number;
}

/** The named columns of a value coder and how its encoding lays them out. */
interface ValueColumns {
  columns: [string, ColumnKind][];
  layout: ValueLayout;
}

function columnsOf(valueCoder: Coder<unknown>): ValueColumns | undefined {
  if (valueCoder.urn === KV_URN) {
    const [k, v] = valueCoder.components as Coder<unknown>[];
    const key = columnKind(k!.urn);
    const value = columnKind(v!.urn);
    return key && value
      ? {
          columns: [
            ["key", key],
            ["value", value],
          ],
          layout: { kind: "columns" },
        }
      : undefined;
  }
  if (valueCoder.urn === ROW_URN) {
    const row = valueCoder as RowCoder;
    const kinds = row.fieldCoders.map((c) => columnKind(c.urn));
    if (kinds.length === 0 || kinds.some((k) => k === undefined)) return undefined;
    return {
      columns: row.schema.fields.map((f, i) => [f.name, kinds[i]!]),
      layout: { kind: "row", order: row.encodingOrder },
    };
  }
  const kind = columnKind(valueCoder.urn);
  return kind ? { columns: [["value", kind]], layout: { kind: "columns" } } : undefined;
}

/**
 * The named columns of a value coder: `key`/`value` for a KV, one per field
 * for a row of atomic fields, `value` otherwise; undefined when a part has no column kind.
 */
export function valueColumns(valueCoder: Coder<unknown>): [string, ColumnKind][] | undefined {
  return columnsOf(valueCoder)?.columns;
}

export class ColumnarDecoder {
  private readonly names: string[];
  private readonly columns: ColumnDecoder[];
  private readonly validity: Uint8Array[] | undefined;
  private readonly state: RunState;
  private readonly run: DecodeRun;
  private readonly windows: WindowsCodec;

  /** A decoder for `coder`, or undefined when its elements cannot be decoded into columns. */
  static forCoder(coder: Coder<unknown>, limits: BatchLimits): ColumnarDecoder | undefined {
    if (coder.urn !== WINDOWED_VALUE_URN) return undefined;
    const [valueCoder, windowCoder] = coder.components as Coder<unknown>[];
    const windowBytes = WINDOW_SIZES.get(windowCoder!.urn);
    const value = columnsOf(valueCoder!);
    if (windowBytes === undefined || !value) return undefined;
    return new ColumnarDecoder(
      coder,
      windowCoder as Coder<BoundedWindow>,
      windowBytes,
      value,
      limits,
    );
  }

  private constructor(
    private readonly coder: Coder<unknown>,
    windowCoder: Coder<BoundedWindow>,
    windowBytes: number,
    value: ValueColumns,
    limits: BatchLimits,
  ) {
    const capacity = limits.maxElements;
    this.names = value.columns.map(([name]) => name);
    this.columns = value.columns.map(([, kind]) => kind.decoder(capacity));
    this.validity =
      value.layout.kind === "row" ? this.columns.map(() => new Uint8Array(capacity)) : undefined;
    this.state = new RunState(capacity, limits.maxBytes);
    this.run = compileRun({
      windowBytes,
      value: value.layout,
      columns: this.columns,
      validity: this.validity,
    });
    this.windows = new WindowsCodec(windowCoder, coder);
  }

  /** Rows decoded into the current batch. */
  get pending(): number {
    return this.state.rows;
  }

  /** Where the last `decode` stopped: the start of the first element it did not decode. */
  get position(): number {
    return this.state.pos;
  }

  /**
   * Decodes the elements of `b[p, end)` into the current batch until it is
   * full or the next element has another window set or pane (BATCH_FULL:
   * take the batch, then go on from `position`), or the bytes end
   * (INCOMPLETE: `position` is where the last whole element ends).
   */
  decode(b: Uint8Array, p: number, end: number): number {
    return this.run(b, p, end, this.state);
  }

  /** Forgets the `n` rows decoded last (elements a split made residual). */
  dropLast(n = 1): void {
    this.state.rows = Math.max(0, this.state.rows - n);
  }

  /** The rows decoded so far as a batch (undefined when there are none). */
  take(): ElementBatch | undefined {
    const s = this.state;
    const rows = s.rows;
    const header = s.header;
    if (rows === 0 || !header) return undefined;
    const vectors: Record<string, Vector> = {};
    for (let c = 0; c < this.columns.length; c++) {
      const nulls = this.validity && nullsOf(this.validity[c]!, rows);
      vectors[this.names[c]!] = new Vector([this.columns[c]!.finish(rows, nulls)]);
    }
    const timestamps = new BigInt64Array(s.ts.buffer, 0, rows);
    s.ts = new Int32Array(s.maxRows * 2);
    s.rows = 0;
    s.bytes = 0;
    s.header = undefined;
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
      const status = this.decode(bytes, p, bytes.length);
      p = this.position;
      if (status === BATCH_FULL) batches.push(this.take() as ElementBatch);
      else if (p < bytes.length) throw new RangeError(`truncated element at byte ${p}`);
    }
    const last = this.take();
    if (last) batches.push(last);
    return batches;
  }
}

/** The Arrow validity of a row column (undefined when no cell is null). */
function nullsOf(valid: Uint8Array, rows: number): Nulls | undefined {
  let nullCount = 0;
  for (let i = 0; i < rows; i++) nullCount += 1 - valid[i]!;
  if (nullCount === 0) return undefined;
  const nullBitmap = new Uint8Array((rows + 7) >> 3);
  for (let i = 0; i < rows; i++) if (valid[i]) nullBitmap[i >> 3]! |= 1 << (i & 7);
  return { nullBitmap, nullCount };
}

/** Fixed bytes of one window before its varint, by window coder (global windows have none). */
const WINDOW_SIZES = new Map<string, number>([
  [GLOBAL_WINDOW_URN, 0],
  [INTERVAL_WINDOW_URN, 8],
]);
