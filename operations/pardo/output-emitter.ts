/**
 * Delivers a DoFn's outputs to receivers, in order. A receiver that returns a
 * promise makes later outputs wait for it (one element at a time per
 * receiver chain, so downstream operations never run concurrently), and the
 * DoFn's iterable is pulled only as fast as outputs are taken (backpressure).
 */
import type { WindowedValue } from "../../coders/index.js";
import type { MaybePromise, Receiver } from "../operation.js";

export class OutputEmitter {
  private pending: Promise<void> | undefined;

  /** Sends one element; queues it behind an unfinished earlier output. */
  emit(receiver: Receiver, element: WindowedValue<unknown>): void {
    const previous = this.pending;
    const next = previous
      ? previous.then(() => receiver.process(element))
      : receiver.process(element);
    if (!next) return;
    const tracked: Promise<void> = next.then(() => {
      if (this.pending === tracked) this.pending = undefined;
    });
    tracked.catch(() => undefined); // surfaced through drain()
    this.pending = tracked;
  }

  /** Resolves when every output so far was processed downstream. */
  drain(): MaybePromise {
    return this.pending;
  }

  /** Emits every value of a sync iterable, waiting on downstream promises between values. */
  emitIterable(
    iterator: Iterator<unknown>,
    toElement: (value: unknown) => [Receiver, WindowedValue<unknown>],
  ): MaybePromise {
    for (;;) {
      const step = iterator.next();
      if (step.done) return this.pending;
      const [receiver, element] = toElement(step.value);
      this.emit(receiver, element);
      if (this.pending) return this.pending.then(() => this.emitIterable(iterator, toElement));
    }
  }

  /** Emits every value of an async iterable. */
  async emitAsyncIterable(
    iterable: AsyncIterable<unknown>,
    toElement: (value: unknown) => [Receiver, WindowedValue<unknown>],
  ): Promise<void> {
    for await (const value of iterable) {
      const [receiver, element] = toElement(value);
      this.emit(receiver, element);
      if (this.pending) await this.pending;
    }
    if (this.pending) await this.pending;
  }
}
