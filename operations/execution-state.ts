/**
 * Which transform, in which phase (start/process/finish), a bundle is
 * executing right now: one Int32 cell in shared memory that operations write
 * as they run and a sampler on the conductor reads periodically (Beam's
 * estimated execution times: `pardo_execution_time:*_msecs`,
 * `ptransform_execution_time:total_msecs`). Writing costs two stores per
 * element per operation; nothing is timed on the hot path.
 */
import type { BatchLimits, ElementBatch } from "../coders/columnar/index.js";
import type { WindowedValue } from "../coders/index.js";
import type { MaybePromise, Receiver } from "./operation.js";

export const PHASES = ["start", "process", "finish"] as const;
export type Phase = (typeof PHASES)[number];

/** Code 0 is idle; otherwise `operationIndex * 3 + phaseIndex + 1`. */
export function stateCode(operationIndex: number, phase: Phase): number {
  return operationIndex * 3 + PHASES.indexOf(phase) + 1;
}

export function decodeStateCode(code: number): { operationIndex: number; phase: Phase } {
  const n = code - 1;
  return { operationIndex: Math.floor(n / 3), phase: PHASES[n % 3] };
}

/** Marks the process phase of one operation while its `process` runs synchronously. */
export class TrackedReceiver implements Receiver {
  constructor(
    private readonly inner: Receiver,
    private readonly cell: Int32Array,
    private readonly code: number,
  ) {}

  process(element: WindowedValue<unknown>): MaybePromise {
    const cell = this.cell;
    const previous = cell[0];
    cell[0] = this.code;
    try {
      return this.inner.process(element);
    } finally {
      cell[0] = previous;
    }
  }

  get takesBatches(): boolean {
    return this.inner.takesBatches === true;
  }

  get batchLimits(): BatchLimits | undefined {
    return this.inner.batchLimits;
  }

  processBatch(batch: ElementBatch): MaybePromise {
    const cell = this.cell;
    const previous = cell[0];
    cell[0] = this.code;
    try {
      return (this.inner as Required<Receiver>).processBatch(batch);
    } finally {
      cell[0] = previous;
    }
  }
}
