/**
 * The shape shared by the combine phases that map one `KV<K, X>` to one
 * `KV<K, Y>` (merge accumulators, extract outputs, convert to accumulators,
 * combine grouped values), as Beam Python's `CombineOperation` does: the
 * element's timestamp, windows and pane are kept, only the value changes.
 * Each phase is one file that calls {@link registerKeyedCombinePhase}.
 */
import type { WindowedValue } from "../../coders/index.js";
import { kvInput, onlyOutput } from "../flatten.js";
import { type MaybePromise, type Operation, type Receiver, withValue } from "../operation.js";
import { registerOperation, type OperationContext } from "../registry.js";
import { CombineFnHost } from "./combine-fn-host.js";

/** A phase's work on one value: a result, or a promise of one (async iterables only). */
export type CombinePhaseFn = (host: CombineFnHost, value: unknown) => unknown;

export class KeyedCombinePhaseOperation implements Operation {
  constructor(
    readonly transformId: string,
    readonly urn: string,
    /** The input shape, for error messages (`KV<K, Iterable<Acc>>`). */
    private readonly inputShape: string,
    private readonly host: CombineFnHost,
    private readonly apply: CombinePhaseFn,
    private readonly out: Receiver,
  ) {}

  setup(): Promise<void> {
    return this.host.setup();
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    const kv = kvInput(this.transformId, this.urn, element, this.inputShape);
    const result = this.apply(this.host, kv.value);
    if (result instanceof Promise) {
      return result.then((value: unknown) => this.emit(element, kv.key, value));
    }
    return this.emit(element, kv.key, result);
  }

  private emit(element: WindowedValue<unknown>, key: unknown, value: unknown): MaybePromise {
    return this.out.process(withValue(element, { key, value }));
  }
}

/** Registers a keyed combine phase for a URN (payload: CombinePayload). */
export function registerKeyedCombinePhase(
  urn: string,
  inputShape: string,
  apply: CombinePhaseFn,
): void {
  registerOperation(
    urn,
    (op: OperationContext) =>
      new KeyedCombinePhaseOperation(
        op.transformId,
        urn,
        inputShape,
        new CombineFnHost(op.transformId, urn, op.transform.spec.payload),
        apply,
        onlyOutput(op, urn),
      ),
  );
}
