/**
 * The `"batch"` field of a `firefly:dofn:v1` payload, which makes a ParDo a
 * batch ParDo (README "Vectorized DoFns"):
 * `{"batch": {"maxElements": 4096, "maxBytes": 4194304, "timestamps": false}}`.
 */
import type { BatchLimits } from "../../coders/columnar/index.js";
import { UserCodeSpecError } from "../user-code/user-code-spec.js";

export interface BatchOptions extends BatchLimits {
  /**
   * Most elements in one input batch.
   * @default 4096
   */
  maxElements: number;
  /**
   * An input batch is closed once its elements' encoded bytes reach this.
   * @default 4194304 (4 MiB)
   */
  maxBytes: number;
  /**
   * Add a `timestamp` column (int64 millis) to the batches the DoFn gets.
   * @default false
   */
  timestamps: boolean;
}

export const DEFAULT_BATCH_OPTIONS: Readonly<BatchOptions> = {
  maxElements: 4096,
  maxBytes: 4 * 1024 * 1024,
  timestamps: false,
};

/** The batch options of a DoFn payload, or undefined when it has no `"batch"` field. */
export function parseBatchOptions(payload: Uint8Array): BatchOptions | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined; // parseUserCodeSpec reports malformed payloads
  }
  const batch = (json as { batch?: unknown } | null)?.batch;
  if (batch === undefined) return undefined;
  if (batch === null || typeof batch !== "object" || Array.isArray(batch))
    throw new UserCodeSpecError('DoFn payload "batch" must be an object');
  const o = batch as Record<string, unknown>;
  const options = { ...DEFAULT_BATCH_OPTIONS };
  for (const name of ["maxElements", "maxBytes"] as const) {
    const v = o[name];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1)
      throw new UserCodeSpecError(
        `DoFn payload batch.${name} must be a positive integer, got ${JSON.stringify(v)}`,
      );
    options[name] = v;
  }
  if (o.timestamps !== undefined) {
    if (typeof o.timestamps !== "boolean")
      throw new UserCodeSpecError("DoFn payload batch.timestamps must be true or false");
    options.timestamps = o.timestamps;
  }
  return options;
}
