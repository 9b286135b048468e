/**
 * Window functions for `windowInto` (fixed, sliding, sessions, global), as
 * the standard window fn URNs and payloads of standard_window_fns.proto, and
 * the WindowingStrategy of a PCollection, with every field set as Beam's
 * Python SDK sets it (default trigger, discarding, end-of-window output
 * time, emit always, fire always, allowed lateness 0) plus
 * `assigns_to_one_window` as Beam Java sets it.
 */
import { pipelineApi, windowFnsApi, wkt } from "../../proto/index.js";
import { GLOBAL_WINDOW_CODER, INTERVAL_WINDOW_CODER, type CoderProtoSpec } from "./coder-types.js";

export const GLOBAL_WINDOWS_URN = "beam:window_fn:global_windows:v1";
export const FIXED_WINDOWS_URN = "beam:window_fn:fixed_windows:v1";
export const SLIDING_WINDOWS_URN = "beam:window_fn:sliding_windows:v1";
export const SESSION_WINDOWS_URN = "beam:window_fn:session_windows:v1";

/** A window fn as the builder declares it (durations in milliseconds). */
export interface WindowFnSpec {
  readonly kind: "global" | "fixed" | "sliding" | "sessions";
  readonly urn: string;
  readonly payload: Uint8Array;
  readonly merging: boolean;
  readonly assignsToOneWindow: boolean;
  readonly windowCoder: CoderProtoSpec;
}

function positiveMillis(what: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new TypeError(`${what} must be a positive whole number of milliseconds, got ${ms}`);
  return ms;
}

function duration(ms: number): wkt.Duration {
  return new wkt.Duration({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
}

function timestamp(ms: number): wkt.Timestamp {
  if (!Number.isSafeInteger(ms)) throw new TypeError(`window offset must be whole milliseconds`);
  const seconds = Math.floor(ms / 1000);
  return new wkt.Timestamp({ seconds, nanos: (ms - seconds * 1000) * 1_000_000 });
}

/** All elements in one window (the default). */
export function globalWindows(): WindowFnSpec {
  return {
    kind: "global",
    urn: GLOBAL_WINDOWS_URN,
    payload: new Uint8Array(),
    merging: false,
    assignsToOneWindow: true,
    windowCoder: GLOBAL_WINDOW_CODER,
  };
}

/** Windows of `sizeMs`, starting at `offsetMs + n * sizeMs`. */
export function fixedWindows(sizeMs: number, offsetMs = 0): WindowFnSpec {
  positiveMillis("fixed window size", sizeMs);
  return {
    kind: "fixed",
    urn: FIXED_WINDOWS_URN,
    payload: new windowFnsApi.FixedWindowsPayload({
      size: duration(sizeMs),
      offset: timestamp(offsetMs),
    }).serializeBinary(),
    merging: false,
    assignsToOneWindow: true,
    windowCoder: INTERVAL_WINDOW_CODER,
  };
}

/** Windows of `sizeMs` starting every `periodMs` (an element is in size/period windows). */
export function slidingWindows(sizeMs: number, periodMs: number, offsetMs = 0): WindowFnSpec {
  positiveMillis("sliding window size", sizeMs);
  positiveMillis("sliding window period", periodMs);
  return {
    kind: "sliding",
    urn: SLIDING_WINDOWS_URN,
    payload: new windowFnsApi.SlidingWindowsPayload({
      size: duration(sizeMs),
      period: duration(periodMs),
      offset: timestamp(offsetMs),
    }).serializeBinary(),
    merging: false,
    assignsToOneWindow: periodMs >= sizeMs,
    windowCoder: INTERVAL_WINDOW_CODER,
  };
}

/** Per-key sessions: windows closer than `gapMs` merge. */
export function sessions(gapMs: number): WindowFnSpec {
  positiveMillis("session gap", gapMs);
  return {
    kind: "sessions",
    urn: SESSION_WINDOWS_URN,
    payload: new windowFnsApi.SessionWindowsPayload({
      gap_size: duration(gapMs),
    }).serializeBinary(),
    merging: true,
    assignsToOneWindow: true,
    windowCoder: INTERVAL_WINDOW_CODER,
  };
}

/** The WindowingStrategy of a window fn (window coder registered by the caller). */
export function windowingStrategy(
  windowFn: WindowFnSpec,
  windowCoderId: string,
  environmentId: string,
): pipelineApi.WindowingStrategy {
  return new pipelineApi.WindowingStrategy({
    window_fn: new pipelineApi.FunctionSpec({ urn: windowFn.urn, payload: windowFn.payload }),
    merge_status: windowFn.merging
      ? pipelineApi.MergeStatus.Enum.NEEDS_MERGE
      : pipelineApi.MergeStatus.Enum.NON_MERGING,
    window_coder_id: windowCoderId,
    trigger: new pipelineApi.Trigger({ default: new pipelineApi.Trigger.Default() }),
    accumulation_mode: pipelineApi.AccumulationMode.Enum.DISCARDING,
    output_time: pipelineApi.OutputTime.Enum.END_OF_WINDOW,
    closing_behavior: pipelineApi.ClosingBehavior.Enum.EMIT_ALWAYS,
    on_time_behavior: pipelineApi.OnTimeBehavior.Enum.FIRE_ALWAYS,
    allowed_lateness: "0",
    assigns_to_one_window: windowFn.assignsToOneWindow,
    environment_id: environmentId,
  });
}
