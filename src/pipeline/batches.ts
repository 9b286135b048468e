/**
 * The builder side of batch DoFns (README "Vectorized DoFns"):
 * `pc.mapBatches(fn, options)` and `pc.parDo(dofnWithProcessBatch)` ship the
 * DoFn with a `"batch"` field in its `firefly:dofn:v1` payload, which the
 * worker runs as a batch ParDo.
 */
import { shipUserCode, type UserCodePayload } from "./ship-function.js";

export interface BatchingOptions {
  /**
   * Most elements in one batch.
   * @default 4096
   */
  batchSize?: number;
  /**
   * A batch is closed once its elements' encoded bytes reach this.
   * @default 4194304 (4 MiB)
   */
  batchBytes?: number;
  /**
   * Add a `timestamp` column (int64 millis) to the batches.
   * @default false
   */
  withTimestamps?: boolean;
}

/** The payload's `"batch"` field (only the options given; the worker fills defaults). */
interface BatchField {
  maxElements?: number;
  maxBytes?: number;
  timestamps?: boolean;
}

function positive(value: number | undefined, option: string, where: string): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1))
    throw new TypeError(`${where}: options.${option} must be a positive integer, got ${value}`);
  return value;
}

/** The user code payload with the batch field that makes it a batch DoFn. */
export function asBatchDoFn(
  code: UserCodePayload,
  options: BatchingOptions,
  where: string,
): UserCodePayload & { batch: BatchField } {
  const batch: BatchField = {};
  const maxElements = positive(options.batchSize, "batchSize", where);
  const maxBytes = positive(options.batchBytes, "batchBytes", where);
  if (maxElements !== undefined) batch.maxElements = maxElements;
  if (maxBytes !== undefined) batch.maxBytes = maxBytes;
  if (options.withTimestamps !== undefined) batch.timestamps = options.withTimestamps;
  return { ...code, batch };
}

/** `mapBatches`: the function is the DoFn's `processBatch` (a function export is taken as it). */
export function mapBatchesDoFn(
  fn: (...args: never[]) => unknown,
  what: string,
  config: unknown,
  options: BatchingOptions,
): UserCodePayload {
  return asBatchDoFn(shipUserCode(fn, what, config), options, what);
}

/** Whether a DoFn given to `parDo` is a batch DoFn (it has `processBatch`). */
export function hasProcessBatch(dofn: unknown): boolean {
  if (dofn === null || (typeof dofn !== "object" && typeof dofn !== "function")) return false;
  const proto = (dofn as { prototype?: Record<string, unknown> }).prototype;
  return (
    typeof (dofn as Record<string, unknown>).processBatch === "function" ||
    typeof proto?.processBatch === "function"
  );
}
