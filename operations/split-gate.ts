/**
 * The element index of a data source and its stop bound, in shared memory so
 * that a split can be agreed while the source runs on another thread (the
 * conductor answers `process_bundle_split` without waiting for the thread's
 * event loop). A tiny Atomics lock makes "claim the next element" and "move
 * the stop bound" mutually exclusive: an element is processed only if it was
 * below the stop bound when it was claimed.
 */
import type { wkt } from "../proto/index.js";

const LOCK = 0;
const INDEX = 1; // index of the last claimed element, -1 before the first
const STOP = 2; // elements at or past this index are residual
const UNBOUNDED = 0x7fffffff;

export interface SplitPoint {
  lastPrimaryElement: number;
  firstResidualElement: number;
  /** The element being processed was split too (a splittable DoFn's restriction). */
  elementSplit?: ElementSplit;
}

/** The two halves of a split element, encoded with its transform's input coder. */
export interface ElementSplit {
  transformId: string;
  /** The transform's local input name. */
  inputId: string;
  primary: Uint8Array;
  residual: Uint8Array;
  /** The residual's output watermarks (by output name), when its DoFn estimates one. */
  residualWatermarks?: Map<string, wkt.Timestamp>;
}

/** Splits the element a splittable DoFn is processing (called while the gate is locked). */
export interface CurrentElementSplitter {
  /** The fraction of element `index` done, or undefined when it cannot be split now. */
  fractionDone(index: number): number | undefined;
  /** Splits element `index`, keeping `fraction` of its remaining work in the primary. */
  split(index: number, fraction: number): ElementSplit | undefined;
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
    return this.claim(1) === 1;
  }

  /**
   * Claims the next `n` elements at once (a columnar source claims a run of
   * decoded rows); returns how many were below the stop bound.
   */
  claim(n: number): number {
    this.lock();
    const next = this.cells[INDEX] + 1;
    const room = Math.max(0, this.cells[STOP] - next);
    const claimed = n < room ? n : room;
    this.cells[INDEX] += claimed;
    this.unlock();
    return claimed;
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
   * stays in the primary. With `element` (a splittable DoFn reads this
   * source) a split point inside the current element splits its restriction
   * instead, as Beam Python's harness computes it: the element becomes a
   * primary and a residual root, and the elements after it are residual.
   * Returns undefined when no split is possible.
   */
  trySplit(request: SplitRequest, element?: CurrentElementSplitter): SplitPoint | undefined {
    this.lock();
    try {
      const index = this.cells[INDEX];
      const stop = this.cells[STOP];
      const inElement = element && this.splitInElement(request, element, index, stop);
      if (inElement) return inElement;
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

  /** A split inside element `index` when the split point falls in its remaining work. */
  private splitInElement(
    request: SplitRequest,
    element: CurrentElementSplitter,
    index: number,
    stop: number,
  ): SplitPoint | undefined {
    if (index < 0 || index >= stop) return undefined;
    const done = element.fractionDone(index);
    if (done === undefined || !(done < 1)) return undefined;
    let total = request.estimatedInputElements > 0 ? request.estimatedInputElements : index + 1;
    if (total > stop) total = stop;
    if (total < index + 1) total = index + 1;
    const fraction = Math.min(Math.max(request.fractionOfRemainder, 0), 1);
    const keepOfElement = ((total - index - done) * fraction) / (1 - done);
    const allowed = (p: number) =>
      request.allowedSplitPoints.length === 0 || request.allowedSplitPoints.includes(p);
    if (!(keepOfElement < 1) || !allowed(index) || !allowed(index + 1)) return undefined;
    const split = element.split(index, keepOfElement);
    if (!split) return undefined;
    this.cells[STOP] = index + 1;
    return { lastPrimaryElement: index - 1, firstResidualElement: index + 1, elementSplit: split };
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
