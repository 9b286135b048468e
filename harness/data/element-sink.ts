/**
 * The outbound buffer of one (instruction, transform) stream: operations encode
 * elements into `writer`; the buffer is flushed when it reaches `flushBytes`,
 * `flushMs` after the first unflushed element (so small streaming bundles are
 * not delayed), and on close, which also ends the stream (`is_last`, sent even
 * when no element was written: the runner waits for it on every sink).
 */
import { ByteWriter } from "../../coders/index.js";
import type { ElementSink } from "../../operations/bundle-services.js";

/**
 * Where the flushed bytes go: the data channel (inline) or a thread port. The
 * bytes are the transport's own (no one else views their buffer): a thread
 * transfers them to the conductor without a copy.
 */
export type ChunkTransport = (bytes: Uint8Array, isLast: boolean) => void | Promise<void>;

export interface FlushPolicy {
  /** @default 1_000_000 */
  flushBytes: number;
  /** 0 disables time-based flushing. @default 100 */
  flushMs: number;
}

export const DEFAULT_FLUSH_POLICY: FlushPolicy = { flushBytes: 1_000_000, flushMs: 100 };

/** Closing with at most this many bytes copies them out and keeps the writer's buffer. */
const COPY_ON_CLOSE_BYTES = 16 * 1024;
/** Idle writers kept per capacity (per thread). */
const MAX_SPARE_WRITERS = 16;

/**
 * Writers of closed sinks, by capacity: a bundle's sink reuses one instead of
 * allocating (and later discarding) a fresh 64 KiB buffer per bundle.
 */
const spareWriters = new Map<number, ByteWriter[]>();

function takeWriter(capacity: number): ByteWriter {
  return spareWriters.get(capacity)?.pop() ?? new ByteWriter(capacity);
}

function returnWriter(writer: ByteWriter, capacity: number): void {
  // Only writers that did not grow: a spare must not pin a large buffer.
  if (writer.buf.length !== capacity) return;
  writer.reset();
  let spares = spareWriters.get(capacity);
  if (!spares) spareWriters.set(capacity, (spares = []));
  if (spares.length < MAX_SPARE_WRITERS) spares.push(writer);
}

/** Where writes after close() go: dropped (the stream already ended). */
let discard: ByteWriter | undefined;

export class BufferedElementSink implements ElementSink {
  private current: ByteWriter;
  private readonly capacity: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The writer went back to the spares at close(). */
  private released = false;
  private inFlight: Promise<void> | undefined;
  private asyncError: unknown;

  constructor(
    private readonly transport: ChunkTransport,
    private readonly policy: FlushPolicy = DEFAULT_FLUSH_POLICY,
  ) {
    this.capacity = Math.min(policy.flushBytes, 64 * 1024);
    this.current = takeWriter(this.capacity);
  }

  /** The writer to encode into; after close() a scratch writer whose bytes are dropped. */
  get writer(): ByteWriter {
    if (!this.released) return this.current;
    discard ??= new ByteWriter(64);
    discard.reset();
    return discard;
  }

  elementWritten(): void | Promise<void> {
    if (this.current.length >= this.policy.flushBytes) return this.flush();
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
    const writer = this.current;
    let last: Uint8Array;
    if (writer.length > COPY_ON_CLOSE_BYTES) {
      last = writer.finish();
    } else {
      last = new Uint8Array(writer.length);
      last.set(writer.view());
    }
    this.released = true;
    returnWriter(writer, this.capacity);
    await this.transport(last, true);
  }

  /** Stops the timer without sending (the bundle failed). */
  abandon(): void {
    this.closed = true;
    this.clearTimer();
  }

  private flush(): void | Promise<void> {
    this.clearTimer();
    this.throwAsyncError();
    if (this.current.length === 0) return undefined;
    const pending = this.transport(this.current.finish(), false);
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
