/**
 * The batch DoFn contract (README "Vectorized DoFns"): the export of a
 * `firefly:dofn:v1` payload with a `"batch"` field is a function (taken as
 * `processBatch`), or a DoFn object or class with `processBatch(batch, ctx)`
 * and the usual optional `setup`, `startBundle`, `finishBundle`, `teardown`.
 */
import type { DoFn, ProcessResult } from "../pardo/dofn.js";
import { UserCodeSpecError } from "../user-code/user-code-spec.js";

export interface BatchDoFn extends DoFn {
  processBatch(batch: unknown, ctx: unknown): unknown;
}

const LIFECYCLE = ["setup", "startBundle", "finishBundle", "teardown"] as const;

function notPerElement(): ProcessResult {
  throw new TypeError("a batch DoFn gets its elements in batches (processBatch)");
}

export function instantiateBatchDoFn(exported: unknown, what: string): BatchDoFn {
  let dofn: Partial<BatchDoFn>;
  if (typeof exported === "function") {
    const proto = (exported as { prototype?: { processBatch?: unknown } }).prototype;
    dofn =
      typeof proto?.processBatch === "function"
        ? new (exported as new () => BatchDoFn)()
        : { processBatch: exported as BatchDoFn["processBatch"] };
  } else if (exported !== null && typeof exported === "object") {
    dofn = Object.create(exported) as BatchDoFn;
  } else {
    throw new UserCodeSpecError(
      `${what} is ${exported === null ? "null" : typeof exported}, not a batch DoFn`,
    );
  }
  if (typeof dofn.processBatch !== "function")
    throw new UserCodeSpecError(`${what} has no processBatch method (a batch DoFn needs one)`);
  for (const method of LIFECYCLE) {
    const m = (dofn as Record<string, unknown>)[method];
    if (m !== undefined && typeof m !== "function")
      throw new UserCodeSpecError(`${what}.${method} is not a function`);
  }
  if (typeof dofn.process !== "function") dofn.process = notPerElement;
  return dofn as BatchDoFn;
}
