/**
 * A batch from decoded values (the fallback for a batch ParDo whose input
 * comes element by element, e.g. after a per-element ParDo or a
 * GroupByKey): columns typed by the value coder's column kinds, or typed by
 * Arrow's inference for other coders.
 */
import { Table, vectorFromArray, type Vector } from "apache-arrow";
import type { Coder } from "../coder.js";
import type { BoundedWindow, PaneInfo } from "../values.js";
import { valueColumns } from "./columnar-decoder.js";
import type { ElementBatch } from "./element-batch.js";

export function batchFromValues(
  values: readonly unknown[],
  timestamps: readonly bigint[],
  windows: readonly BoundedWindow[],
  pane: PaneInfo,
  valueCoder: Coder<unknown>,
): ElementBatch {
  const kinds = valueColumns(valueCoder);
  const isKv = kinds ? kinds.length === 2 : valueCoder.urn === "beam:coder:kv:v1";
  const names = isKv ? ["key", "value"] : ["value"];
  const columns: Record<string, Vector> = {};
  names.forEach((name, c) => {
    const cells = isKv ? values.map((v) => (v as Record<string, unknown>)[name]) : values;
    const kind = kinds?.[c]?.[1];
    columns[name] = kind
      ? vectorFromArray(cells.map(kind.toArrow), kind.arrowType())
      : vectorFromArray(cells as unknown[]);
  });
  return {
    table: new Table(columns),
    timestamps: BigInt64Array.from(timestamps),
    windows,
    pane,
  };
}
