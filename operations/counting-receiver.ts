/**
 * Counts the elements of one PCollection on their way to its consumers
 * (`beam:metric:element_count:v1`). The count lives in a shared Float64Array
 * cell so that another thread (the conductor answering a progress request)
 * can read it while the bundle runs; one increment per element.
 */
import type { WindowedValue } from "../coders/index.js";
import type { MaybePromise, Receiver } from "./operation.js";

export class CountingReceiver implements Receiver {
  constructor(
    readonly pcollectionId: string,
    private readonly inner: Receiver,
    private readonly cells: Float64Array,
    private readonly index: number,
  ) {}

  get count(): number {
    return this.cells[this.index];
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    this.cells[this.index]++;
    return this.inner.process(element);
  }
}
