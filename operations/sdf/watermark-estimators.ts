/**
 * Watermark estimators of splittable DoFns: how far the output of one
 * element-and-restriction has come in event time, so that a runner can hold
 * (and advance) the output watermark of a stage whose work is split and
 * resumed. A DoFn picks a built-in one by name, or brings its own:
 *
 *   watermarkEstimator: "manual" | "monotonic" | "wall-time"
 *   createWatermarkEstimator(state, ctx) → { currentWatermark(), getState(),
 *                                            observeTimestamp?(ts), setWatermark?(ts) }
 *   initialWatermarkEstimatorState(element, restriction, ctx) → state (default null)
 *
 * The built-ins keep the watermark (ms) as their state:
 *   manual     the DoFn sets it with ctx.watermark.set(ms); it never goes back;
 *   monotonic  the largest timestamp seen: the input element's and every
 *              ctx.output*'s (returned outputs carry the element's);
 *   wall-time  the wall clock (never behind the state it started from).
 *
 * The state travels with the restriction (the second half of the
 * restriction pair, which Firefly's builder codes as nullable bytes): JSON
 * text, or null when there is no state.
 */
import { MIN_TIMESTAMP, MAX_TIMESTAMP, type Timestamp } from "../../coders/index.js";
import { wkt } from "../../proto/index.js";

export interface WatermarkEstimator {
  /** The output watermark so far, in ms of event time. */
  currentWatermark(): Timestamp;
  /** What a resumed residual starts from (JSON-serializable). */
  getState(): unknown;
  /** Called with each output's timestamp (and the input element's). */
  observeTimestamp?(timestamp: Timestamp): void;
  /** ctx.watermark.set(ms) calls it (the manual estimator has it). */
  setWatermark?(timestamp: Timestamp): void;
}

/** A built-in estimator that reports each new watermark (to the shared cell a runner's split reads). */
abstract class BuiltInEstimator implements WatermarkEstimator {
  protected watermark: Timestamp;
  onChange: ((watermark: Timestamp) => void) | undefined = undefined;
  observeTimestamp?(timestamp: Timestamp): void;
  setWatermark?(timestamp: Timestamp): void;

  constructor(state: unknown, what: string) {
    this.watermark = stateTimestamp(state, what);
  }

  currentWatermark(): Timestamp {
    return this.watermark;
  }

  getState(): unknown {
    return builtInState(this.watermark);
  }

  protected advanceTo(timestamp: Timestamp): void {
    if (timestamp <= this.watermark) return;
    this.watermark = timestamp;
    this.onChange?.(timestamp);
  }
}

class ManualEstimator extends BuiltInEstimator {
  override setWatermark(timestamp: Timestamp): void {
    this.advanceTo(timestamp);
  }
}

class MonotonicEstimator extends BuiltInEstimator {
  override observeTimestamp(timestamp: Timestamp): void {
    this.advanceTo(timestamp);
  }
}

class WallTimeEstimator extends BuiltInEstimator {
  override currentWatermark(): Timestamp {
    this.advanceTo(BigInt(Date.now()));
    return this.watermark;
  }

  override getState(): unknown {
    return Number(this.currentWatermark());
  }
}

/** Built-in estimators by the name a DoFn's `watermarkEstimator` gives. */
const BUILT_INS = new Map<string, new (state: unknown, what: string) => BuiltInEstimator>([
  ["manual", ManualEstimator],
  ["monotonic", MonotonicEstimator],
  ["wall-time", WallTimeEstimator],
]);

export const BUILT_IN_ESTIMATORS: readonly string[] = [...BUILT_INS.keys()];

export function isBuiltInEstimator(
  estimator: WatermarkEstimator | undefined,
): estimator is BuiltInEstimator {
  return estimator instanceof BuiltInEstimator;
}

/** A built-in estimator from its name and state; throws naming the choices for an unknown name. */
export function builtInEstimator(name: unknown, state: unknown): BuiltInEstimator {
  const Kind = typeof name === "string" ? BUILT_INS.get(name) : undefined;
  if (!Kind)
    throw new TypeError(
      `watermarkEstimator ${JSON.stringify(name)} is not a built-in estimator (${BUILT_IN_ESTIMATORS.map((n) => JSON.stringify(n)).join(", ")}); define createWatermarkEstimator(state) for your own`,
    );
  return new Kind(state, `watermarkEstimator "${name}"`);
}

/** Checks a custom estimator has what the runner's questions need. */
export function checkEstimator(estimator: unknown): WatermarkEstimator {
  const e = estimator as Partial<WatermarkEstimator> | null;
  if (
    e === null ||
    typeof e !== "object" ||
    typeof e.currentWatermark !== "function" ||
    typeof e.getState !== "function"
  )
    throw new TypeError(
      `createWatermarkEstimator returned ${e === null ? "null" : typeof e}, not an estimator with currentWatermark() and getState()`,
    );
  return e as WatermarkEstimator;
}

/** A watermark as a Timestamp (ms): bigint or a finite number. */
export function toTimestamp(value: unknown, what: string): Timestamp {
  let ts: bigint;
  if (typeof value === "bigint") ts = value;
  else if (typeof value === "number" && Number.isFinite(value)) ts = BigInt(Math.floor(value));
  else
    throw new TypeError(
      `${what} must be a timestamp in ms (number or bigint), got ${String(value)}`,
    );
  if (ts < MIN_TIMESTAMP || ts > MAX_TIMESTAMP)
    throw new RangeError(
      `${what} ${ts} is outside Beam's timestamps [${MIN_TIMESTAMP}, ${MAX_TIMESTAMP}]`,
    );
  return ts;
}

/** A built-in estimator's state for its watermark. */
export function builtInState(watermark: Timestamp): unknown {
  return watermark <= MIN_TIMESTAMP ? null : Number(watermark);
}

/** A built-in's state: null (no watermark yet) or its watermark in ms. */
function stateTimestamp(state: unknown, what: string): Timestamp {
  if (state === null || state === undefined) return MIN_TIMESTAMP;
  return toTimestamp(state, `${what}: the state`);
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The state as the restriction pair carries it: JSON text, null for none. */
export function encodeEstimatorState(state: unknown): Uint8Array | null {
  if (state === null || state === undefined) return null;
  const json = JSON.stringify(state, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
  if (json === undefined)
    throw new TypeError(`the watermark estimator state ${String(state)} is not JSON-serializable`);
  return utf8.encode(json);
}

export function decodeEstimatorState(encoded: unknown): unknown {
  if (encoded === null || encoded === undefined) return null;
  if (!(encoded instanceof Uint8Array))
    throw new TypeError(
      `the watermark estimator state is ${typeof encoded}, not the bytes Firefly's builder declares (nullable bytes)`,
    );
  try {
    return JSON.parse(fromUtf8.decode(encoded)) as unknown;
  } catch (err) {
    throw new TypeError(
      `the watermark estimator state (${encoded.length} bytes) is not JSON text: ${(err as Error).message}`,
    );
  }
}

/** `ctx.watermark` while a splittable DoFn's process runs. */
export class WatermarkHandle {
  constructor(private readonly estimator: WatermarkEstimator) {}

  /** The estimator's watermark (ms). */
  current(): Timestamp {
    return this.estimator.currentWatermark();
  }

  /** Sets the watermark (ms): the manual estimator, or an own one with setWatermark. */
  set(timestamp: bigint | number): void {
    const set = this.estimator.setWatermark;
    if (typeof set !== "function")
      throw new TypeError(
        'ctx.watermark.set needs the manual estimator (watermarkEstimator: "manual") or an estimator with setWatermark(ms)',
      );
    set.call(this.estimator, toTimestamp(timestamp, "ctx.watermark.set(ms): the watermark"));
  }
}

/** A Timestamp proto of `millis` ms of event time. */
function timestampProto(millis: Timestamp): wkt.Timestamp {
  const seconds = millis >= 0n ? millis / 1000n : -((-millis + 999n) / 1000n);
  return new wkt.Timestamp({
    seconds: Number(seconds),
    nanos: Number(millis - seconds * 1000n) * 1_000_000,
  });
}

/** A watermark for each output (none before the first watermark). */
export function outputWatermarks(
  outputs: readonly string[],
  watermark: Timestamp | undefined,
): Map<string, wkt.Timestamp> {
  if (watermark === undefined || watermark <= MIN_TIMESTAMP) return new Map();
  const proto = timestampProto(watermark);
  return new Map(outputs.map((name) => [name, proto]));
}
