/**
 * The built-in offset-range tracker over shared memory, so that a runner's
 * split can cut the restriction of the element a thread is processing
 * without waiting for that thread: the conductor and the thread take the
 * same small Atomics lock around claims and splits (as SplitGate does for
 * element indexes). The semantics are OffsetRangeTracker's (offset-range.ts).
 *
 * The cell also carries what the conductor needs to answer such a split:
 * whether an element is being processed, its index in the bundle's input,
 * and its encoding (the windowed sized element), which the conductor decodes,
 * gives the primary and residual restrictions, and encodes again.
 */
import {
  checkClaim,
  checkRangeDone,
  int64,
  rangeProgress,
  splitFraction,
  type OffsetRange,
  type RestrictionProgress,
} from "./offset-range.js";

const LOCK = 0;
const ACTIVE = 1; // 1 while an element that may be split is processed
const INDEX = 2; // its index among the bundle's input elements
const ENCODED_LENGTH = 3; // bytes of its encoding in the byte area
const ESTIMATES = 4; // 1 when its DoFn has a built-in watermark estimator (WATERMARK is its watermark)
const INT_CELLS = 5;
// BigInt64 cells (after the Int32 cells, 8-byte aligned)
const START = 0;
const STOP = 1;
const LAST = 2;
const ATTEMPTED = 3;
const WATERMARK = 4;
const BIG_CELLS = 5;

/** The largest element encoding kept for splits (a larger element is not split while it runs). */
export const MAX_SPLIT_ELEMENT_BYTES = 64 * 1024;

const INT_BYTES = INT_CELLS * 4;
const BIG_OFFSET = Math.ceil(INT_BYTES / 8) * 8;
const BYTES_OFFSET = BIG_OFFSET + BIG_CELLS * 8;

export class SharedOffsetRangeCell {
  readonly ints: Int32Array;
  readonly bigs: BigInt64Array;
  readonly bytes: Uint8Array;

  constructor(
    buffer: SharedArrayBuffer = new SharedArrayBuffer(BYTES_OFFSET + MAX_SPLIT_ELEMENT_BYTES),
  ) {
    this.ints = new Int32Array(buffer, 0, INT_CELLS);
    this.bigs = new BigInt64Array(buffer, BIG_OFFSET, BIG_CELLS);
    this.bytes = new Uint8Array(buffer, BYTES_OFFSET);
  }

  get buffer(): SharedArrayBuffer {
    return this.ints.buffer as SharedArrayBuffer;
  }

  lock(): void {
    while (Atomics.compareExchange(this.ints, LOCK, 0, 1) !== 0) {
      // held only for a few instructions by the other side
    }
  }

  unlock(): void {
    Atomics.store(this.ints, LOCK, 0);
  }

  /**
   * Starts an element: its range, index and encoding (undefined: too large to
   * split), and the watermark of its built-in estimator, if it has one.
   */
  begin(
    range: OffsetRange,
    index: number,
    encoded: Uint8Array | undefined,
    watermark?: bigint,
  ): void {
    this.lock();
    this.ints[ESTIMATES] = watermark === undefined ? 0 : 1;
    this.bigs[WATERMARK] = watermark ?? 0n;
    this.bigs[START] = range.start;
    this.bigs[STOP] = range.stop;
    this.bigs[LAST] = 0n;
    this.bigs[ATTEMPTED] = 0n;
    this.ints[INDEX] = index;
    if (encoded && encoded.length <= this.bytes.length) {
      this.bytes.set(encoded);
      this.ints[ENCODED_LENGTH] = encoded.length;
    } else this.ints[ENCODED_LENGTH] = -1;
    this.ints[ACTIVE] = 1;
    this.unlock();
  }

  /** The element's estimator moved its watermark (one writer: the processing side). */
  publishWatermark(watermark: bigint): void {
    Atomics.store(this.bigs, WATERMARK, watermark);
  }

  /** The built-in estimator's watermark of the element, if its DoFn has one. */
  watermark(): bigint | undefined {
    return Atomics.load(this.ints, ESTIMATES) === 1
      ? Atomics.load(this.bigs, WATERMARK)
      : undefined;
  }

  /** Ends the element: no split can reach it any more. */
  end(): void {
    this.lock();
    this.ints[ACTIVE] = 0;
    this.unlock();
  }

  /** Under the lock: the element being processed, if it may be split. */
  current(): { index: number; encoded: Uint8Array } | undefined {
    if (this.ints[ACTIVE] !== 1 || this.ints[ENCODED_LENGTH] < 0) return undefined;
    return {
      index: this.ints[INDEX],
      encoded: this.bytes.slice(0, this.ints[ENCODED_LENGTH]),
    };
  }

  /** Under the lock: the range as it is now. */
  range(): OffsetRange {
    return { start: this.bigs[START], stop: this.bigs[STOP] };
  }

  /** Under the lock: the last attempted claim, if any. */
  lastAttempted(): bigint | undefined {
    return this.bigs[ATTEMPTED] === 1n ? this.bigs[LAST] : undefined;
  }

  /** Under the lock: splits off `fraction` of the remaining work (OffsetRangeTracker.trySplit). */
  splitLocked(fraction: number): { primary: OffsetRange; residual: OffsetRange } | undefined {
    const range = this.range();
    const split = splitFraction(range, this.lastAttempted(), fraction);
    if (split === undefined) return undefined;
    this.bigs[STOP] = split;
    return {
      primary: { start: range.start, stop: split },
      residual: { start: split, stop: range.stop },
    };
  }

  /** The running element's progress; undefined between elements. */
  activeProgress(): RestrictionProgress | undefined {
    if (Atomics.load(this.ints, ACTIVE) !== 1) return undefined;
    return this.progress();
  }

  /** Progress as OffsetRangeTracker reports it. */
  progress(): RestrictionProgress {
    this.lock();
    try {
      return rangeProgress(this.range(), this.lastAttempted());
    } finally {
      this.unlock();
    }
  }
}

/** The tracker a thread's `process` uses over a shared cell (the built-in offset range). */
export class SharedOffsetRangeTracker {
  constructor(private readonly cell: SharedOffsetRangeCell) {}

  currentRestriction(): OffsetRange {
    this.cell.lock();
    try {
      return this.cell.range();
    } finally {
      this.cell.unlock();
    }
  }

  isBounded(): boolean {
    return true;
  }

  tryClaim(offset: bigint | number): boolean {
    const position = int64(offset, "a claimed offset");
    const cell = this.cell;
    cell.lock();
    try {
      const claimed = checkClaim(cell.range(), cell.lastAttempted(), position);
      cell.bigs[LAST] = position;
      cell.bigs[ATTEMPTED] = 1n;
      return claimed;
    } finally {
      cell.unlock();
    }
  }

  trySplit(fraction: number): { primary: OffsetRange; residual: OffsetRange } | undefined {
    this.cell.lock();
    try {
      return this.cell.splitLocked(fraction);
    } finally {
      this.cell.unlock();
    }
  }

  checkDone(): void {
    this.cell.lock();
    let range: OffsetRange;
    let last: bigint | undefined;
    try {
      range = this.cell.range();
      last = this.cell.lastAttempted();
    } finally {
      this.cell.unlock();
    }
    checkRangeDone(range, last);
  }

  progress(): RestrictionProgress {
    return this.cell.progress();
  }
}
