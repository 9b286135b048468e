/**
 * Rows of a batch as values of the README's value model (the boundary to
 * per-element code): `{key, value}` for KV batches, the `value` column's
 * value, or an object by column name for rows. Arrow's int64 values become
 * numbers when they are safe integers, as the varint coder decodes them.
 */
import type { Table, Vector } from "apache-arrow";
import { rowShape, type ElementBatch } from "./element-batch.js";

/** A cell as the per-element coders' values. */
export function fromArrow(v: unknown): unknown {
  if (typeof v === "bigint") {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return v;
}

/** Reads row `i` of a table as a value. */
export type RowReader = (i: number) => unknown;

/** A reader of the table's rows as values (columns other than `timestamp`). */
export function rowReader(table: Table): RowReader {
  const shape = rowShape(table);
  if (shape === "kv") {
    const key = table.getChild("key") as Vector;
    const value = table.getChild("value") as Vector;
    return (i) => ({ key: fromArrow(key.get(i)), value: fromArrow(value.get(i)) });
  }
  if (shape === "value") {
    const value = table.getChild("value") as Vector;
    return (i) => fromArrow(value.get(i));
  }
  const columns = table.schema.fields.map(
    (f) => [f.name, table.getChild(f.name) as Vector] as const,
  );
  return (i) => {
    const row: Record<string, unknown> = {};
    for (const [name, column] of columns) row[name] = fromArrow(column.get(i));
    return row;
  };
}

/** Calls `visit(value, timestamp)` for every row of the batch. */
export function* batchValues(batch: ElementBatch): Generator<[unknown, bigint]> {
  const read = rowReader(batch.table);
  const n = batch.table.numRows;
  for (let i = 0; i < n; i++) yield [read(i), batch.timestamps[i] as bigint];
}
