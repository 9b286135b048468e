/**
 * The built-in restriction of splittable DoFns: a half-open range of int64
 * offsets `[start, stop)` (file bytes, sequence numbers), and its tracker.
 * Offsets are bigints, exact over the whole int64 range; numbers are
 * accepted where a caller has them.
 *
 * Semantics follow Beam's offset-range trackers (Java `OffsetRangeTracker`,
 * Python `OffsetRestrictionTracker`): claims strictly increase; a claim at or
 * past `stop` ends the work (returns false); a split at `fraction` of the
 * remainder keeps `[start, split)` and hands `[split, stop)` to the runner,
 * where the remainder starts after the last attempted claim (a fraction of 0
 * is a checkpoint: everything not yet claimed goes); `checkDone` fails when
 * claimable work was neither claimed nor split away.
 */

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

export interface OffsetRange {
  readonly start: bigint;
  readonly stop: bigint;
}

/** A tracker's progress, in offsets. */
export interface RestrictionProgress {
  completed: number;
  remaining: number;
}

/** The tracker broke its contract or was misused (the message names the offsets). */
export class RestrictionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RestrictionError";
  }
}

/** `value` as an int64 bigint; a RestrictionError naming `what` otherwise. */
export function int64(value: bigint | number, what: string): bigint {
  const v = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : NaN;
  if (typeof v !== "bigint" || v < INT64_MIN || v > INT64_MAX)
    throw new RestrictionError(
      `${what} must be an int64 (a safe integer or a bigint), got ${String(value)}`,
    );
  return v;
}

export function offsetRange(start: bigint | number, stop: bigint | number): OffsetRange {
  const s = int64(start, "an offset range's start");
  const e = int64(stop, "an offset range's stop");
  if (s > e) throw new RestrictionError(`offset range [${s}, ${e}) has its start after its stop`);
  return { start: s, stop: e };
}

export const rangeSize = (range: OffsetRange): bigint => range.stop - range.start;

export const describeRange = (range: OffsetRange): string => `[${range.start}, ${range.stop})`;

/**
 * Cuts `range` into pieces of about `desiredSize` offsets (at least
 * `minSize`); a last piece smaller than a quarter of `desiredSize` (or than
 * `minSize`) joins the one before it. An empty range gives no pieces.
 */
export function splitRange(
  range: OffsetRange,
  desiredSize: bigint | number,
  minSize: bigint | number = 1n,
): OffsetRange[] {
  const desired = int64(desiredSize, "the desired split size");
  const min = int64(minSize, "the minimum split size");
  if (desired <= 0n || min <= 0n)
    throw new RestrictionError(`split sizes must be positive, got ${desired} and ${min}`);
  const step = desired > min ? desired : min;
  const pieces: OffsetRange[] = [];
  for (let start = range.start; start < range.stop;) {
    let stop = range.stop - start > step ? start + step : range.stop;
    const rest = range.stop - stop;
    if (rest < desired / 4n || rest < min) stop = range.stop;
    pieces.push({ start, stop });
    start = stop;
  }
  return pieces;
}

/** Fractions are applied in steps of 2^-32 (exact arithmetic on int64 remainders). */
const FRACTION_BITS = 32n;
const FRACTION_SCALE = 2 ** 32;

/**
 * Whether `position` may be claimed after `last` in `range` (true: it is in
 * the range; false: at or past its stop); throws on claims that do not
 * strictly increase or start before the range.
 */
export function checkClaim(
  range: OffsetRange,
  last: bigint | undefined,
  position: bigint,
): boolean {
  if (last !== undefined && position <= last)
    throw new RestrictionError(
      `offsets claimed must strictly increase: tried to claim ${position} after ${last} in ${describeRange(range)}`,
    );
  if (position < range.start)
    throw new RestrictionError(
      `tried to claim offset ${position}, before the start of ${describeRange(range)}`,
    );
  return position < range.stop;
}

/**
 * Where a split of `fraction` (0 ≤ fraction < 1) of the work after `last`
 * cuts `range`: the first offset of the residual, or undefined when nothing
 * can be split off.
 */
export function splitFraction(
  range: OffsetRange,
  last: bigint | undefined,
  fraction: number,
): bigint | undefined {
  if (!(fraction >= 0 && fraction < 1))
    throw new RestrictionError(`a split fraction must be in [0, 1), got ${fraction}`);
  const current = last ?? range.start - 1n;
  if (current >= range.stop - 1n) return undefined;
  const remaining = range.stop - current;
  const scaled = BigInt(Math.floor(fraction * FRACTION_SCALE));
  let amount = (remaining * scaled) >> FRACTION_BITS;
  if (amount < 1n) amount = 1n;
  const split = current + amount;
  return split >= range.stop ? undefined : split;
}

/** Throws unless every offset of `range` was claimed or attempted past. */
export function checkRangeDone(range: OffsetRange, last: bigint | undefined): void {
  if (range.start === range.stop) return;
  if (last === undefined || last < range.stop - 1n)
    throw new RestrictionError(
      `the restriction ${describeRange(range)} is not done: offsets [${last === undefined ? range.start : last + 1n}, ${range.stop}) were neither claimed nor split away (claim until tryClaim returns false)`,
    );
}

/** Work done and left, in offsets (the offset being processed counts as left). */
export function rangeProgress(range: OffsetRange, last: bigint | undefined): RestrictionProgress {
  const total = range.stop - range.start;
  if (last === undefined) return { completed: 0, remaining: Number(total) };
  let completed = last - range.start;
  if (completed > total) completed = total;
  return { completed: Number(completed), remaining: Number(total - completed) };
}

export class OffsetRangeTracker {
  private range: OffsetRange;
  private lastAttempted: bigint | undefined;

  constructor(range: OffsetRange) {
    this.range = range;
  }

  currentRestriction(): OffsetRange {
    return this.range;
  }

  /** The last offset a claim was attempted at (claimed or not). */
  get lastAttemptedOffset(): bigint | undefined {
    return this.lastAttempted;
  }

  isBounded(): boolean {
    return true;
  }

  /**
   * Claims `offset`: true if it is in the (current) range and the caller may
   * process it; false once it is at or past the stop (the caller must stop).
   */
  tryClaim(offset: bigint | number): boolean {
    const position = int64(offset, "a claimed offset");
    const claimed = checkClaim(this.range, this.lastAttempted, position);
    this.lastAttempted = position;
    return claimed;
  }

  /**
   * Splits off `fraction` (0 ≤ fraction < 1) of the remaining work: the
   * tracker keeps the primary; undefined when nothing can be split off.
   */
  trySplit(fraction: number): { primary: OffsetRange; residual: OffsetRange } | undefined {
    const split = splitFraction(this.range, this.lastAttempted, fraction);
    if (split === undefined) return undefined;
    const primary = { start: this.range.start, stop: split };
    const residual = { start: split, stop: this.range.stop };
    this.range = primary;
    return { primary, residual };
  }

  /** Throws unless every offset of the range was claimed, attempted past, or split away. */
  checkDone(): void {
    checkRangeDone(this.range, this.lastAttempted);
  }

  /** Work done and left, in offsets (the offset being processed counts as left). */
  progress(): RestrictionProgress {
    return rangeProgress(this.range, this.lastAttempted);
  }
}
