/**
 * The element index of a data source and its stop bound, in shared memory so
 * that a split can be agreed while the source runs on another thread (the
 * conductor answers `process_bundle_split` without waiting for the thread's
 * event loop). A tiny Atomics lock makes "claim the next element" and "move
 * the stop bound" mutually exclusive: an element is processed only if it was
 * below the stop bound when it was claimed.
 */
const LOCK = 0;
const INDEX = 1; // index of the last claimed element, -1 before the first
const STOP = 2; // elements at or past this index are residual
const UNBOUNDED = 0x7fffffff;

export interface SplitPoint {
  lastPrimaryElement: number;
  firstResidualElement: number;
}

export interface SplitRequest {
  fractionOfRemainder: number;
  /** Elements the runner believes the bundle has (0 = unknown). */
  estimatedInputElements: number;
  /** Split points the runner allows (empty = any). */
  allowedSplitPoints: readonly number[];
}

export class SplitGate {
  readonly cells: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(3 * 4)) {
    this.cells = new Int32Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  reset(): void {
    this.lock();
    this.cells[INDEX] = -1;
    this.cells[STOP] = UNBOUNDED;
    this.unlock();
  }

  /** Elements claimed so far (the data channel read index). */
  get claimed(): number {
    return Atomics.load(this.cells, INDEX) + 1;
  }

  /** Claims the next element; false when it is past the stop bound. */
  claimNext(): boolean {
    this.lock();
    const next = this.cells[INDEX] + 1;
    const ok = next < this.cells[STOP];
    if (ok) this.cells[INDEX] = next;
    this.unlock();
    return ok;
  }

  /** Whether elements before the stop bound may still come (false once a split's primary is done). */
  get hasRoom(): boolean {
    return Atomics.load(this.cells, INDEX) + 1 < Atomics.load(this.cells, STOP);
  }

  /** Whether a stop bound was set (the source then ignores the rest of its input). */
  get isSplit(): boolean {
    return Atomics.load(this.cells, STOP) !== UNBOUNDED;
  }

  /**
   * Moves the stop bound as Beam's channel split defines it: keep
   * `fraction` of the elements after the current one; the current element
   * stays in the primary. Returns undefined when no split is possible.
   */
  trySplit(request: SplitRequest): SplitPoint | undefined {
    this.lock();
    try {
      const index = this.cells[INDEX];
      const stop = this.cells[STOP];
      const position = index + 1;
      let total = request.estimatedInputElements > 0 ? request.estimatedInputElements : stop;
      if (total > stop) total = stop;
      if (total < position) total = position;
      if (total === UNBOUNDED) return undefined;
      const fraction = Math.min(Math.max(request.fractionOfRemainder, 0), 1);
      let split = position + Math.ceil((total - position) * fraction);
      if (request.allowedSplitPoints.length > 0) {
        const candidates = request.allowedSplitPoints.filter((p) => p >= position && p < stop);
        if (candidates.length === 0) return undefined;
        split = candidates.reduce((best, p) =>
          Math.abs(p - split) < Math.abs(best - split) ? p : best,
        );
      }
      if (split >= stop || split < position) return undefined;
      this.cells[STOP] = split;
      return { lastPrimaryElement: split - 1, firstResidualElement: split };
    } finally {
      this.unlock();
    }
  }

  private lock(): void {
    while (Atomics.compareExchange(this.cells, LOCK, 0, 1) !== 0) {
      // contended only while the other side runs a few instructions
    }
  }

  private unlock(): void {
    Atomics.store(this.cells, LOCK, 0);
  }
}
