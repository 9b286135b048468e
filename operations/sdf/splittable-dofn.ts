/**
 * The splittable part of the DoFn contract (README "Splittable DoFns"). A
 * DoFn is splittable when it has `initialRestriction`; the other methods are
 * optional and default for the built-in offset-range restriction:
 *
 *   initialRestriction(element, ctx)          → restriction (e.g. {start, stop})
 *   splitRestriction(element, restriction, ctx) → iterable of restrictions (default: [restriction])
 *   restrictionSize(element, restriction, ctx)  → number ≥ 0 (default: stop - start, else 1)
 *   createTracker(restriction, ctx)             → tracker (default: an OffsetRangeTracker)
 *   truncateRestriction(element, restriction, ctx) → restriction or undefined
 *                                                (default: bounded trackers keep it whole)
 *   watermarkEstimator: "manual" | "monotonic" | "wall-time" (watermark-estimators.ts)
 *   createWatermarkEstimator(state, ctx)        → a custom estimator
 *   initialWatermarkEstimatorState(element, restriction, ctx) → state (default null)
 *   process(element, ctx)                       with ctx.tracker, ctx.resumeAfter(ms), ctx.watermark
 *
 * Each may be async. Errors name the method and the restriction.
 */
import { UserCodeError } from "../errors.js";
import {
  builtInEstimator,
  checkEstimator,
  encodeEstimatorState,
  type WatermarkEstimator,
} from "./watermark-estimators.js";
import type { DoFn } from "../pardo/dofn.js";
import {
  OffsetRangeTracker,
  rangeSize,
  type OffsetRange,
  type RestrictionProgress,
} from "./offset-range.js";

/** What `process` claims work with; the built-in OffsetRangeTracker is one. */
export interface RestrictionTracker {
  tryClaim(position: unknown): boolean;
  currentRestriction(): unknown;
  /** Splits off `fraction` of the remaining work, keeping the primary. */
  trySplit(fraction: number): { primary: unknown; residual: unknown } | undefined;
  /** Throws unless all the (current) restriction's work was claimed or split away. */
  checkDone(): void;
  progress?(): RestrictionProgress;
  isBounded?(): boolean;
}

type Maybe<T> = T | Promise<T>;

export interface SplittableDoFn extends DoFn {
  initialRestriction(element: unknown, ctx: unknown): Maybe<unknown>;
  splitRestriction?(element: unknown, restriction: unknown, ctx: unknown): Maybe<Iterable<unknown>>;
  restrictionSize?(element: unknown, restriction: unknown, ctx: unknown): Maybe<number>;
  createTracker?(restriction: unknown, ctx: unknown): RestrictionTracker;
  truncateRestriction?(element: unknown, restriction: unknown, ctx: unknown): Maybe<unknown>;
  watermarkEstimator?: string;
  createWatermarkEstimator?(state: unknown, ctx: unknown): WatermarkEstimator;
  initialWatermarkEstimatorState?(
    element: unknown,
    restriction: unknown,
    ctx: unknown,
  ): Maybe<unknown>;
}

export const SDF_METHODS = [
  "initialRestriction",
  "splitRestriction",
  "restrictionSize",
  "createTracker",
  "truncateRestriction",
  "createWatermarkEstimator",
  "initialWatermarkEstimatorState",
] as const;

export function isSplittable(dofn: DoFn): dofn is SplittableDoFn {
  return typeof (dofn as Partial<SplittableDoFn>).initialRestriction === "function";
}

/** An offset range as the built-in restriction coder decodes it. */
export function isOffsetRange(r: unknown): r is OffsetRange {
  return (
    r !== null &&
    typeof r === "object" &&
    typeof (r as OffsetRange).start === "bigint" &&
    typeof (r as OffsetRange).stop === "bigint"
  );
}

/** A short rendering of a restriction for error messages. */
export function describeRestriction(r: unknown): string {
  if (isOffsetRange(r)) return `[${r.start}, ${r.stop})`;
  try {
    const json = JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
    if (json !== undefined) return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  } catch {
    // fall through
  }
  return String(r);
}

/**
 * Calls one SDF method of the user's DoFn (or its default) and names the
 * method and restriction when it throws; async methods are awaited.
 */
export class SplittableMethods {
  constructor(
    private readonly dofn: SplittableDoFn,
    private readonly transformId: string,
    private readonly ctx: unknown,
  ) {}

  initialRestriction(element: unknown): Maybe<unknown> {
    return this.call("initialRestriction", undefined, () =>
      this.dofn.initialRestriction(element, this.ctx),
    );
  }

  splitRestriction(element: unknown, restriction: unknown): Maybe<Iterable<unknown>> {
    const split = this.dofn.splitRestriction;
    if (!split) return [restriction];
    return this.call("splitRestriction", restriction, () =>
      split.call(this.dofn, element, restriction, this.ctx),
    );
  }

  restrictionSize(element: unknown, restriction: unknown): Maybe<number> {
    const size = this.dofn.restrictionSize;
    if (!size) return isOffsetRange(restriction) ? Number(rangeSize(restriction)) : 1;
    return this.call("restrictionSize", restriction, () =>
      size.call(this.dofn, element, restriction, this.ctx),
    );
  }

  createTracker(restriction: unknown): RestrictionTracker {
    const create = this.dofn.createTracker;
    if (create) {
      const tracker = this.callSync("createTracker", restriction, () =>
        create.call(this.dofn, restriction, this.ctx),
      );
      if (!tracker || typeof (tracker as RestrictionTracker).tryClaim !== "function")
        throw new UserCodeError(
          this.transformId,
          "createTracker",
          new TypeError(
            `createTracker returned ${tracker === null ? "null" : typeof tracker} for restriction ${describeRestriction(restriction)}, not a tracker with tryClaim/currentRestriction/trySplit/checkDone`,
          ),
        );
      return tracker;
    }
    if (isOffsetRange(restriction)) return new OffsetRangeTracker(restriction);
    throw new UserCodeError(
      this.transformId,
      "createTracker",
      new TypeError(
        `restriction ${describeRestriction(restriction)} is not an offset range {start, stop} of bigints: define createTracker(restriction) for it`,
      ),
    );
  }

  truncateRestriction(
    element: unknown,
    restriction: unknown,
    tracker: RestrictionTracker,
  ): Maybe<unknown> {
    const truncate = this.dofn.truncateRestriction;
    if (!truncate) return tracker.isBounded?.() === false ? undefined : restriction;
    return this.call("truncateRestriction", restriction, () =>
      truncate.call(this.dofn, element, restriction, this.ctx),
    );
  }

  /** Whether the DoFn has a watermark estimator (built-in or its own). */
  get estimatesWatermark(): boolean {
    return (
      this.dofn.watermarkEstimator !== undefined ||
      typeof this.dofn.createWatermarkEstimator === "function"
    );
  }

  /** The initial estimator state, encoded as the restriction pair carries it (null: none). */
  initialWatermarkEstimatorState(element: unknown, restriction: unknown): Maybe<Uint8Array | null> {
    const initial = this.dofn.initialWatermarkEstimatorState;
    if (!initial) return null;
    return this.call("initialWatermarkEstimatorState", restriction, () => {
      const state = initial.call(this.dofn, element, restriction, this.ctx);
      return state instanceof Promise
        ? state.then(encodeEstimatorState)
        : encodeEstimatorState(state);
    });
  }

  /** The DoFn's estimator for a (decoded) state; undefined when it has none. */
  createWatermarkEstimator(state: unknown, restriction: unknown): WatermarkEstimator | undefined {
    const create = this.dofn.createWatermarkEstimator;
    if (typeof create === "function")
      return this.callSync("createWatermarkEstimator", restriction, () =>
        checkEstimator(create.call(this.dofn, state, this.ctx)),
      );
    const name = this.dofn.watermarkEstimator;
    if (name === undefined) return undefined;
    return this.callSync("watermarkEstimator", restriction, () => builtInEstimator(name, state));
  }

  /** The estimator's state for a residual, encoded (the DoFn's getState, checked). */
  estimatorState(estimator: WatermarkEstimator, restriction: unknown): Uint8Array | null {
    return this.callSync("getState of the watermark estimator", restriction, () =>
      encodeEstimatorState(estimator.getState()),
    );
  }

  /** Checks a size a method returned. */
  checkedSize(size: unknown, restriction: unknown): number {
    if (typeof size !== "number" || !(size >= 0))
      throw new UserCodeError(
        this.transformId,
        "restrictionSize",
        new RangeError(
          `restrictionSize returned ${String(size)} for restriction ${describeRestriction(restriction)}: a size must be a number ≥ 0`,
        ),
      );
    return size;
  }

  private call<T>(method: string, restriction: unknown, fn: () => Maybe<T>): Maybe<T> {
    let result: Maybe<T>;
    try {
      result = fn();
    } catch (err) {
      throw this.failure(method, restriction, err);
    }
    if (result instanceof Promise)
      return result.catch((err: unknown) => {
        throw this.failure(method, restriction, err);
      });
    return result;
  }

  private callSync<T>(method: string, restriction: unknown, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.failure(method, restriction, err);
    }
  }

  private failure(method: string, restriction: unknown, err: unknown): UserCodeError {
    if (err instanceof UserCodeError) return err;
    const where =
      restriction === undefined ? "" : ` (restriction ${describeRestriction(restriction)})`;
    return new UserCodeError(this.transformId, `${method}${where}`, err);
  }
}
