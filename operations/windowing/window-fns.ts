/**
 * Window functions by URN (the standard ones of standard_window_fns.proto and
 * user window fns given as `firefly:windowfn:v1`): assignment for
 * `window_into`, merging for sessions, and the side-input window mapping.
 * A new window fn is one `registerWindowFn` call.
 */
import {
  GLOBAL_WINDOW,
  intervalWindow,
  type BoundedWindow,
  type IntervalWindow,
} from "../../coders/index.js";
import { windowFnsApi } from "../../proto/index.js";

export interface WindowFn {
  readonly urn: string;
  /** The windows an element with this timestamp belongs to. */
  assignWindows(timestamp: bigint): BoundedWindow[];
  /** The window of this window fn that a main-input window maps to (side inputs). */
  mapWindow(mainWindow: BoundedWindow): BoundedWindow;
  /** Merging window fns (sessions) merge overlapping windows per key. */
  readonly merging: boolean;
}

export type WindowFnFactory = (payload: Uint8Array) => WindowFn;

const factories = new Map<string, WindowFnFactory>();

export function registerWindowFn(urn: string, factory: WindowFnFactory): void {
  if (factories.has(urn)) throw new Error(`window fn ${urn} is already registered`);
  factories.set(urn, factory);
}

export function windowFnFromSpec(urn: string, payload: Uint8Array): WindowFn {
  const factory = factories.get(urn);
  if (!factory) {
    throw new Error(
      `window fn URN ${JSON.stringify(urn)} is not supported (supported: ${[...factories.keys()].sort().join(", ")})`,
    );
  }
  return factory(payload);
}

export const GLOBAL_WINDOWS_URN = "beam:window_fn:global_windows:v1";
export const FIXED_WINDOWS_URN = "beam:window_fn:fixed_windows:v1";
export const SLIDING_WINDOWS_URN = "beam:window_fn:sliding_windows:v1";
export const SESSION_WINDOWS_URN = "beam:window_fn:session_windows:v1";

/** Millis of a google.protobuf.Duration or Timestamp (undefined → 0). */
export function protoMillis(d: { seconds: number; nanos: number } | undefined): bigint {
  if (!d) return 0n;
  return BigInt(d.seconds) * 1000n + BigInt(Math.trunc(d.nanos / 1e6));
}

/** Non-negative modulo of bigints. */
function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function positive(what: string, v: bigint): bigint {
  if (v <= 0n) throw new Error(`${what} must be positive, got ${v} ms`);
  return v;
}

const globalWindows: WindowFn = {
  urn: GLOBAL_WINDOWS_URN,
  merging: false,
  assignWindows: () => [GLOBAL_WINDOW],
  mapWindow: () => GLOBAL_WINDOW,
};

export function fixedWindows(size: bigint, offset = 0n): WindowFn {
  positive("fixed window size", size);
  const windowOf = (ts: bigint): IntervalWindow => {
    const start = ts - mod(ts - offset, size);
    return intervalWindow(start, start + size);
  };
  return {
    urn: FIXED_WINDOWS_URN,
    merging: false,
    assignWindows: (ts) => [windowOf(ts)],
    mapWindow: (w) => windowOf(w.maxTimestamp),
  };
}

export function slidingWindows(size: bigint, period: bigint, offset = 0n): WindowFn {
  positive("sliding window size", size);
  positive("sliding window period", period);
  const lastStart = (ts: bigint) => ts - mod(ts - offset, period);
  return {
    urn: SLIDING_WINDOWS_URN,
    merging: false,
    assignWindows: (ts) => {
      const windows: IntervalWindow[] = [];
      for (let start = lastStart(ts); start > ts - size; start -= period)
        windows.push(intervalWindow(start, start + size));
      return windows;
    },
    mapWindow: (w) => {
      const start = lastStart(w.maxTimestamp);
      return intervalWindow(start, start + size);
    },
  };
}

export function sessionWindows(gap: bigint): WindowFn {
  positive("session gap", gap);
  return {
    urn: SESSION_WINDOWS_URN,
    merging: true,
    assignWindows: (ts) => [intervalWindow(ts, ts + gap)],
    mapWindow: () => {
      throw new Error("session windows cannot be used as side-input windows");
    },
  };
}

/**
 * Merges overlapping interval windows (sessions): returns, for each merged
 * window, the original windows it covers. Input order does not matter.
 */
export function mergeOverlapping(
  windows: readonly IntervalWindow[],
): { merged: IntervalWindow; from: IntervalWindow[] }[] {
  const sorted = [...windows].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: { merged: IntervalWindow; from: IntervalWindow[] }[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w.start < last.merged.end) {
      last.from.push(w);
      if (w.end > last.merged.end) last.merged = intervalWindow(last.merged.start, w.end);
    } else {
      out.push({ merged: w, from: [w] });
    }
  }
  return out;
}

registerWindowFn(GLOBAL_WINDOWS_URN, () => globalWindows);
registerWindowFn(FIXED_WINDOWS_URN, (payload) => {
  const p = windowFnsApi.FixedWindowsPayload.deserializeBinary(payload);
  return fixedWindows(protoMillis(p.size), protoMillis(p.offset));
});
registerWindowFn(SLIDING_WINDOWS_URN, (payload) => {
  const p = windowFnsApi.SlidingWindowsPayload.deserializeBinary(payload);
  return slidingWindows(protoMillis(p.size), protoMillis(p.period), protoMillis(p.offset));
});
registerWindowFn(SESSION_WINDOWS_URN, (payload) => {
  const p = windowFnsApi.SessionWindowsPayload.deserializeBinary(payload);
  return sessionWindows(protoMillis(p.gap_size));
});
