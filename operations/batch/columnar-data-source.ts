/**
 * `beam:runner:source:v1` for consumers that ask for batches (a batch
 * ParDo): the stream's bytes are decoded straight into columns
 * (coders/columnar) and handed on as `ElementBatch`es, with no object per
 * element. A batch is handed on when it is full (the consumer's element and
 * byte bounds), when the window set or pane changes, and at the end of the
 * stream. Bytes of an element cut by a chunk boundary wait for the next
 * chunk. The rows of each decoded run claim their element indexes from the
 * split gate at once, before any of them is handed on: rows past a split's
 * stop bound are dropped (they are the residual), and after a channel split
 * the rest of the stream is ignored.
 */
import { ColumnarDecoder, INCOMPLETE } from "../../coders/columnar/index.js";
import type { DataInputOperation } from "../data-input.js";
import { registerDataSourceVariant, DATA_SOURCE_URN } from "../data-source.js";
import { OperationError } from "../errors.js";
import { afterTurnIfDue, nextTurn, turnDue } from "../event-loop-turns.js";
import type { MaybePromise, Receiver } from "../operation.js";
import { SplitGate } from "../split-gate.js";
import { deliverBatch } from "./batch-delivery.js";

const EMPTY = new Uint8Array(0);

export class ColumnarDataSourceOperation implements DataInputOperation {
  readonly inputKind = "data";
  readonly urn = DATA_SOURCE_URN;
  readonly splitGate = new SplitGate();
  /** Bytes of an element that the last chunk cut. */
  private carry: Uint8Array = EMPTY;
  private window: Uint8Array = EMPTY;
  /** Rows handed on in earlier batches of this bundle. */
  private taken = 0;
  /** Rows of the current batch whose element indexes were claimed. */
  private claimed = 0;

  constructor(
    readonly transformId: string,
    private readonly decoder: ColumnarDecoder,
    private readonly coderId: string,
    private readonly receiver: Receiver,
  ) {}

  process(): MaybePromise {
    throw new OperationError(this.transformId, this.urn, "a data source takes no input elements");
  }

  startBundle(): void {
    this.splitGate.reset();
    this.carry = EMPTY;
    this.taken = 0;
    this.claimed = 0;
    this.decoder.take(); // a failed bundle may have left rows
  }

  consume(bytes: Uint8Array): MaybePromise {
    if (!this.splitGate.hasRoom) return undefined;
    return this.decode(this.carry.length > 0 ? this.joined(bytes) : bytes, 0);
  }

  /**
   * The carried bytes followed by `bytes`, in a buffer kept for the purpose
   * (grown, never shrunk), so that a chunk boundary costs a copy but no
   * allocation. Nothing keeps a reference into it past the decode.
   */
  private joined(bytes: Uint8Array): Uint8Array {
    const n = this.carry.length + bytes.length;
    if (this.window.length < n) this.window = new Uint8Array(Math.max(n, this.window.length * 2));
    const window = this.window;
    window.set(this.carry);
    window.set(bytes, this.carry.length);
    return window.subarray(0, n);
  }

  endOfInput(): MaybePromise {
    if (this.carry.length > 0 && !this.splitGate.isSplit) {
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot decode element ${this.taken + this.claimed} with coder ${JSON.stringify(this.coderId)}: the stream ends inside it (${this.carry.length} bytes)`,
      );
    }
    return this.flush();
  }

  private decode(b: Uint8Array, from: number): MaybePromise {
    const decoder = this.decoder;
    let p = from;
    for (;;) {
      let status: number;
      try {
        status = decoder.decode(b, p, b.length);
      } catch (err) {
        throw new OperationError(
          this.transformId,
          this.urn,
          `cannot decode element ${this.taken + decoder.pending} with coder ${JSON.stringify(this.coderId)}`,
          { cause: err },
        );
      }
      p = decoder.position;
      // The rows of this run claim their element indexes at once.
      const decoded = decoder.pending - this.claimed;
      const claimed = decoded > 0 ? this.splitGate.claim(decoded) : 0;
      this.claimed += claimed;
      if (claimed < decoded) {
        decoder.dropLast(decoded - claimed); // residual: past the split's stop bound
        this.carry = EMPTY;
        return this.flush();
      }
      if (status === INCOMPLETE) {
        // A copy: `b` may be the reused window buffer.
        this.carry = p < b.length ? Uint8Array.prototype.slice.call(b, p) : EMPTY;
        return undefined;
      }
      const at = p;
      const pending = this.flush();
      if (pending) return pending.then(() => afterTurnIfDue(() => this.decode(b, at)));
      if (turnDue()) return nextTurn().then(() => this.decode(b, at));
    }
  }

  private flush(): MaybePromise {
    const batch = this.decoder.take();
    this.taken += this.claimed;
    this.claimed = 0;
    return batch ? deliverBatch(this.receiver, batch) : undefined;
  }
}

registerDataSourceVariant(({ ctx, coder, coderId, receiver }) => {
  const limits = receiver.batchLimits;
  if (!limits) return undefined;
  const decoder = ColumnarDecoder.forCoder(coder, limits);
  return decoder && new ColumnarDataSourceOperation(ctx.transformId, decoder, coderId, receiver);
});
