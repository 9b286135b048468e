/**
 * Encodes a batch's rows as windowed values, straight from its columns: the
 * window set and pane are encoded once per batch, then each row is its
 * timestamp, those bytes and its value's cells (column-encoders.ts). The
 * bytes are exactly what the per-element windowed-value coder writes.
 */
import { ByteWriter } from "../byte-writer.js";
import type { Coder } from "../coder.js";
import { KV_URN } from "../kv.js";
import { writePane } from "../pane-info.js";
import type { BoundedWindow } from "../values.js";
import { WINDOWED_VALUE_URN } from "../windowed-value.js";
import { WindowsCodec } from "../windows.js";
import { rowReader } from "./batch-rows.js";
import { cellEncoder, type CellEncoder } from "./column-encoders.js";
import { rowShape, type ElementBatch } from "./element-batch.js";

/** Encodes row `i` of a prepared batch. */
export type RowEncoder = (i: number, w: ByteWriter) => void;

export class ColumnarEncoder {
  private readonly windows: WindowsCodec;
  private readonly valueCoder: Coder<unknown>;

  /** An encoder for a windowed-value coder, or undefined for another coder. */
  static forCoder(coder: Coder<unknown>): ColumnarEncoder | undefined {
    return coder.urn === WINDOWED_VALUE_URN ? new ColumnarEncoder(coder) : undefined;
  }

  private constructor(private readonly coder: Coder<unknown>) {
    const [valueCoder, windowCoder] = coder.components as Coder<unknown>[];
    this.valueCoder = valueCoder!;
    this.windows = new WindowsCodec(windowCoder as Coder<BoundedWindow>, coder);
  }

  /** The encoder of the batch's rows. */
  prepare(batch: ElementBatch): RowEncoder {
    const header = new ByteWriter(64);
    this.windows.write(header, batch.windows);
    writePane(header, batch.pane, this.coder);
    const headerBytes = header.toBytes();
    const cells = this.cellEncoders(batch);
    const halves = new Int32Array(
      batch.timestamps.buffer,
      batch.timestamps.byteOffset,
      batch.timestamps.length * 2,
    );
    const n = headerBytes.length;
    return (i, w) => {
      w.ensure(8 + n);
      const b = w.buf;
      let p = w.pos;
      const hi = (halves[i * 2 + 1]! ^ 0x80000000) >>> 0;
      const lo = halves[i * 2]! >>> 0;
      b[p] = hi >>> 24;
      b[p + 1] = hi >>> 16;
      b[p + 2] = hi >>> 8;
      b[p + 3] = hi;
      b[p + 4] = lo >>> 24;
      b[p + 5] = lo >>> 16;
      b[p + 6] = lo >>> 8;
      b[p + 7] = lo;
      p += 8;
      for (let k = 0; k < n; k++) b[p + k] = headerBytes[k]!;
      w.pos = p + n;
      for (let c = 0; c < cells.length; c++) cells[c]!(i, w);
    };
  }

  /** Encodes every row of the batch (for tests and one-shot use). */
  encodeAll(batch: ElementBatch, w: ByteWriter): void {
    const encode = this.prepare(batch);
    for (let i = 0; i < batch.table.numRows; i++) encode(i, w);
  }

  private cellEncoders(batch: ElementBatch): CellEncoder[] {
    const table = batch.table;
    const shape = rowShape(table);
    if (this.valueCoder.urn === KV_URN && shape === "kv") {
      const [k, v] = this.valueCoder.components as Coder<unknown>[];
      return [cellEncoder(table.getChild("key")!, k!), cellEncoder(table.getChild("value")!, v!)];
    }
    if (this.valueCoder.urn !== KV_URN && shape === "value")
      return [cellEncoder(table.getChild("value")!, this.valueCoder)];
    const read = rowReader(table);
    const coder = this.valueCoder;
    return [(i, w) => coder.encodeTo(read(i), w, "nested")];
  }
}
