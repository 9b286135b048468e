/**
 * The runner side of state-backed iterables: the tails of large GroupByKey
 * groups, stored under fresh tokens while the output is encoded (the
 * `IterableStateWriter` of the state-writing coder) and served to workers as
 * `StateKey.runner` (paged with continuation tokens by the State service).
 * Kept for the whole run, like the PCollections that name them.
 */
import type { IterableStateWriter } from "../../../coders/index.js";
import type { StateService } from "../fn-api/state-service.js";

export class IterableStateStore implements IterableStateWriter {
  private readonly iterables = new Map<string, Uint8Array>();
  /** Bytes held. */
  bytes = 0;

  /** Iterables stored so far. */
  get size(): number {
    return this.iterables.size;
  }

  write(encodedElements: Uint8Array): Uint8Array {
    const token = `iter:${this.iterables.size + 1}`;
    this.iterables.set(token, encodedElements);
    this.bytes += encodedElements.length;
    return Buffer.from(token, "latin1");
  }

  registerWith(state: StateService): void {
    state.register("runner", {
      get: (key) => {
        const token = Buffer.from(key.runner.key).toString("latin1");
        const value = this.iterables.get(token);
        if (value === undefined)
          throw new Error(`no state-backed iterable has the token ${JSON.stringify(token)}`);
        return value;
      },
    });
  }
}
