/**
 * `beam:transform:flatten:v1`: every element of every input goes, unchanged,
 * to the one output. {@link ForwardOperation} is also what the pass-through
 * URNs (`passthrough.ts`) build. Also the helpers every simple operation
 * uses: {@link onlyOutput} and {@link kvInput}.
 */
import type { KV, WindowedValue } from "../coders/index.js";
import { OperationError } from "./errors.js";
import { DISCARD, type MaybePromise, type Operation, type Receiver } from "./operation.js";
import { registerOperation, type OperationContext, type OperationFactory } from "./registry.js";

export const FLATTEN_URN = "beam:transform:flatten:v1";

/** Forwards each element to one receiver, as is (synchronous when the receiver is). */
export class ForwardOperation implements Operation {
  constructor(
    readonly transformId: string,
    readonly urn: string,
    private readonly out: Receiver,
  ) {}

  process(element: WindowedValue<unknown>): MaybePromise {
    return this.out.process(element);
  }
}

/** The receiver of a transform's only output (discards when it has none); more is an error. */
export function onlyOutput(op: OperationContext, urn: string): Receiver {
  const names = op.outputNames;
  if (names.length > 1) {
    throw new OperationError(
      op.transformId,
      urn,
      `expected one output, found ${names.length} (${names.join(", ")})`,
    );
  }
  return names.length === 0 ? DISCARD : op.output(names[0]);
}

/**
 * The value of an element that must be a KV (`{key, value}`); anything else is
 * an OperationError saying which shape the transform expected.
 */
export function kvInput(
  transformId: string,
  urn: string,
  element: WindowedValue<unknown>,
  shape: string,
): KV<unknown, unknown> {
  const kv = element.value as KV<unknown, unknown> | null;
  if (kv === null || typeof kv !== "object" || !("key" in kv) || !("value" in kv)) {
    throw new OperationError(transformId, urn, `expected a ${shape} input element`);
  }
  return kv;
}

/** A factory of {@link ForwardOperation}s for a URN whose elements pass through unchanged. */
export function forwardingFactory(urn: string): OperationFactory {
  return (op) => new ForwardOperation(op.transformId, urn, onlyOutput(op, urn));
}

registerOperation(FLATTEN_URN, forwardingFactory(FLATTEN_URN));
