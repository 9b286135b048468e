/**
 * `beam:runner:sink:v1`: encodes the elements it receives onto the outbound
 * data stream of its transform. The stream is closed with `is_last` at
 * finishBundle, also when no element was written (the runner waits for it).
 * Batches (README "Vectorized DoFns") are encoded straight from their
 * columns, into the same bytes: the wire never sees a batch.
 */
import type { ElementBatch, PreparedRows } from "../coders/columnar/index.js";
import type { Coder, WindowedValue } from "../coders/index.js";
import type { ElementSink } from "./bundle-services.js";
import { errorMessage, OperationError } from "./errors.js";
import type { MaybePromise, Operation } from "./operation.js";
import { parsePort, portCoder } from "./data-source.js";
import { registerOperation, type OperationContext } from "./registry.js";

export const DATA_SINK_URN = "beam:runner:sink:v1";

/**
 * Bytes of a batch's rows written between two `elementWritten` calls (the
 * sink flushes by size at those calls).
 */
const SLICE_BYTES = 16 * 1024;

/** How a sink encodes batches of its coder (undefined: it takes elements only). */
export type BatchEncoderFactory = (
  coder: Coder<WindowedValue<unknown>>,
) => ((batch: ElementBatch) => PreparedRows) | undefined;

let batchEncoders: BatchEncoderFactory | undefined;

/** Set by the batch operations (operations/batch/), loaded when a descriptor has batch DoFns. */
export function registerBatchEncoder(factory: BatchEncoderFactory): void {
  batchEncoders = factory;
}

export class DataSinkOperation implements Operation {
  readonly urn = DATA_SINK_URN;
  private sink: ElementSink | undefined;
  private readonly prepareBatch: ((batch: ElementBatch) => PreparedRows) | undefined;
  readonly takesBatches: boolean;

  constructor(
    readonly transformId: string,
    private readonly coder: Coder<WindowedValue<unknown>>,
    private readonly ctx: OperationContext,
  ) {
    this.prepareBatch = batchEncoders?.(coder);
    this.takesBatches = this.prepareBatch !== undefined;
  }

  processBatch(batch: ElementBatch): MaybePromise {
    const sink = this.sink;
    if (!sink) throw new OperationError(this.transformId, this.urn, "batch before startBundle");
    let prepared: PreparedRows;
    try {
      prepared = (this.prepareBatch as (batch: ElementBatch) => PreparedRows)(batch);
    } catch (err) {
      throw this.encodeError(err);
    }
    return this.writeRows(sink, prepared, 0);
  }

  /** Writes the rows from `from` on, a slice of about SLICE_BYTES at a time. */
  private writeRows(sink: ElementSink, prepared: PreparedRows, from: number): MaybePromise {
    for (let i = from; i < prepared.rows;) {
      const writer = sink.writer;
      try {
        i = prepared.encodeRows(i, writer, writer.length + SLICE_BYTES);
      } catch (err) {
        throw this.encodeError(err);
      }
      const pending = sink.elementWritten();
      if (pending) {
        const next = i;
        return pending.then(() => this.writeRows(sink, prepared, next));
      }
    }
    return undefined;
  }

  private encodeError(err: unknown): OperationError {
    return new OperationError(
      this.transformId,
      this.urn,
      `cannot encode output element: ${errorMessage(err)}`,
      { cause: err },
    );
  }

  startBundle(): void {
    this.sink = this.ctx.bundle().dataOutput(this.transformId);
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    const sink = this.sink;
    if (!sink) throw new OperationError(this.transformId, this.urn, "element before startBundle");
    try {
      this.coder.encodeTo(element, sink.writer, "nested");
    } catch (err) {
      throw this.encodeError(err);
    }
    return sink.elementWritten();
  }

  async finishBundle(): Promise<void> {
    const sink = this.sink;
    this.sink = undefined;
    await sink?.close();
  }
}

registerOperation(DATA_SINK_URN, (ctx: OperationContext) => {
  const port = parsePort(ctx);
  return new DataSinkOperation(ctx.transformId, portCoder(ctx, port), ctx);
});
