/**
 * `beam:transform:sdf_process_sized_element_and_restrictions:v1`: runs a
 * splittable DoFn's `process` on `KV(KV(element, KV(restriction, state)),
 * size)` elements. Each window of an element gets its own tracker over the
 * element's restriction (`ctx.tracker`); `process` claims positions with
 * `tryClaim` and stops when it returns false. After `process`:
 *   - after `ctx.resumeAfter(ms)` (a self-checkpoint) the tracker is split
 *     at the last claimed position and the rest goes back to the runner as a
 *     residual root of the bundle response, with `ms` as its requested delay;
 *   - the tracker must be done (`checkDone`): work neither claimed nor split
 *     away is an error naming the restriction.
 * A DoFn with a watermark estimator (watermark-estimators.ts) gets one per
 * element and window, from the state its restriction carries, as
 * `ctx.watermark`; residuals carry its state on, and its watermark as the
 * residual's output watermarks.
 * Everything else (outputs, side inputs, metrics, finalization) is the
 * ParDo's.
 */
import type {
  BoundedWindow,
  Coder,
  PaneInfo,
  Timestamp,
  WindowedValue,
} from "../../coders/index.js";
import { WindowedValueCoder } from "../../coders/index.js";
import { fnApi, wkt, type pipelineApi } from "../../proto/index.js";
import { errorMessage, OperationError, UserCodeError } from "../errors.js";
import type { MaybePromise } from "../operation.js";
import { mainInputPCollection, pcollectionCoders } from "../pardo/coder-components.js";
import { ParDoOperation } from "../pardo/pardo-operation.js";
import { registerOperation, type OperationContext } from "../registry.js";
import type { UserCodeSpec } from "../user-code/user-code-spec.js";
import { PROCESS_SIZED_URN, sdfPayload, sizedElement } from "./restriction-steps.js";
import {
  describeRestriction,
  isOffsetRange,
  isSplittable,
  SplittableMethods,
  type RestrictionTracker,
  type SplittableDoFn,
} from "./splittable-dofn.js";
import { SharedOffsetRangeCell, SharedOffsetRangeTracker } from "./shared-offset-range.js";
import { DATA_SOURCE_URN } from "../data-source.js";
import { publishingTracker, WorkProgressCell } from "./work-progress.js";
import type { RestrictionProgress } from "./offset-range.js";
import type { CurrentElementSplitter } from "../split-gate.js";
import {
  decodeEstimatorState,
  outputWatermarks,
  isBuiltInEstimator,
  WatermarkHandle,
  type WatermarkEstimator,
} from "./watermark-estimators.js";

interface KV {
  key: unknown;
  value: unknown;
}

/** An element's watermark-estimator state as its restriction pair carries it, and decoded. */
interface EstimatorState {
  encoded: unknown;
  decoded: unknown;
}

function kvOf(value: unknown, what: string, transformId: string): KV {
  if (value === null || typeof value !== "object" || !("key" in value) || !("value" in value))
    throw new OperationError(transformId, PROCESS_SIZED_URN, `${what} is not a KV {key, value}`);
  return value as KV;
}

/** A Duration proto of `millis` milliseconds. */
function duration(millis: number): wkt.Duration {
  const whole = Math.floor(millis);
  return new wkt.Duration({
    seconds: Math.floor(whole / 1000),
    nanos: (whole % 1000) * 1_000_000,
  });
}

export class SdfProcessSizedOperation extends ParDoOperation {
  override readonly urn: string = PROCESS_SIZED_URN;
  private methods: SplittableMethods | undefined;
  /** The main input's local name and windowed coder (residuals are encoded with it). */
  private readonly inputId: string;
  private readonly inputCoder: Coder<WindowedValue<unknown>>;
  /** Set by ctx.resumeAfter while the current element runs: the residual's delay. */
  private checkpointMillis: number | undefined;
  /** Progress of the element being processed (read by progress answers, from any thread). */
  readonly workProgress = new WorkProgressCell();
  /**
   * Set when a data source feeds this transform directly: the shared range of
   * the element being processed, which a runner's split may cut (see
   * SplitGate.trySplit), with the source's id and this transform's input.
   */
  readonly elementSplit:
    | { sourceId: string; inputId: string; pcollectionId: string; cell: SharedOffsetRangeCell }
    | undefined;
  /** Index of the element being processed among the bundle's input elements. */
  private elementIndex = -1;
  /** The watermark estimator of the element (and window) being processed. */
  private estimator: WatermarkEstimator | undefined;
  /** The element (in its one window) being processed, for splits from this thread. */
  private running:
    | { element: WindowedValue<unknown>; state: EstimatorState; tracker: RestrictionTracker }
    | undefined;

  constructor(
    private readonly context: OperationContext,
    payload: pipelineApi.ParDoPayload,
    spec: UserCodeSpec,
  ) {
    super(context, payload, spec);
    try {
      const pcollectionId = mainInputPCollection(context.transform, payload.side_inputs.keys());
      this.inputId = [...context.transform.inputs].find(([, id]) => id === pcollectionId)![0];
      const { valueCoderId, windowCoderId } = pcollectionCoders(context.descriptor, pcollectionId);
      this.inputCoder = new WindowedValueCoder(
        context.coder(valueCoderId),
        context.coder(windowCoderId) as never,
      );
      const sourceId = [...context.descriptor.transforms].find(
        ([, t]) =>
          t.spec?.urn === DATA_SOURCE_URN && [...t.outputs.values()].includes(pcollectionId),
      )?.[0];
      this.elementSplit =
        sourceId === undefined
          ? undefined
          : { sourceId, inputId: this.inputId, pcollectionId, cell: new SharedOffsetRangeCell() };
    } catch (err) {
      throw new OperationError(context.transformId, PROCESS_SIZED_URN, errorMessage(err), {
        cause: err,
      });
    }
  }

  override async setup(): Promise<void> {
    await super.setup();
    const dofn = this.userFn();
    if (!isSplittable(dofn))
      throw new OperationError(
        this.transformId,
        this.urn,
        "the DoFn is not splittable: it has no initialRestriction method",
      );
    this.methods = new SplittableMethods(dofn, this.transformId, this.ctx);
  }

  override startBundle(): MaybePromise {
    this.elementIndex = -1;
    return super.startBundle();
  }

  override process(element: WindowedValue<unknown>): MaybePromise {
    this.elementIndex++;
    const sized = kvOf(element.value, "the input element", this.transformId);
    const paired = kvOf(sized.key, "the sized element's key", this.transformId);
    const pair = kvOf(paired.value, "the restriction pair", this.transformId);
    let decoded: unknown;
    try {
      decoded = decodeEstimatorState(pair.value);
    } catch (err) {
      throw new OperationError(this.transformId, this.urn, errorMessage(err), { cause: err });
    }
    return this.processEachWindow(
      element,
      paired.key,
      pair.key,
      { encoded: pair.value, decoded },
      0,
    );
  }

  override emit(
    value: unknown,
    timestamp: bigint,
    windows: readonly BoundedWindow[],
    pane: PaneInfo | undefined,
    tag: string | undefined,
  ): void {
    this.estimator?.observeTimestamp?.(timestamp);
    super.emit(value, timestamp, windows, pane, tag);
  }

  override resumeAfter(millis: number): void {
    if (this.ctx.tracker === undefined)
      throw new OperationError(
        this.transformId,
        this.urn,
        "ctx.resumeAfter is only available while process runs",
      );
    if (typeof millis !== "number" || !(millis >= 0))
      throw new TypeError(`ctx.resumeAfter(millis) needs a number ≥ 0, got ${String(millis)}`);
    this.checkpointMillis = millis;
  }

  override async finishBundle(): Promise<void> {
    this.ctx.tracker = undefined;
    this.ctx.watermark = undefined;
    this.estimator = undefined;
    this.workProgress.clear();
    await super.finishBundle();
  }

  private processEachWindow(
    element: WindowedValue<unknown>,
    value: unknown,
    restriction: unknown,
    state: EstimatorState,
    from: number,
  ): MaybePromise {
    const methods = this.methods as SplittableMethods;
    for (let i = from; i < element.windows.length; i++) {
      const inWindow: WindowedValue<unknown> = {
        value,
        timestamp: element.timestamp,
        windows: [element.windows[i]],
        pane: element.pane,
      };
      const estimator = methods.createWatermarkEstimator(state.decoded, restriction);
      // Outputs returned by process carry the element's timestamp.
      estimator?.observeTimestamp?.(element.timestamp);
      // The shared range is progress already (read from the cell); other trackers publish theirs per claim.
      const tracker =
        this.sharedTracker(element, restriction, estimator) ??
        publishingTracker(methods.createTracker(restriction), this.workProgress);
      this.checkpointMillis = undefined;
      this.estimator = estimator;
      this.running =
        element.windows.length === 1 ? { element: inWindow, state, tracker } : undefined;
      this.ctx.watermark = estimator && new WatermarkHandle(estimator);
      this.ctx.tracker = tracker;
      const pending = super.process(inWindow);
      const next = () => this.processEachWindow(element, value, restriction, state, i + 1);
      if (pending)
        return pending.then(() => this.afterProcess(inWindow, state, tracker)).then(next);
      const after = this.afterProcess(inWindow, state, tracker);
      if (after) return after.then(next);
    }
    return undefined;
  }

  /**
   * The built-in tracker over the shared cell, so that a runner's split can
   * cut the range while `process` runs: for offset ranges of DoFns without
   * their own tracker, fed by a data source. The element's encoding goes
   * along when the conductor can rebuild it alone (one window, sizes by
   * default); otherwise splits stay between elements.
   */
  private sharedTracker(
    element: WindowedValue<unknown>,
    restriction: unknown,
    estimator: WatermarkEstimator | undefined,
  ): RestrictionTracker | undefined {
    const target = this.elementSplit;
    const dofn = this.userFn() as SplittableDoFn;
    if (!target || dofn.createTracker || !isOffsetRange(restriction)) return undefined;
    // The conductor knows a built-in estimator's state (its watermark, kept in the cell), not a custom one's.
    const builtIn = isBuiltInEstimator(estimator);
    const encodable =
      element.windows.length === 1 && !dofn.restrictionSize && (estimator === undefined || builtIn);
    target.cell.begin(
      restriction,
      this.elementIndex,
      encodable ? this.inputCoder.encode(element, "nested") : undefined,
      builtIn ? estimator.currentWatermark() : undefined,
    );
    if (builtIn) estimator.onChange = (watermark) => target.cell.publishWatermark(watermark);
    return new SharedOffsetRangeTracker(target.cell);
  }

  /** Checkpoints if asked, checks the tracker is done, and hands the residual back. */
  private afterProcess(
    element: WindowedValue<unknown>,
    state: EstimatorState,
    tracker: RestrictionTracker,
  ): MaybePromise {
    this.elementSplit?.cell.end();
    const delay = this.checkpointMillis;
    const estimator = this.estimator;
    this.checkpointMillis = undefined;
    this.estimator = undefined;
    this.running = undefined;
    this.ctx.tracker = undefined;
    this.ctx.watermark = undefined;
    this.workProgress.clear();
    let residual: unknown;
    if (delay !== undefined) {
      try {
        residual = tracker.trySplit(0)?.residual;
      } catch (err) {
        throw new UserCodeError(
          this.transformId,
          `trySplit (restriction ${describeRestriction(tracker.currentRestriction())})`,
          err,
        );
      }
    }
    try {
      tracker.checkDone();
    } catch (err) {
      throw new UserCodeError(
        this.transformId,
        `process (restriction ${describeRestriction(tracker.currentRestriction())})`,
        err,
      );
    }
    if (residual === undefined) return undefined;
    const methods = this.methods as SplittableMethods;
    // The residual goes on from the estimator's state now, and holds the output watermark at its watermark.
    const residualState = estimator ? methods.estimatorState(estimator, residual) : state.encoded;
    const watermark = estimator?.currentWatermark();
    const size = methods.restrictionSize(element.value, residual);
    const handBack = (s: number): void =>
      this.addResidual(element, residualState, residual, s, delay ?? 0, watermark);
    if (size instanceof Promise) return size.then(handBack);
    handBack(size);
    return undefined;
  }

  /**
   * Splits the running element with its own tracker, from this thread: for
   * bundles on the conductor's thread, whose DoFn waits at an await while a
   * split is answered. This covers what the shared cell cannot (trackers and
   * sizes of the DoFn's own, its own watermark estimator); elements in one
   * window only. A tracker or size that throws leaves the split between
   * elements.
   */
  readonly inThreadSplitter: CurrentElementSplitter = {
    fractionDone: (index) => {
      const running = this.runningAt(index);
      let progress: RestrictionProgress | undefined;
      try {
        progress = running?.tracker.progress?.();
      } catch {
        return undefined;
      }
      if (!progress) return undefined;
      const total = progress.completed + progress.remaining;
      return total > 0 ? progress.completed / total : undefined;
    },
    split: (index, fraction) => {
      const running = this.runningAt(index);
      if (!running) return undefined;
      const methods = this.methods as SplittableMethods;
      try {
        const parts = running.tracker.trySplit(fraction);
        if (!parts) return undefined;
        const { element, state } = running;
        const estimator = this.estimator;
        const residualState = estimator
          ? methods.estimatorState(estimator, parts.residual)
          : state.encoded;
        const encode = (restriction: unknown, s: unknown) =>
          this.encodeSized(element, s, restriction, this.syncSize(element.value, restriction));
        return {
          transformId: this.transformId,
          inputId: this.inputId,
          primary: encode(parts.primary, state.encoded),
          residual: encode(parts.residual, residualState),
          residualWatermarks: outputWatermarks(
            this.context.outputNames,
            estimator?.currentWatermark(),
          ),
        };
      } catch {
        return undefined;
      }
    },
  };

  private runningAt(index: number) {
    return index === this.elementIndex ? this.running : undefined;
  }

  /** A restriction's size for a split answered now: an async restrictionSize gives way to a default. */
  private syncSize(value: unknown, restriction: unknown): number {
    const methods = this.methods as SplittableMethods;
    const size = methods.restrictionSize(value, restriction);
    if (!(size instanceof Promise)) return methods.checkedSize(size, restriction);
    size.catch(() => undefined);
    return isOffsetRange(restriction) ? Number(restriction.stop - restriction.start) : 1;
  }

  /** The windowed sized element of a restriction (the input's encoding). */
  private encodeSized(
    element: WindowedValue<unknown>,
    state: unknown,
    restriction: unknown,
    size: number,
  ): Uint8Array {
    const value = sizedElement(element.value, restriction, state, size);
    try {
      return this.inputCoder.encode(
        { value, timestamp: element.timestamp, windows: element.windows, pane: element.pane },
        "nested",
      );
    } catch (err) {
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot encode the restriction ${describeRestriction(restriction)} with the input coder: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  private addResidual(
    element: WindowedValue<unknown>,
    state: unknown,
    restriction: unknown,
    size: number,
    delayMillis: number,
    watermark: Timestamp | undefined,
  ): void {
    const methods = this.methods as SplittableMethods;
    const bytes = this.encodeSized(
      element,
      state,
      restriction,
      methods.checkedSize(size, restriction),
    );
    this.context.bundle().addResidual(
      new fnApi.DelayedBundleApplication({
        application: new fnApi.BundleApplication({
          transform_id: this.transformId,
          input_id: this.inputId,
          element: bytes,
          output_watermarks: outputWatermarks(this.context.outputNames, watermark),
        }),
        requested_time_delay: duration(delayMillis),
      }),
    );
  }
}

registerOperation(PROCESS_SIZED_URN, (op: OperationContext) => {
  const { payload, spec } = sdfPayload(op, PROCESS_SIZED_URN);
  return new SdfProcessSizedOperation(op, payload, spec);
});
