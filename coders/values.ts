/**
 * The value model of Firefly's coders (DESIGN.md, "User functions"): the
 * JavaScript shapes that encoded Beam values decode to and encode from.
 *
 * bytes → `Uint8Array`; string_utf8 → `string`; varint → `number` when it is a
 * safe integer, else `bigint`; double → `number`; bool → `boolean`; KV →
 * `{key, value}`; iterable → array; nullable → `null`; row → plain object by
 * field name; timestamps → `bigint` millis.
 */

/** A timestamp: int64 milliseconds since the epoch. */
export type Timestamp = bigint;

/** The smallest timestamp (Beam's `BoundedWindow.TIMESTAMP_MIN_VALUE`), in millis. */
export const MIN_TIMESTAMP: Timestamp = -9223372036854775n;
/** The largest timestamp (Beam's `BoundedWindow.TIMESTAMP_MAX_VALUE`), in millis. */
export const MAX_TIMESTAMP: Timestamp = 9223372036854775n;
/** The global window's max timestamp: `MAX_TIMESTAMP` minus one day. */
export const GLOBAL_WINDOW_MAX_TIMESTAMP: Timestamp = 9223371950454775n;

/** A key-value pair (`beam:coder:kv:v1`). */
export interface KV<K, V> {
  key: K;
  value: V;
}

/** Any window: all a runner needs of one is its max timestamp (inclusive). */
export interface BoundedWindow {
  readonly maxTimestamp: Timestamp;
}

/** The global window: one shared, frozen instance, {@link GLOBAL_WINDOW}. */
export interface GlobalWindow extends BoundedWindow {
  readonly kind: "global";
}

/** The global window singleton (`beam:coder:global_window:v1` encodes it as nothing). */
export const GLOBAL_WINDOW: GlobalWindow = Object.freeze({
  kind: "global",
  maxTimestamp: GLOBAL_WINDOW_MAX_TIMESTAMP,
} as const);

/** A shared, frozen `[GLOBAL_WINDOW]`, the windows of most elements. */
export const GLOBAL_WINDOWS: readonly BoundedWindow[] = Object.freeze([GLOBAL_WINDOW]);

/** A window `[start, end)` (`beam:coder:interval_window:v1`); `maxTimestamp` is `end - 1`. */
export interface IntervalWindow extends BoundedWindow {
  readonly start: Timestamp;
  readonly end: Timestamp;
}

/** Makes an interval window `[start, end)`. */
export function intervalWindow(start: Timestamp, end: Timestamp): IntervalWindow {
  return { start, end, maxTimestamp: end - 1n };
}

/** True for the global window. */
export function isGlobalWindow(w: unknown): w is GlobalWindow {
  return (
    w === GLOBAL_WINDOW ||
    (typeof w === "object" && w !== null && (w as { kind?: unknown }).kind === "global")
  );
}

/**
 * A window of a coder Firefly does not know, with the max timestamp the runner
 * sent beside it (`beam:coder:custom_window:v1`).
 */
export interface CustomWindow<W = unknown> extends BoundedWindow {
  readonly window: W;
}

/** When a pane fired relative to the watermark. */
export type PaneTiming = "EARLY" | "ON_TIME" | "LATE" | "UNKNOWN";

/** Pane info: which firing of a window produced an element. */
export interface PaneInfo {
  readonly isFirst: boolean;
  readonly isLast: boolean;
  readonly timing: PaneTiming;
  /** The index of this firing among all firings of the window (0-based). */
  readonly index: number;
  /** The index among non-early firings; -1 for early panes. */
  readonly onTimeIndex: number;
}

/** The pane of elements that were never fired by a trigger (the default pane). */
export const NO_FIRING: PaneInfo = Object.freeze({
  isFirst: true,
  isLast: true,
  timing: "UNKNOWN",
  index: 0,
  onTimeIndex: 0,
} as const);

/** The pane of the one and only on-time firing (e.g. GroupByKey output with the default trigger). */
export const ON_TIME_AND_ONLY_FIRING: PaneInfo = Object.freeze({
  isFirst: true,
  isLast: true,
  timing: "ON_TIME",
  index: 0,
  onTimeIndex: 0,
} as const);

/** An element with its timestamp, windows and pane (`beam:coder:windowed_value:v1`). */
export interface WindowedValue<T> {
  value: T;
  timestamp: Timestamp;
  windows: readonly BoundedWindow[];
  pane: PaneInfo;
}

/** Fields every timer has (`beam:coder:timer:v1`). */
interface TimerBase<K> {
  userKey: K;
  dynamicTimerTag: string;
  windows: readonly BoundedWindow[];
}

/** A timer that is set. */
export interface SetTimer<K> extends TimerBase<K> {
  clearBit: false;
  fireTimestamp: Timestamp;
  holdTimestamp: Timestamp;
  pane: PaneInfo;
}

/** A timer that is cleared (no timestamps and no pane are encoded). */
export interface ClearedTimer<K> extends TimerBase<K> {
  clearBit: true;
}

/** A timer as Beam's timer coder encodes it. */
export type Timer<K> = SetTimer<K> | ClearedTimer<K>;

/** A key with a shard id (`beam:coder:sharded_key:v1`). */
export interface ShardedKey<K> {
  shardId: Uint8Array;
  key: K;
}

/** A decimal number `unscaled × 10^-scale` (schema logical type `beam:logical_type:decimal:v1`). */
export interface Decimal {
  unscaled: bigint;
  scale: number;
}

/** Parses `"-100.123"` or `"1.5E+3"` into a {@link Decimal}, keeping the written scale. */
export function parseDecimal(text: string): Decimal {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === ""))
    throw new SyntaxError(`not a decimal number: ${JSON.stringify(text)}`);
  const frac = m[3] ?? "";
  const digits = `${m[2]}${frac}` || "0";
  const unscaled = BigInt(digits) * (m[1] === "-" ? -1n : 1n);
  return { unscaled, scale: frac.length - Number(m[4] ?? 0) };
}

/** Formats a {@link Decimal} as plain decimal text (e.g. `{unscaled: 31415n, scale: 4}` → `"3.1415"`). */
export function formatDecimal(d: Decimal): string {
  const neg = d.unscaled < 0n;
  const digits = (neg ? -d.unscaled : d.unscaled).toString();
  let text: string;
  if (d.scale <= 0) text = digits + "0".repeat(-d.scale);
  else {
    const padded = digits.padStart(d.scale + 1, "0");
    text = `${padded.slice(0, padded.length - d.scale)}.${padded.slice(padded.length - d.scale)}`;
  }
  return neg ? `-${text}` : text;
}
