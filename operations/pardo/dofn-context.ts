/**
 * The `ctx` a DoFn receives. One instance per ParDo operation, updated for
 * each element (no allocation per element); user code must not keep it past
 * the call it was given to.
 */
import type { PaneInfo, WindowedValue, BoundedWindow } from "../../coders/index.js";
import type { MetricsContainer } from "../metrics/metrics-container.js";
import type { ParDoHost } from "./pardo-host.js";

export class DoFnContext {
  /** The element being processed (undefined in startBundle/finishBundle). */
  current: WindowedValue<unknown> | undefined;
  /** The restriction tracker of the element being processed (splittable DoFns only). */
  tracker: unknown = undefined;
  /** The watermark estimator's handle (splittable DoFns with one): current(), set(ms). */
  watermark: unknown = undefined;

  constructor(
    private readonly host: ParDoHost,
    readonly config: unknown,
    readonly metrics: MetricsContainer,
    /** The pipeline's options (from the runner's provisioning). */
    readonly options: Readonly<Record<string, unknown>>,
  ) {}

  get timestamp(): bigint {
    return this.element("timestamp").timestamp;
  }

  get windows(): readonly BoundedWindow[] {
    return this.element("windows").windows;
  }

  /** The element's window (windows are exploded: a DoFn sees one at a time). */
  get window(): BoundedWindow {
    return this.element("window").windows[0];
  }

  get pane(): PaneInfo {
    return this.element("pane").pane;
  }

  /** The key of a keyed (KV) element. */
  get key(): unknown {
    const value = this.element("key").value as { key?: unknown } | null;
    if (value === null || typeof value !== "object" || !("key" in value)) {
      throw new TypeError("ctx.key is only available for KV elements ({key, value})");
    }
    return value.key;
  }

  /** The instruction id of the running bundle. */
  get instructionId(): string {
    return this.host.instructionId();
  }

  get logger() {
    return this.host.logger();
  }

  /** Emits to the main output, or to the output named `tag`, in the current element's window. */
  output(value: unknown, tag?: string): void {
    const current = this.element("output");
    this.host.emit(value, current.timestamp, current.windows, current.pane, tag);
  }

  /** Like `output` with another timestamp (bigint or number millis). */
  outputWithTimestamp(value: unknown, timestampMillis: bigint | number, tag?: string): void {
    const current = this.element("outputWithTimestamp");
    this.host.emit(value, BigInt(timestampMillis), current.windows, current.pane, tag);
  }

  /** Emits with an explicit timestamp and windows (needed in finishBundle). */
  outputWindowedValue(
    value: unknown,
    placement: { timestamp: bigint | number; windows: readonly BoundedWindow[]; pane?: PaneInfo },
    tag?: string,
  ): void {
    this.host.emit(value, BigInt(placement.timestamp), placement.windows, placement.pane, tag);
  }

  /**
   * Resolves once every output emitted so far with `ctx.output` was taken
   * downstream: a DoFn that emits many outputs in a loop awaits it now and
   * then (backpressure). Undefined when nothing waits.
   */
  flushOutputs(): Promise<void> | undefined {
    return this.host.outputsTaken();
  }

  /** Side input by name (see README): an array, or a multimap view. */
  sideInput(name: string): Promise<unknown> {
    return this.host.sideInput(name, this.element("sideInput"));
  }

  /** User state by name, for the current key and window. */
  state(name: string): unknown {
    return this.host.state(name, this.element("state"));
  }

  /** A timer family, for the current key and window. */
  timer(family: string): {
    set(millis: bigint | number, options?: { tag?: string; holdMillis?: bigint | number }): void;
    clear(tag?: string): void;
  } {
    return this.host.timer(family, this.element("timer"));
  }

  /**
   * Splittable DoFns: stop here and let the runner resume the unclaimed rest
   * of the restriction after `millis` (a self-checkpoint). Return from
   * `process` right after calling it.
   */
  resumeAfter(millis = 0): void {
    this.element("resumeAfter");
    this.host.resumeAfter(millis);
  }

  get bundleFinalizer(): { register(callback: () => unknown): void } {
    return { register: (callback) => this.host.registerFinalization(callback) };
  }

  private element(what: string): WindowedValue<unknown> {
    const current = this.current;
    if (!current)
      throw new TypeError(`ctx.${what} is only available while processing an element or timer`);
    return current;
  }
}
