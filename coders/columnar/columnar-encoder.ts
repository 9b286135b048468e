/**
 * Encodes a batch's rows as windowed values, straight from its columns: the
 * window set and pane are encoded once per batch, then each row is its
 * timestamp, those bytes and its value's cells (column-encoders.ts), written
 * by a compiled loop (encode-rows.ts). Rows of a schema also get their
 * field count and null bitmap from the columns' validity. The bytes are
 * exactly what the per-element windowed-value coder writes.
 */
import { ByteWriter } from "../byte-writer.js";
import type { Coder } from "../coder.js";
import { KV_URN } from "../kv.js";
import { writePane } from "../pane-info.js";
import { ROW_URN, type RowCoder } from "../row.js";
import type { BoundedWindow } from "../values.js";
import { WINDOWED_VALUE_URN } from "../windowed-value.js";
import { WindowsCodec } from "../windows.js";
import type { Vector } from "apache-arrow";
import { rowReader } from "./batch-rows.js";
import { cellEncoder, type CellEncoder } from "./column-encoders.js";
import { rowShape, type ElementBatch } from "./element-batch.js";
import {
  compileEncodeRows,
  shapeKey,
  type BatchRefs,
  type EncodeRows,
  type EncodeShape,
  type Validity,
} from "./encode-rows.js";

/**
 * A batch ready to be written: `encodeRows(from, w, until)` writes rows from
 * `from` on until the last row or until the writer holds `until` bytes, and
 * returns the row after the last one written.
 */
export interface PreparedRows {
  readonly rows: number;
  encodeRows(from: number, w: ByteWriter, until?: number): number;
}

/** The cells of a batch's rows, and what the loop needs besides them. */
interface Cells {
  shape: EncodeShape;
  cells: CellEncoder[];
  /** Bytes after the window set and pane (a row's field count and empty null bitmap). */
  prefix: number[];
  validity?: (Validity | undefined)[];
}

export class ColumnarEncoder {
  private readonly windows: WindowsCodec;
  private readonly valueCoder: Coder<unknown>;
  private readonly loops = new Map<string, EncodeRows>();

  /** An encoder for a windowed-value coder, or undefined for another coder. */
  static forCoder(coder: Coder<unknown>): ColumnarEncoder | undefined {
    return coder.urn === WINDOWED_VALUE_URN ? new ColumnarEncoder(coder) : undefined;
  }

  private constructor(private readonly coder: Coder<unknown>) {
    const [valueCoder, windowCoder] = coder.components as Coder<unknown>[];
    this.valueCoder = valueCoder!;
    this.windows = new WindowsCodec(windowCoder as Coder<BoundedWindow>, coder);
  }

  /** The batch's rows, ready to be written. */
  prepare(batch: ElementBatch): PreparedRows {
    const cells = this.cellsOf(batch);
    const header = new ByteWriter(64);
    this.windows.write(header, batch.windows);
    writePane(header, batch.pane, this.coder);
    for (const byte of cells.prefix) header.writeByte(byte);
    const ts = batch.timestamps;
    const refs: BatchRefs = {
      constant: header.toBytes(),
      halves: new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2),
      cells: cells.cells,
      validity: cells.validity,
    };
    const key = shapeKey(cells.shape);
    let loop = this.loops.get(key);
    if (!loop) this.loops.set(key, (loop = compileEncodeRows(cells.shape)));
    const encodeRows = loop;
    const rows = batch.table.numRows;
    return {
      rows,
      encodeRows: (from, w, until = Infinity) => encodeRows(from, rows, w, until, refs),
    };
  }

  /** Encodes every row of the batch (for tests and one-shot use). */
  encodeAll(batch: ElementBatch, w: ByteWriter): void {
    this.prepare(batch).encodeRows(0, w);
  }

  private cellsOf(batch: ElementBatch): Cells {
    const table = batch.table;
    const shape = rowShape(table);
    const plain = (cells: CellEncoder[]): Cells => ({
      shape: { cells: cells.length },
      cells,
      prefix: [],
    });
    if (this.valueCoder.urn === KV_URN && shape === "kv") {
      const [k, v] = this.valueCoder.components as Coder<unknown>[];
      return plain([
        cellEncoder(table.getChild("key")!, k!),
        cellEncoder(table.getChild("value")!, v!),
      ]);
    }
    if (this.valueCoder.urn !== KV_URN && this.valueCoder.urn !== ROW_URN && shape === "value")
      return plain([cellEncoder(table.getChild("value")!, this.valueCoder)]);
    if (this.valueCoder.urn === ROW_URN) {
      const columns = rowColumns(this.valueCoder as RowCoder, batch);
      if (columns) return columns;
    }
    const read = rowReader(table);
    const coder = this.valueCoder;
    return plain([{ write: (i, w) => coder.encodeTo(read(i), w, "nested") }]);
  }
}

/**
 * A row's cells straight from the batch's columns named after the schema's
 * fields, in encoding order; undefined when a field has no column.
 */
function rowColumns(coder: RowCoder, batch: ElementBatch): Cells | undefined {
  const fields = coder.schema.fields;
  const columns = fields.map((f) => batch.table.getChild(f.name) as Vector | null);
  if (columns.some((c) => c === null || c.data.length !== 1)) return undefined;
  const order = coder.encodingOrder;
  const cells = order.map((i) => cellEncoder(columns[i]!, coder.fieldCoders[i]!, true));
  const validity = order.map((i): Validity | undefined => {
    const data = columns[i]!.data[0]!;
    return data.nullCount > 0 ? { bitmap: data.nullBitmap!, offset: data.offset } : undefined;
  });
  const count = new ByteWriter(8);
  count.writeUVarInt32(fields.length);
  const prefix = [...count.toBytes()];
  if (validity.every((v) => v === undefined))
    return { shape: { cells: cells.length }, cells, prefix: [...prefix, 0] };
  for (const i of order) {
    const data = columns[i]!.data[0]!;
    if (data.nullCount > 0 && fields[i]!.type.nullable !== true)
      throw new TypeError(
        `column ${JSON.stringify(fields[i]!.name)} has nulls, but the field is not nullable`,
      );
  }
  return {
    shape: {
      cells: cells.length,
      nulls: {
        nullable: validity.map((v) => v !== undefined),
        fields: order,
        bitmapBytes: (fields.length + 7) >> 3,
      },
    },
    cells,
    prefix,
    validity,
  };
}
