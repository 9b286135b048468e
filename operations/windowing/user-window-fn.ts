/**
 * User window fns (`firefly:windowfn:v1`, payload named like a DoFn:
 * `{"module"|"source", "export", "config"}`). The export is a function taken
 * as `assignWindows`, an object, or a class whose instances have:
 *
 * - `assignWindows(timestamp: bigint, value, window)` (required, synchronous):
 *   the windows of an element, as an array of `{start, end}` (bigint or safe
 *   integer millis, `[start, end)`), interval windows, or the global window;
 * - `mapWindow(mainWindow)` (optional): the side-input window of a main-input
 *   window, for `beam:transform:map_windows:v1`;
 * - `setup(config)` (optional, may be async): called once when loaded.
 *
 * Merging user window fns are not supported (sessions are built in).
 */
import {
  GLOBAL_WINDOW,
  intervalWindow,
  isGlobalWindow,
  type BoundedWindow,
} from "../../coders/index.js";
import { loadUserExport } from "../user-code/load-user-code.js";
import { parseUserCodeSpec, UserCodeSpecError } from "../user-code/user-code-spec.js";

export const FIREFLY_WINDOWFN_URN = "firefly:windowfn:v1";

/** A window fn as window_into and map_windows use it: the standard ones fit too. */
export interface ElementWindowFn {
  readonly urn: string;
  readonly merging: boolean;
  /** The windows of an element; `value` and `window` (its current window) are for user fns. */
  assignWindows(timestamp: bigint, value?: unknown, window?: BoundedWindow): BoundedWindow[];
  /** The window of this window fn that a main-input window maps to (side inputs). */
  mapWindow(mainWindow: BoundedWindow): BoundedWindow;
}

interface UserWindowFnObject {
  assignWindows(timestamp: bigint, value: unknown, window: BoundedWindow): unknown;
  mapWindow?(mainWindow: BoundedWindow): unknown;
  setup?(config: unknown): unknown;
}

function toMillis(v: unknown, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  throw new TypeError(`${what} must be a bigint or a safe integer (millis), got ${String(v)}`);
}

/**
 * A window a user fn returned, as the coders expect it: the global window,
 * an interval window from `{start, end}`, or (kept as is) any object with a
 * bigint `maxTimestamp`.
 */
export function toWindow(w: unknown): BoundedWindow {
  if (isGlobalWindow(w)) return GLOBAL_WINDOW;
  if (w !== null && typeof w === "object") {
    const o = w as { start?: unknown; end?: unknown; maxTimestamp?: unknown };
    if (o.start !== undefined || o.end !== undefined) {
      const start = toMillis(o.start, "window start");
      const end = toMillis(o.end, "window end");
      if (end <= start) throw new RangeError(`window [${start}, ${end}) is empty`);
      return intervalWindow(start, end);
    }
    if (typeof o.maxTimestamp === "bigint") return w as BoundedWindow;
  }
  throw new TypeError(
    `a window must be {start, end}, an interval window or the global window, got ${describe(w)}`,
  );
}

function describe(v: unknown): string {
  if (v === null || typeof v !== "object") return String(v);
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** The windows a user fn returned (an array or other iterable of windows). */
export function toWindows(result: unknown): BoundedWindow[] {
  if (Array.isArray(result)) {
    const out = new Array<BoundedWindow>(result.length);
    for (let i = 0; i < result.length; i++) out[i] = toWindow(result[i]);
    return out;
  }
  if (
    result !== null &&
    typeof result === "object" &&
    typeof (result as Iterable<unknown>)[Symbol.iterator] === "function"
  ) {
    return Array.from(result as Iterable<unknown>, toWindow);
  }
  throw new TypeError(`assignWindows must return an array of windows, got ${describe(result)}`);
}

function isClass(fn: (...args: unknown[]) => unknown): boolean {
  if (/^class[\s{]/.test(Function.prototype.toString.call(fn))) return true;
  const proto = (fn as { prototype?: Record<string, unknown> }).prototype;
  return proto !== undefined && typeof proto.assignWindows === "function";
}

/** A fresh instance of the user's window fn (a function is taken as `assignWindows`). */
export function instantiateUserWindowFn(exported: unknown, what: string): UserWindowFnObject {
  let fn: unknown;
  if (typeof exported === "function") {
    fn = isClass(exported as (...args: unknown[]) => unknown)
      ? new (exported as new () => unknown)()
      : { assignWindows: exported };
  } else if (exported !== null && typeof exported === "object") {
    fn = Object.create(exported);
  } else {
    throw new UserCodeSpecError(
      `${what} is ${exported === null ? "null" : typeof exported}, not a function, window fn object or class`,
    );
  }
  const o = fn as Record<string, unknown>;
  if (typeof o.assignWindows !== "function")
    throw new UserCodeSpecError(`${what} has no assignWindows method`);
  if (o.merge !== undefined || o.mergeWindows !== undefined || o.merging === true) {
    throw new UserCodeSpecError(
      `${what} is a merging window fn; user window fns must be non-merging (use session windows)`,
    );
  }
  for (const method of ["mapWindow", "setup"]) {
    if (o[method] !== undefined && typeof o[method] !== "function")
      throw new UserCodeSpecError(`${what}.${method} is not a function`);
  }
  return fn as UserWindowFnObject;
}

/**
 * Loads a `firefly:windowfn:v1` payload: imports the code, instantiates it,
 * calls `setup(config)`, and adapts it to {@link ElementWindowFn}. Errors
 * thrown later by `assignWindows`/`mapWindow` propagate as they are (the
 * operation wraps them as user code errors).
 */
export async function loadUserWindowFn(payload: Uint8Array): Promise<ElementWindowFn> {
  const spec = parseUserCodeSpec(payload, "WindowFn");
  const what = `WindowFn ${JSON.stringify(spec.export)}`;
  const fn = instantiateUserWindowFn(await loadUserExport(spec), what);
  if (fn.setup) await fn.setup(spec.config);
  return {
    urn: FIREFLY_WINDOWFN_URN,
    merging: false,
    assignWindows: (timestamp, value, window) =>
      toWindows(fn.assignWindows(timestamp, value, window ?? GLOBAL_WINDOW)),
    mapWindow: (mainWindow) => {
      if (!fn.mapWindow) throw new TypeError(`${what} has no mapWindow method (side inputs)`);
      return toWindow(fn.mapWindow(mainWindow));
    },
  };
}
