/**
 * A ParDo whose DoFn takes columnar batches (README "Vectorized DoFns"):
 * `processBatch(batch, ctx)` gets an Arrow `Table` of elements of one window
 * set and pane, and returns a batch (see batch-results.ts) or an iterable of
 * elements. Batches come straight from a columnar data source or a batch
 * ParDo before it; elements from a per-element producer are collected into
 * batches first. Output batches go on whole to a consumer that takes batches,
 * row by row to any other.
 */
import { makeVector, Table } from "apache-arrow";
import { maxTimestamp, type BatchLimits, type ElementBatch } from "../../coders/columnar/index.js";
import type { WindowedValue } from "../../coders/index.js";
import type { pipelineApi } from "../../proto/index.js";
import { OperationError, UserCodeError, errorMessage } from "../errors.js";
import type { MaybePromise } from "../operation.js";
import type { DoFn } from "../pardo/dofn.js";
import { ParDoOperation, registerParDoVariant } from "../pardo/pardo-operation.js";
import type { OperationContext } from "../registry.js";
import type { UserCodeSpec } from "../user-code/user-code-spec.js";
import { deliverBatch } from "./batch-delivery.js";
import { instantiateBatchDoFn, type BatchDoFn } from "./batch-dofn.js";
import { parseBatchOptions, type BatchOptions } from "./batch-options.js";
import { outputBatch } from "./batch-results.js";
import { PendingElements } from "./pending-elements.js";

export class BatchParDoOperation extends ParDoOperation {
  readonly takesBatches = true;
  readonly batchLimits: BatchLimits;
  private batchFn: BatchDoFn | undefined;
  private readonly pending: PendingElements;

  constructor(
    op: OperationContext,
    payload: pipelineApi.ParDoPayload,
    spec: UserCodeSpec,
    private readonly options: BatchOptions,
  ) {
    super(op, payload, spec);
    this.batchLimits = { maxElements: options.maxElements, maxBytes: options.maxBytes };
    const sideInputs = new Set(payload.side_inputs.keys());
    const [input] = [...op.transform.inputs].filter(([name]) => !sideInputs.has(name));
    if (!input)
      throw new OperationError(op.transformId, this.urn, "a batch ParDo needs a main input");
    this.pending = new PendingElements(op.pcollectionCoder(input[1]), options.maxElements);
  }

  protected override instantiate(exported: unknown, what: string): DoFn {
    this.batchFn = instantiateBatchDoFn(exported, what);
    return this.batchFn;
  }

  override process(element: WindowedValue<unknown>): MaybePromise {
    if (this.pending.mustTakeBefore(element)) {
      const pending = this.runPending();
      if (pending) return pending.then(() => this.pending.add(element));
    }
    this.pending.add(element);
    return undefined;
  }

  processBatch(batch: ElementBatch): MaybePromise {
    if (this.pending.size === 0) return this.runBatch(batch);
    const pending = this.runPending();
    return pending ? pending.then(() => this.runBatch(batch)) : this.runBatch(batch);
  }

  override async finishBundle(): Promise<void> {
    await this.runPending();
    await super.finishBundle();
  }

  private runPending(): MaybePromise {
    let batch: ElementBatch | undefined;
    try {
      batch = this.pending.take();
    } catch (err) {
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot put input elements into a batch: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return batch && this.runBatch(batch);
  }

  private runBatch(batch: ElementBatch): MaybePromise {
    const fn = this.batchFn as BatchDoFn;
    this.ctx.current = {
      value: undefined,
      timestamp: maxTimestamp(batch.timestamps),
      windows: batch.windows,
      pane: batch.pane,
    };
    let result: unknown;
    try {
      result = fn.processBatch(this.userTable(batch), this.ctx);
    } catch (err) {
      throw new UserCodeError(this.transformId, "processBatch", err);
    }
    if (result !== null && typeof (result as Promise<unknown>)?.then === "function") {
      return (result as Promise<unknown>).then(
        (resolved) => this.emitBatchResult(resolved, batch),
        (err: unknown) => {
          throw new UserCodeError(this.transformId, "processBatch", err);
        },
      );
    }
    return this.emitBatchResult(result, batch);
  }

  private userTable(batch: ElementBatch): Table {
    if (!this.options.timestamps) return batch.table;
    return batch.table.assign(new Table({ timestamp: makeVector(batch.timestamps) }));
  }

  private emitBatchResult(result: unknown, input: ElementBatch): MaybePromise {
    if (result === undefined || result === null) return this.outputsTaken();
    let batch: ElementBatch | undefined;
    try {
      batch = outputBatch(result, input);
    } catch (err) {
      throw new UserCodeError(this.transformId, "processBatch", err);
    }
    if (batch) {
      const drained = this.outputsTaken();
      const main = this.mainOutput();
      return drained ? drained.then(() => deliverBatch(main, batch)) : deliverBatch(main, batch);
    }
    return this.emitElements(result, input);
  }

  /** An iterable (or async iterable) of elements: at the batch's largest timestamp. */
  private emitElements(result: unknown, input: ElementBatch): MaybePromise {
    const timestamp = maxTimestamp(input.timestamps);
    const { windows, pane } = input;
    const iterable = result as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
    if (typeof iterable[Symbol.iterator] === "function" && typeof result !== "string") {
      for (const value of iterable as Iterable<unknown>)
        this.emit(value, timestamp, windows, pane, undefined);
      return this.outputsTaken();
    }
    if (typeof iterable[Symbol.asyncIterator] === "function") {
      return (async () => {
        for await (const value of iterable as AsyncIterable<unknown>) {
          this.emit(value, timestamp, windows, pane, undefined);
          await this.outputsTaken();
        }
      })();
    }
    throw new UserCodeError(
      this.transformId,
      "processBatch",
      new TypeError(
        `processBatch returned ${typeof result}; return an Arrow Table/RecordBatch, an object of columns, or an iterable of elements`,
      ),
    );
  }
}

registerParDoVariant((op, payload, spec) => {
  let options: BatchOptions | undefined;
  try {
    options = parseBatchOptions(payload.do_fn.payload);
  } catch (err) {
    throw new OperationError(op.transformId, "beam:transform:pardo:v1", errorMessage(err), {
      cause: err,
    });
  }
  if (options && (payload.state_specs.size > 0 || payload.timer_family_specs.size > 0))
    throw new OperationError(
      op.transformId,
      "beam:transform:pardo:v1",
      "a batch DoFn cannot use user state or timers (they are per key; a batch holds many keys)",
    );
  return options && new BatchParDoOperation(op, payload, spec, options);
});
