/**
 * The outbound buffer of one (instruction, transform) stream: operations encode
 * elements into `writer`; the buffer is flushed when it reaches `flushBytes`,
 * `flushMs` after the first unflushed element (so small streaming bundles are
 * not delayed), and on close, which also ends the stream (`is_last`, sent even
 * when no element was written: the runner waits for it on every sink).
 */
import { ByteWriter } from "../../coders/index.js";
import type { ElementSink } from "../../operations/bundle-services.js";

/** Where the flushed bytes go: the data channel (inline) or a thread port. */
export type ChunkTransport = (bytes: Uint8Array, isLast: boolean) => void | Promise<void>;

export interface FlushPolicy {
  /** @default 1_000_000 */
  flushBytes: number;
  /** 0 disables time-based flushing. @default 100 */
  flushMs: number;
}

export const DEFAULT_FLUSH_POLICY: FlushPolicy = { flushBytes: 1_000_000, flushMs: 100 };

export class BufferedElementSink implements ElementSink {
  readonly writer: ByteWriter;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private inFlight: Promise<void> | undefined;
  private asyncError: unknown;

  constructor(
    private readonly transport: ChunkTransport,
    private readonly policy: FlushPolicy = DEFAULT_FLUSH_POLICY,
  ) {
    this.writer = new ByteWriter(Math.min(policy.flushBytes, 64 * 1024));
  }

  elementWritten(): void | Promise<void> {
    if (this.writer.length >= this.policy.flushBytes) return this.flush();
    if (this.timer === undefined && this.policy.flushMs > 0) {
      this.timer = setTimeout(() => this.timedFlush(), this.policy.flushMs);
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    if (this.inFlight) await this.inFlight;
    this.throwAsyncError();
    await this.transport(this.writer.finish(), true);
  }

  /** Stops the timer without sending (the bundle failed). */
  abandon(): void {
    this.closed = true;
    this.clearTimer();
  }

  private flush(): void | Promise<void> {
    this.clearTimer();
    this.throwAsyncError();
    if (this.writer.length === 0) return undefined;
    const pending = this.transport(this.writer.finish(), false);
    if (!pending) return undefined;
    const tracked = pending.finally(() => {
      if (this.inFlight === tracked) this.inFlight = undefined;
    });
    this.inFlight = tracked;
    return tracked;
  }

  private timedFlush(): void {
    this.timer = undefined;
    if (this.closed) return;
    try {
      const pending = this.flush();
      pending?.catch((err) => {
        this.asyncError ??= err;
      });
    } catch (err) {
      this.asyncError ??= err;
    }
  }

  private throwAsyncError(): void {
    if (this.asyncError !== undefined) throw this.asyncError;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
