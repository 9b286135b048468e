/**
 * `beam:transform:pardo:v1` with a `firefly:dofn:v1` DoFn: loads the user's
 * code (in setup), runs its lifecycle, and routes its outputs to the
 * transform's outputs by tag. Elements in several windows are processed once
 * per window. A synchronous DoFn never creates a promise.
 */
import type { Logger } from "pino";
import type { BoundedWindow, PaneInfo, WindowedValue } from "../../coders/index.js";
import { NO_FIRING } from "../../coders/index.js";
import { pipelineApi } from "../../proto/index.js";
import { errorMessage, OperationError, UserCodeError } from "../errors.js";
import { afterTurnIfDue, nextTurn, turnDue } from "../event-loop-turns.js";
import { MetricsContainer } from "../metrics/metrics-container.js";
import type { MaybePromise, Operation, Receiver } from "../operation.js";
import { registerOperation, type OperationContext } from "../registry.js";
import { loadUserExport } from "../user-code/load-user-code.js";
import { parseUserCodeSpec, type UserCodeSpec } from "../user-code/user-code-spec.js";
import { instantiateDoFn, type DoFn, type ProcessResult } from "./dofn.js";
import { DoFnContext } from "./dofn-context.js";
import { OutputEmitter } from "./output-emitter.js";
import type { ParDoHost, TimerHandle } from "./pardo-host.js";
import { ParDoFeatures } from "./pardo-features.js";
import { StateBackedIterables } from "./state-backed-iterables.js";

export const PARDO_URN = "beam:transform:pardo:v1";
export const FIREFLY_DOFN_URN = "firefly:dofn:v1";

/** The local output name taken as the main output when a ParDo has several. */
export const MAIN_OUTPUT_TAG = "main";

export class ParDoOperation implements Operation, ParDoHost {
  readonly urn: string = PARDO_URN;
  readonly transformId: string;
  readonly metrics = new MetricsContainer();
  private dofn: DoFn | undefined;
  protected readonly ctx: DoFnContext;
  private readonly emitter = new OutputEmitter();
  private readonly outputs = new Map<string, Receiver>();
  private readonly mainTag: string | undefined;
  private main: Receiver;
  readonly features: ParDoFeatures;
  /** Set when the main input's coder tree has a state-backed iterable. */
  private readonly iterables: StateBackedIterables | undefined;

  constructor(
    private readonly op: OperationContext,
    readonly payload: pipelineApi.ParDoPayload,
    private readonly spec: UserCodeSpec,
  ) {
    this.transformId = op.transformId;
    for (const name of op.outputNames) this.outputs.set(name, op.output(name));
    this.mainTag =
      op.outputNames.length === 1
        ? op.outputNames[0]
        : op.outputNames.includes(MAIN_OUTPUT_TAG)
          ? MAIN_OUTPUT_TAG
          : op.outputNames[0];
    this.main = this.mainReceiver();
    this.ctx = new DoFnContext(this, spec.config, this.metrics, op.limits.pipelineOptions);
    try {
      this.features = new ParDoFeatures(op, payload, (family, timer, element) =>
        this.fireTimer(family, timer, element),
      );
      this.iterables = StateBackedIterables.forMainInput(op, PARDO_URN, payload);
    } catch (err) {
      throw new OperationError(op.transformId, PARDO_URN, errorMessage(err), { cause: err });
    }
  }

  get timerFamilyIds(): readonly string[] {
    return this.features.timerFamilyIds;
  }

  async setup(): Promise<void> {
    const exported = await loadUserExport(this.spec).catch((err: unknown) => {
      throw new OperationError(this.transformId, this.urn, errorMessage(err), { cause: err });
    });
    try {
      this.dofn = this.instantiate(exported, `DoFn ${JSON.stringify(this.spec.export)}`);
    } catch (err) {
      throw new OperationError(this.transformId, this.urn, errorMessage(err), { cause: err });
    }
    if (this.iterables) this.useIterables(this.iterables, this.dofn.lazyIterables === true);
    try {
      await this.features.setup();
    } catch (err) {
      throw new OperationError(this.transformId, this.urn, errorMessage(err), { cause: err });
    }
    await this.invoke("setup", () => this.dofn?.setup?.(this.spec.config));
  }

  consumeTimers(family: string, bytes: Uint8Array): MaybePromise {
    return this.features.consumeTimers(family, bytes);
  }

  endOfTimers(family: string): void {
    this.features.endOfTimers(family);
  }

  startBundle(): MaybePromise {
    this.metrics.reset();
    this.features.startBundle();
    this.ctx.current = undefined;
    const dofn = this.userFn();
    if (!dofn.startBundle) return undefined;
    return this.invoke("startBundle", () => dofn.startBundle?.(this.ctx));
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    if (element.windows.length === 1) return this.processInWindow(element);
    return this.processWindows(element, 0);
  }

  async finishBundle(): Promise<void> {
    this.ctx.current = undefined;
    const dofn = this.userFn();
    if (dofn.finishBundle) await this.invoke("finishBundle", () => dofn.finishBundle?.(this.ctx));
    await this.emitter.drain();
    await this.features.finishBundle();
  }

  async teardown(): Promise<void> {
    const dofn = this.dofn;
    this.dofn = undefined;
    if (dofn?.teardown) await this.invoke("teardown", () => dofn.teardown?.());
  }

  /** Runs an onTimer callback with the timer's key, window and timestamp restored. */
  fireTimer(family: string, timer: unknown, element: WindowedValue<unknown>): MaybePromise {
    const callback = this.userFn().onTimer?.[family];
    if (typeof callback !== "function") {
      throw new OperationError(
        this.transformId,
        this.urn,
        `the DoFn has no onTimer.${family} callback for timer family ${JSON.stringify(family)}`,
      );
    }
    this.ctx.current = element;
    return this.handleResult(
      "onTimer",
      () => callback.call(this.userFn().onTimer, timer, this.ctx),
      element,
    );
  }

  // ParDoHost

  instructionId(): string {
    return this.op.bundle().instructionId;
  }

  logger(): Logger {
    return this.op.bundle().logger.child({ transformId: this.transformId });
  }

  emit(
    value: unknown,
    timestamp: bigint,
    windows: readonly BoundedWindow[],
    pane: PaneInfo | undefined,
    tag: string | undefined,
  ): void {
    let receiver = this.main;
    if (tag !== undefined) {
      const tagged = this.outputs.get(tag);
      if (!tagged) {
        throw new OperationError(
          this.transformId,
          this.urn,
          `output tag ${JSON.stringify(tag)} is not an output of this ParDo (outputs: ${[...this.outputs.keys()].join(", ")})`,
        );
      }
      receiver = tagged;
    }
    this.emitter.emit(receiver, {
      value,
      timestamp,
      windows: windows as BoundedWindow[],
      pane: pane ?? NO_FIRING,
    });
  }

  sideInput(name: string, element: WindowedValue<unknown>): Promise<unknown> {
    return this.features.sideInput(name, element);
  }

  state(name: string, element: WindowedValue<unknown>): unknown {
    return this.features.state(name, element);
  }

  timer(family: string, element: WindowedValue<unknown>): TimerHandle {
    return this.features.timer(family, element);
  }

  outputsTaken(): Promise<void> | undefined {
    return this.emitter.drain() ?? undefined;
  }

  resumeAfter(_millis: number): void {
    throw new OperationError(
      this.transformId,
      this.urn,
      "ctx.resumeAfter is only for splittable DoFns (a DoFn with initialRestriction)",
    );
  }

  registerFinalization(callback: () => unknown): void {
    this.op.bundle().registerFinalization(async () => {
      await this.invoke("bundle finalization callback", callback);
    });
  }

  // internals

  /** The DoFn of the loaded export (a hook for ParDo variants with another contract). */
  protected instantiate(exported: unknown, what: string): DoFn {
    return instantiateDoFn(exported, what);
  }

  /** The receiver of the main output. */
  protected mainOutput(): Receiver {
    return this.main;
  }

  protected userFn(): DoFn {
    const dofn = this.dofn;
    if (!dofn) throw new OperationError(this.transformId, this.urn, "DoFn used before setup");
    return dofn;
  }

  /** Reads the element's state-backed iterables into arrays, then processes it. */
  private processReading(
    iterables: StateBackedIterables,
    element: WindowedValue<unknown>,
  ): MaybePromise {
    const read = iterables.readInput(element);
    if (read instanceof Promise) return read.then((e) => this.processWindows(e, 0));
    return this.processWindows(read, 0);
  }

  private mainReceiver(): Receiver {
    const tag = this.mainTag;
    return tag === undefined ? { process: () => undefined } : (this.outputs.get(tag) as Receiver);
  }

  /**
   * A lazy DoFn gets state-backed iterables as they are, and what it emits is
   * read into arrays on the way out; any other DoFn gets arrays.
   */
  private useIterables(iterables: StateBackedIterables, lazy: boolean): void {
    if (!lazy) {
      // Only this ParDo's `process` reads first: the others have no per-element check.
      this.process = (element) => this.processReading(iterables, element);
      return;
    }
    for (const name of this.op.outputNames) {
      const pcollectionId = this.op.transform.outputs.get(name) as string;
      this.outputs.set(name, iterables.readingOutputs(this.op.output(name), pcollectionId));
    }
    this.main = this.mainReceiver();
  }

  private processWindows(element: WindowedValue<unknown>, from: number): MaybePromise {
    const windows = element.windows;
    const last = windows.length - 1;
    for (let i = from; i <= last; i++) {
      const pending = this.processInWindow({
        value: element.value,
        timestamp: element.timestamp,
        windows: [windows[i]],
        pane: element.pane,
      });
      // The last window needs no continuation; the data source gives the turns between elements.
      if (i === last) return pending;
      if (pending)
        return pending.then(() => afterTurnIfDue(() => this.processWindows(element, i + 1)));
      if (turnDue()) return nextTurn().then(() => this.processWindows(element, i + 1));
    }
    return undefined;
  }

  private processInWindow(element: WindowedValue<unknown>): MaybePromise {
    this.ctx.current = element;
    let result: ProcessResult | Promise<ProcessResult>;
    try {
      result = (this.dofn as DoFn).process(element.value, this.ctx);
    } catch (err) {
      throw new UserCodeError(this.transformId, "process", err, { element: element.value });
    }
    // Fast path: a synchronous DoFn returning an array (what map/flatMap produce).
    if (Array.isArray(result) && this.emitter.drain() === undefined) {
      return this.emitArray(result, 0, element);
    }
    return this.settleResult("process", result, element);
  }

  /** Emits array outputs in the element's window; continues asynchronously only if a receiver awaited. */
  private emitArray(
    values: readonly unknown[],
    from: number,
    element: WindowedValue<unknown>,
  ): MaybePromise {
    const main = this.main;
    const { timestamp, windows, pane } = element;
    for (let i = from; i < values.length; i++) {
      const pending = main.process({ value: values[i], timestamp, windows, pane });
      if (pending) return pending.then(() => this.emitArray(values, i + 1, element));
    }
    return this.emitter.drain();
  }

  /** Calls user code, then emits what it returned (array, iterable, async iterable, promise of those). */
  private handleResult(
    method: string,
    call: () => ProcessResult | Promise<ProcessResult>,
    element: WindowedValue<unknown>,
  ): MaybePromise {
    let result: ProcessResult | Promise<ProcessResult>;
    try {
      result = call();
    } catch (err) {
      throw new UserCodeError(this.transformId, method, err);
    }
    return this.settleResult(method, result, element);
  }

  /** Emits what user code returned: undefined, an iterable, an async iterable, or a promise of those. */
  private settleResult(
    method: string,
    result: ProcessResult | Promise<ProcessResult>,
    element: WindowedValue<unknown>,
  ): MaybePromise {
    if (result === undefined || result === null) return this.emitter.drain();
    if (typeof (result as Promise<unknown>).then === "function") {
      return (result as Promise<ProcessResult>).then(
        (resolved) => this.emitResult(method, resolved, element),
        (err: unknown) => {
          throw new UserCodeError(this.transformId, method, err, inputOf(method, element));
        },
      );
    }
    return this.emitResult(method, result as ProcessResult, element);
  }

  private emitResult(
    method: string,
    result: ProcessResult,
    element: WindowedValue<unknown>,
  ): MaybePromise {
    if (result === undefined || result === null) return this.emitter.drain();
    const toElement = (value: unknown): [Receiver, WindowedValue<unknown>] => [
      this.main,
      { value, timestamp: element.timestamp, windows: element.windows, pane: element.pane },
    ];
    if (Array.isArray(result))
      return this.emitter.emitIterable(result[Symbol.iterator](), toElement);
    if (typeof result === "string") {
      throw new UserCodeError(
        this.transformId,
        method,
        new TypeError(
          `${method} returned a string; return [value] (an iterable of outputs) or use ctx.output(value)`,
        ),
      );
    }
    const iterable = result as Partial<Iterable<unknown> & AsyncIterable<unknown>>;
    if (typeof iterable[Symbol.iterator] === "function") {
      try {
        return this.emitter.emitIterable(
          (iterable as Iterable<unknown>)[Symbol.iterator](),
          toElement,
        );
      } catch (err) {
        throw err instanceof OperationError
          ? err
          : new UserCodeError(this.transformId, method, err, inputOf(method, element));
      }
    }
    if (typeof iterable[Symbol.asyncIterator] === "function") {
      return this.emitter
        .emitAsyncIterable(iterable as AsyncIterable<unknown>, toElement)
        .catch((err: unknown) => {
          throw err instanceof OperationError
            ? err
            : new UserCodeError(this.transformId, method, err, inputOf(method, element));
        });
    }
    throw new UserCodeError(
      this.transformId,
      method,
      new TypeError(
        `${method} returned ${typeof result}; return an iterable of outputs, or undefined and use ctx.output(value)`,
      ),
    );
  }

  private async invoke(method: string, call: () => unknown): Promise<void> {
    try {
      const result = call();
      if (result && typeof (result as Promise<unknown>).then === "function") await result;
    } catch (err) {
      throw new UserCodeError(this.transformId, method, err);
    }
  }
}

/** The element a failure names: the input of `process` (other methods have none of their own). */
function inputOf(method: string, element: WindowedValue<unknown>): { element?: unknown } {
  return method === "process" ? { element: element.value } : {};
}

/** Another ParDo operation for some payloads (e.g. batch DoFns), or undefined. */
export type ParDoVariant = (
  op: OperationContext,
  payload: pipelineApi.ParDoPayload,
  spec: UserCodeSpec,
) => ParDoOperation | undefined;

const variants: ParDoVariant[] = [];

/** Adds a ParDo variant, tried before the element-wise ParDo. */
export function registerParDoVariant(variant: ParDoVariant): void {
  variants.push(variant);
}

registerOperation(PARDO_URN, (op: OperationContext) => {
  let payload: pipelineApi.ParDoPayload;
  try {
    payload = pipelineApi.ParDoPayload.deserializeBinary(op.transform.spec.payload);
  } catch (err) {
    throw new OperationError(op.transformId, PARDO_URN, "payload is not a ParDoPayload", {
      cause: err,
    });
  }
  const dofnUrn = payload.do_fn?.urn ?? "";
  if (dofnUrn !== FIREFLY_DOFN_URN) {
    throw new OperationError(
      op.transformId,
      PARDO_URN,
      `DoFn URN ${JSON.stringify(dofnUrn)} is not supported: Firefly runs DoFns given as ${FIREFLY_DOFN_URN}`,
    );
  }
  let spec: UserCodeSpec;
  try {
    spec = parseUserCodeSpec(payload.do_fn.payload, "DoFn");
  } catch (err) {
    throw new OperationError(op.transformId, PARDO_URN, errorMessage(err), { cause: err });
  }
  for (const variant of variants) {
    const operation = variant(op, payload, spec);
    if (operation) return operation;
  }
  return new ParDoOperation(op, payload, spec);
});
