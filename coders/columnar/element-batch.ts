/**
 * A batch of elements in columns (README "Vectorized DoFns"): an Arrow table
 * whose columns are named after the element's fields (`key`/`value` for KVs,
 * `value` for other values, one column per field for rows), one timestamp per
 * row, and the window set and pane every row shares.
 */
import type { Table } from "apache-arrow";
import type { BoundedWindow, PaneInfo } from "../values.js";

export interface ElementBatch {
  readonly table: Table;
  /** Event time of each row, int64 millis. */
  readonly timestamps: BigInt64Array;
  /** The windows of every row of the batch. */
  readonly windows: readonly BoundedWindow[];
  readonly pane: PaneInfo;
}

/** The shape of a batch's rows, from its column names. */
export type RowShape = "kv" | "value" | "row";

export function rowShape(table: Table): RowShape {
  const names = table.schema.fields.map((f) => f.name);
  if (names.includes("key") && names.includes("value") && names.length === 2) return "kv";
  if (names.length === 1 && names[0] === "value") return "value";
  return "row";
}

/**
 * The largest timestamp of a batch (the minimum int64 for an empty batch),
 * compared as int32 halves: a bigint comparison per row would cost more
 * than the rest of a simple batch DoFn.
 */
export function maxTimestamp(timestamps: BigInt64Array): bigint {
  const n = timestamps.length;
  if (n === 0) return -(2n ** 63n);
  const halves = new Int32Array(timestamps.buffer, timestamps.byteOffset, n * 2);
  let best = 0;
  let hi = halves[1]!;
  let lo = halves[0]! >>> 0;
  for (let i = 1; i < n; i++) {
    const h = halves[i * 2 + 1]!;
    if (h < hi) continue;
    const l = halves[i * 2]! >>> 0;
    if (h > hi || l > lo) {
      best = i;
      hi = h;
      lo = l;
    }
  }
  return timestamps[best]!;
}
