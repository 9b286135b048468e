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

function int64(value: bigint | number, what: string): bigint {
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
    if (this.lastAttempted !== undefined && position <= this.lastAttempted)
      throw new RestrictionError(
        `offsets claimed must strictly increase: tried to claim ${position} after ${this.lastAttempted} in ${describeRange(this.range)}`,
      );
    if (position < this.range.start)
      throw new RestrictionError(
        `tried to claim offset ${position}, before the start of ${describeRange(this.range)}`,
      );
    this.lastAttempted = position;
    return position < this.range.stop;
  }

  /**
   * Splits off `fraction` (0 ≤ fraction < 1) of the remaining work: the
   * tracker keeps the primary; undefined when nothing can be split off.
   */
  trySplit(fraction: number): { primary: OffsetRange; residual: OffsetRange } | undefined {
    if (!(fraction >= 0 && fraction < 1))
      throw new RestrictionError(`a split fraction must be in [0, 1), got ${fraction}`);
    const current = this.lastAttempted ?? this.range.start - 1n;
    if (current >= this.range.stop - 1n) return undefined;
    const remaining = this.range.stop - current;
    const scaled = BigInt(Math.floor(fraction * FRACTION_SCALE));
    let amount = (remaining * scaled) >> FRACTION_BITS;
    if (amount < 1n) amount = 1n;
    const split = current + amount;
    if (split >= this.range.stop) return undefined;
    const primary = { start: this.range.start, stop: split };
    const residual = { start: split, stop: this.range.stop };
    this.range = primary;
    return { primary, residual };
  }

  /** Throws unless every offset of the range was claimed, attempted past, or split away. */
  checkDone(): void {
    const { start, stop } = this.range;
    if (start === stop) return;
    const last = this.lastAttempted;
    if (last === undefined || last < stop - 1n)
      throw new RestrictionError(
        `the restriction ${describeRange(this.range)} is not done: offsets [${last === undefined ? start : last + 1n}, ${stop}) were neither claimed nor split away (claim until tryClaim returns false)`,
      );
  }

  /** Work done and left, in offsets (the offset being processed counts as left). */
  progress(): RestrictionProgress {
    const total = this.range.stop - this.range.start;
    const last = this.lastAttempted;
    if (last === undefined) return { completed: 0, remaining: Number(total) };
    let completed = last - this.range.start;
    if (completed > total) completed = total;
    return { completed: Number(completed), remaining: Number(total - completed) };
  }
}
