/**
 * What `processBatch` returned, as an output batch (README "Vectorized
 * DoFns"): an Arrow `Table` or `RecordBatch`, or a plain object of columns
 * by name (Arrow vectors, typed arrays or arrays). Output rows take their
 * timestamps from a `timestamp` column when there is one (int64 or number
 * millis), else from the input row at the same position when the output has
 * as many rows as the input, else the input batch's largest timestamp. They
 * are in the input batch's windows, with its pane. Anything else (an
 * iterable of elements, undefined) is not a batch: `undefined` here.
 */
import { makeVector, RecordBatch, Table, Vector, vectorFromArray } from "apache-arrow";
import { maxTimestamp, type ElementBatch } from "../../coders/columnar/index.js";

export function outputBatch(result: unknown, input: ElementBatch): ElementBatch | undefined {
  const table = asTable(result);
  if (!table) return undefined;
  const names = table.schema.fields.map((f) => f.name);
  if (names.includes("timestamp")) {
    const column = table.getChild("timestamp") as Vector;
    const timestamps = BigInt64Array.from(column.toArray() as ArrayLike<number | bigint>, (t) =>
      BigInt(t),
    );
    return { ...input, table: table.select(names.filter((n) => n !== "timestamp")), timestamps };
  }
  const rows = table.numRows;
  const timestamps =
    rows === input.table.numRows
      ? input.timestamps
      : new BigInt64Array(rows).fill(maxTimestamp(input.timestamps));
  return { ...input, table, timestamps };
}

function asTable(result: unknown): Table | undefined {
  if (result instanceof Table) return result;
  if (result instanceof RecordBatch) return new Table(result);
  if (result === null || typeof result !== "object") return undefined;
  if (Symbol.iterator in result || Symbol.asyncIterator in result) return undefined;
  if (typeof (result as { then?: unknown }).then === "function") return undefined;
  const columns: Record<string, Vector> = {};
  for (const [name, column] of Object.entries(result)) columns[name] = asVector(name, column);
  return new Table(columns);
}

function asVector(name: string, column: unknown): Vector {
  if (column instanceof Vector) return column;
  if (ArrayBuffer.isView(column) && !(column instanceof DataView))
    return makeVector(column as Float64Array);
  if (Array.isArray(column)) return vectorFromArray(column);
  throw new TypeError(
    `processBatch returned column ${JSON.stringify(name)} as ${typeof column}: give an Arrow vector, a typed array or an array`,
  );
}
