/**
 * State-backed iterables in a ParDo (README "Writing DoFns"). A runner may
 * send a large group as a prefix and a state token (runners do it for large
 * GroupByKey outputs); the decoder yields a `StateBackedIterable`. One DoFn
 * must behave the same on every runner, so:
 *
 * - By default the ParDo reads the pages into arrays before the DoFn's
 *   `process` runs, at most `firefly_max_iterable_bytes` of pages per element
 *   (a clear error past it). Only ParDos whose main-input coder tree has a
 *   `beam:coder:state_backed_iterable:v1` do this (decided when the operation
 *   is built); the others pay nothing.
 * - A DoFn with `lazyIterables: true` gets the `StateBackedIterable` (`for
 *   await`, `toArray()`); the values it emits are read into arrays on the way
 *   out (same bound), so they can be encoded.
 */
import {
  iterableValueReader,
  IterableTooLargeError,
  STATE_BACKED_ITERABLE_URN,
  type IterableValueReader,
  type WindowedValue,
} from "../../coders/index.js";
import type { pipelineApi } from "../../proto/index.js";
import { errorMessage, OperationError } from "../errors.js";
import { type MaybePromise, type Receiver, withValue } from "../operation.js";
import { positiveIntegerOption, type OperationContext } from "../registry.js";
import { coderTreeHas, pcollectionCoders } from "./coder-components.js";

export const MAX_ITERABLE_BYTES_OPTION = "firefly_max_iterable_bytes";
export const DEFAULT_MAX_ITERABLE_BYTES = 256 * 1024 * 1024;

/** An element, or a promise of it when pages had to be read. */
type Read = WindowedValue<unknown> | Promise<WindowedValue<unknown>>;

/** Reads the state-backed iterables of one ParDo's input elements and emitted values. */
export class StateBackedIterables {
  private constructor(
    private readonly op: OperationContext,
    private readonly urn: string,
    private readonly input: IterableValueReader,
    private readonly maxBytes: number,
  ) {}

  /**
   * The reading of a ParDo whose main input's coder tree has a state-backed
   * iterable; undefined for every other ParDo.
   */
  static forMainInput(
    op: OperationContext,
    urn: string,
    payload: pipelineApi.ParDoPayload,
  ): StateBackedIterables | undefined {
    // Not mainInputPCollection: a ParDo without exactly one main input is not an error here.
    const mains = [...op.transform.inputs].filter(([local]) => !payload.side_inputs.has(local));
    if (mains.length !== 1) return undefined;
    const main = mains[0]![1];
    const pcollection = op.descriptor.pcollections.get(main);
    if (!pcollection) return undefined;
    if (!coderTreeHas(op.descriptor, pcollection.coder_id, STATE_BACKED_ITERABLE_URN))
      return undefined;
    const reader = iterableValueReader(
      op.coder(pcollectionCoders(op.descriptor, main).valueCoderId),
    );
    if (reader === undefined) return undefined;
    const maxBytes = positiveIntegerOption(
      op.limits.pipelineOptions,
      MAX_ITERABLE_BYTES_OPTION,
      DEFAULT_MAX_ITERABLE_BYTES,
    );
    return new StateBackedIterables(op, urn, reader, maxBytes);
  }

  /** The element with its state-backed iterables read into arrays (the same element if none). */
  readInput(element: WindowedValue<unknown>): Read {
    return this.read(element, this.input, "input");
  }

  /**
   * `receiver` behind a reading of the state-backed iterables in the values a
   * lazy DoFn emits to `pcollectionId` (the receiver itself when that
   * PCollection's values cannot hold any).
   */
  readingOutputs(receiver: Receiver, pcollectionId: string): Receiver {
    let reader: IterableValueReader | undefined;
    try {
      const coder = this.op.coder(
        pcollectionCoders(this.op.descriptor, pcollectionId).valueCoderId,
      );
      reader = iterableValueReader(coder, { builtByUserCode: true });
    } catch {
      // A coder Firefly cannot build (a runner's opaque one): whoever encodes reports it.
    }
    if (reader === undefined) return receiver;
    return {
      process: (element: WindowedValue<unknown>): MaybePromise => {
        const read = this.read(element, reader, "output");
        if (read === element) return receiver.process(element);
        if (read instanceof Promise) return read.then((e) => receiver.process(e));
        return receiver.process(read);
      },
    };
  }

  private read(
    element: WindowedValue<unknown>,
    reader: IterableValueReader,
    what: "input" | "output",
  ): Read {
    const value = reader(element.value, { limitBytes: this.maxBytes, readBytes: 0 });
    if (value === element.value) return element;
    if (value instanceof Promise) {
      return value.then(
        (read: unknown) => withValue(element, read),
        (err: unknown) => {
          throw this.failure(err, what);
        },
      );
    }
    return withValue(element, value);
  }

  private failure(err: unknown, what: "input" | "output"): OperationError {
    const id = this.op.transformId;
    if (!(err instanceof IterableTooLargeError)) {
      return new OperationError(
        id,
        this.urn,
        `cannot read a state-backed iterable of ${what === "input" ? "the input element" : "an emitted value"}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    const limit = `pipeline option ${MAX_ITERABLE_BYTES_OPTION} (${err.limitBytes} bytes; ${err.readBytes} bytes of pages read)`;
    const message =
      what === "input"
        ? `a state-backed iterable of the input element (a large group) is larger than the ${limit}: raise ${MAX_ITERABLE_BYTES_OPTION}, or give the DoFn "lazyIterables: true" to iterate such groups with for await instead of receiving arrays`
        : `a value the DoFn emitted holds a state-backed iterable larger than the ${limit}: emitted values are read whole to be encoded; raise ${MAX_ITERABLE_BYTES_OPTION}, or emit smaller values`;
    return new OperationError(id, this.urn, message, { cause: err });
  }
}
