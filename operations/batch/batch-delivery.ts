/**
 * Hands a batch to a receiver: as it is when the receiver takes batches
 * (consecutive batch ParDos, a data sink), else row by row as elements (the
 * boundary to per-element operations, the only place rows become objects).
 */
import { rowReader, type ElementBatch } from "../../coders/columnar/index.js";
import type { MaybePromise, Receiver } from "../operation.js";

export function deliverBatch(receiver: Receiver, batch: ElementBatch): MaybePromise {
  if (receiver.takesBatches) return (receiver as Required<Receiver>).processBatch(batch);
  return deliverRows(receiver, batch, rowReader(batch.table), 0);
}

function deliverRows(
  receiver: Receiver,
  batch: ElementBatch,
  read: (i: number) => unknown,
  from: number,
): MaybePromise {
  const { timestamps, windows, pane } = batch;
  const n = batch.table.numRows;
  for (let i = from; i < n; i++) {
    const pending = receiver.process({ value: read(i), timestamp: timestamps[i]!, windows, pane });
    if (pending) return pending.then(() => deliverRows(receiver, batch, read, i + 1));
  }
  return undefined;
}
