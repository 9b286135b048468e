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

/** The largest timestamp of a batch (the minimum int64 for an empty batch). */
export function maxTimestamp(timestamps: BigInt64Array): bigint {
  let max = -(2n ** 63n);
  for (const t of timestamps) if (t > max) max = t;
  return max;
}
