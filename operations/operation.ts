/**
 * The operator contract. A bundle processor is a graph of operations built
 * from a ProcessBundleDescriptor; each PTransform becomes one operation, and
 * elements flow from data sources through `process` calls to data sinks.
 *
 * Hot-path rule: `process` returns `undefined` when it finished synchronously
 * and a promise only when something on the way really awaited, so a chain of
 * synchronous operations never pays for promises.
 */
import type { BatchLimits, ElementBatch } from "../coders/columnar/index.js";
import type { WindowedValue } from "../coders/index.js";

/** `undefined` when done synchronously, else a promise to await. */
export type MaybePromise = void | Promise<void>;

/** Something that accepts elements: an operation's input, or a fan-out of several. */
export interface Receiver {
  process(element: WindowedValue<unknown>): MaybePromise;
  /** True when the receiver takes columnar batches through `processBatch` (else it gets elements). */
  readonly takesBatches?: boolean;
  /** The batch bounds it asks its producer for (a batch ParDo's); absent when it asks for none. */
  readonly batchLimits?: BatchLimits | undefined;
  /** Processes a batch of elements (README "Vectorized DoFns"); only when `takesBatches`. */
  processBatch?(batch: ElementBatch): MaybePromise;
}

/**
 * One node of the graph. Lifecycle per processor instance:
 * `setup` once, then per bundle `startBundle` → `process`* → `finishBundle`,
 * and `teardown` once when the processor is discarded.
 */
export interface Operation extends Receiver {
  /** The transform id (the key in the descriptor's `transforms` map). */
  readonly transformId: string;
  /** The transform's URN, for error messages. */
  readonly urn: string;
  setup?(): MaybePromise;
  startBundle?(): MaybePromise;
  finishBundle?(): MaybePromise;
  teardown?(): MaybePromise;
}

/** Calls every receiver; awaits only the ones that returned a promise. */
export class FanOut implements Receiver {
  readonly takesBatches: boolean;
  readonly batchLimits: BatchLimits | undefined;

  constructor(private readonly receivers: readonly Receiver[]) {
    this.takesBatches = receivers.every((r) => r.takesBatches === true);
    const asked = receivers.flatMap((r) => (r.batchLimits ? [r.batchLimits] : []));
    this.batchLimits =
      this.takesBatches && asked.length > 0
        ? {
            maxElements: Math.min(...asked.map((l) => l.maxElements)),
            maxBytes: Math.min(...asked.map((l) => l.maxBytes)),
          }
        : undefined;
  }

  processBatch(batch: ElementBatch): MaybePromise {
    return this.continueBatch(batch, 0);
  }

  private continueBatch(batch: ElementBatch, from: number): MaybePromise {
    for (let i = from; i < this.receivers.length; i++) {
      const pending = (this.receivers[i] as Required<Receiver>).processBatch(batch);
      if (pending) return pending.then(() => this.continueBatch(batch, i + 1));
    }
    return undefined;
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    const receivers = this.receivers;
    if (receivers.length === 1) return receivers[0].process(element);
    for (let i = 0; i < receivers.length; i++) {
      const pending = receivers[i].process(element);
      if (pending) return this.continueAsync(element, i + 1, pending);
    }
    return undefined;
  }

  private async continueAsync(
    element: WindowedValue<unknown>,
    from: number,
    pending: Promise<void>,
  ): Promise<void> {
    await pending;
    for (let i = from; i < this.receivers.length; i++) await this.receivers[i].process(element);
  }
}

/** A receiver that drops everything (a PCollection nobody consumes). */
export const DISCARD: Receiver = { process: () => undefined };

/** Wraps a list of receivers into one, without a wrapper for 0 or 1. */
export function receiverOf(receivers: readonly Receiver[]): Receiver {
  if (receivers.length === 0) return DISCARD;
  if (receivers.length === 1) return receivers[0];
  return new FanOut(receivers);
}

/** `element` with another value: same timestamp, windows and pane. */
export function withValue<T>(element: WindowedValue<unknown>, value: T): WindowedValue<T> {
  return { value, timestamp: element.timestamp, windows: element.windows, pane: element.pane };
}
