/**
 * A batch from decoded values (the fallback for a batch ParDo whose input
 * comes element by element, e.g. after a per-element ParDo or a
 * GroupByKey): `key`/`value` columns typed by the value coder's column kinds,
 * one column per schema field for rows, or a `value` column typed by Arrow's
 * inference for other coders.
 */
import { Table, vectorFromArray, type Vector } from "apache-arrow";
import type { Coder } from "../coder.js";
import { KV_URN } from "../kv.js";
import { ROW_URN, type RowCoder } from "../row.js";
import type { BoundedWindow, PaneInfo } from "../values.js";
import { valueColumns } from "./columnar-decoder.js";
import type { ElementBatch } from "./element-batch.js";

type Field = (value: unknown) => unknown;

/** Column names and how each reads its cell from a value. */
function fieldsOf(valueCoder: Coder<unknown>): [string, Field][] {
  const byName =
    (name: string): Field =>
    (v) =>
      (v as Record<string, unknown>)[name];
  if (valueCoder.urn === KV_URN)
    return [
      ["key", byName("key")],
      ["value", byName("value")],
    ];
  if (valueCoder.urn === ROW_URN)
    return (valueCoder as RowCoder).schema.fields.map((f) => [f.name, byName(f.name)]);
  return [["value", (v) => v]];
}

export function batchFromValues(
  values: readonly unknown[],
  timestamps: readonly bigint[],
  windows: readonly BoundedWindow[],
  pane: PaneInfo,
  valueCoder: Coder<unknown>,
): ElementBatch {
  const kinds = valueColumns(valueCoder);
  const columns: Record<string, Vector> = {};
  fieldsOf(valueCoder).forEach(([name, field], c) => {
    const cells = values.map(field);
    const kind = kinds?.[c]?.[1];
    columns[name] = kind
      ? vectorFromArray(
          cells.map((c) => (c === null || c === undefined ? null : kind.toArrow(c))),
          kind.arrowType(),
        )
      : vectorFromArray(cells);
  });
  return {
    table: new Table(columns),
    timestamps: BigInt64Array.from(timestamps),
    windows,
    pane,
  };
}
