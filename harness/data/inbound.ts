/**
 * Inbound data of one instruction: the Data and Timers entries the runner sent
 * for it, in arrival order, as one queue. Data may arrive before the
 * ProcessBundle request; it waits here (bounded by the channel's flow control).
 */
import { AsyncQueue } from "../util/async-queue.js";

export type InboundItem =
  | { kind: "data"; transformId: string; bytes: Uint8Array; isLast: boolean }
  | {
      kind: "timers";
      transformId: string;
      timerFamilyId: string;
      bytes: Uint8Array;
      isLast: boolean;
    };

/** Flow-control hooks of the channel that feeds an `InstructionInbound`. */
export interface InboundAccounting {
  /** Called with the bytes of each item the consumer took. */
  released(bytes: number): void;
}

export class InstructionInbound {
  private readonly queue = new AsyncQueue<InboundItem>();
  /** When the first item arrived with no consumer (for the orphan timeout). */
  readonly createdAt = Date.now();
  claimed = false;
  bufferedBytes = 0;

  constructor(
    readonly instructionId: string,
    private readonly accounting: InboundAccounting,
  ) {}

  push(item: InboundItem): void {
    if (this.queue.isClosed) {
      this.accounting.released(item.bytes.length);
      return;
    }
    this.bufferedBytes += item.bytes.length;
    this.queue.push(item);
  }

  /** The next item, `undefined` when the inbound was closed. */
  async next(): Promise<InboundItem | undefined> {
    const item = await this.queue.next();
    if (item) this.release(item.bytes.length);
    return item;
  }

  /** A buffered item without waiting. */
  poll(): InboundItem | undefined {
    const item = this.queue.poll();
    if (item) this.release(item.bytes.length);
    return item;
  }

  /** Items already buffered are still delivered; then `next()` rejects with `error`. */
  fail(error: unknown): void {
    this.queue.fail(error);
  }

  /** Stops accepting items and releases what was buffered. */
  close(): void {
    this.queue.end();
    this.dropBuffered();
  }

  private dropBuffered(): void {
    this.queue.clear();
    this.release(this.bufferedBytes);
  }

  private release(bytes: number): void {
    if (bytes === 0) return;
    this.bufferedBytes -= bytes;
    this.accounting.released(bytes);
  }
}
