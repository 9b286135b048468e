/**
 * Inbound data of one instruction: the Data and Timers entries the runner sent
 * for it, in arrival order, as one queue. Data may arrive before the
 * ProcessBundle request, or while its bundle waits for a pool thread; it waits
 * here. Bytes count against the channel's flow control while nobody claimed
 * the queue (data for a bundle never requested stays bounded) and once its
 * bundle runs (`startConsuming()`); between the two (a bundle queued behind
 * the pool's threads) they wait without counting: bytes of
 * bundles that cannot read yet never pause the stream that running bundles
 * need (a runner interleaves the inputs of every bundle it asked for).
 */
import { AsyncQueue } from "../util/async-queue.js";

export type InboundItem =
  | {
      kind: "data";
      transformId: string;
      bytes: Uint8Array;
      isLast: boolean;
      /**
       * Nothing else views `bytes.buffer` (the received message's own buffer,
       * which held only this entry): a pool bundle may transfer it without a copy.
       */
      ownsBuffer?: boolean;
    }
  | {
      kind: "timers";
      transformId: string;
      timerFamilyId: string;
      bytes: Uint8Array;
      isLast: boolean;
    };

/** Flow-control hooks of the channel that feeds an `InstructionInbound`. */
export interface InboundAccounting {
  /** Bytes buffered; `consuming` says whether they count against the flow-control limit. */
  added(bytes: number, consuming: boolean): void;
  /** Bytes the consumer took or that were dropped. */
  released(bytes: number, consuming: boolean): void;
}

export class InstructionInbound {
  private readonly queue = new AsyncQueue<InboundItem>();
  /** When the first item arrived with no consumer (for the orphan timeout). */
  readonly createdAt = Date.now();
  claimed = false;
  bufferedBytes = 0;
  /**
   * Whether buffered bytes count against flow control: unclaimed (true), claimed
   * by a bundle that does not run yet (false), its bundle runs (true).
   */
  private counted = true;

  constructor(
    readonly instructionId: string,
    private readonly accounting: InboundAccounting,
  ) {}

  /** Buffers an item (dropped when the queue was closed). */
  push(item: InboundItem): void {
    if (this.queue.isClosed) return;
    this.bufferedBytes += item.bytes.length;
    this.accounting.added(item.bytes.length, this.counted);
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

  /**
   * The bundle runs: what is buffered, and what arrives from now on, counts
   * against flow control (until then it waits without pausing the stream).
   */
  startConsuming(): void {
    this.setCounted(true);
  }

  /** A bundle claimed the queue but does not run yet: its bytes wait without counting. */
  claimForLater(): void {
    if (!this.claimed) this.setCounted(false);
    this.claimed = true;
  }

  private setCounted(counted: boolean): void {
    if (this.counted === counted) return;
    if (this.bufferedBytes > 0) {
      this.accounting.released(this.bufferedBytes, this.counted);
      this.accounting.added(this.bufferedBytes, counted);
    }
    this.counted = counted;
  }

  private release(bytes: number): void {
    if (bytes === 0) return;
    this.bufferedBytes -= bytes;
    this.accounting.released(bytes, this.counted);
  }
}
