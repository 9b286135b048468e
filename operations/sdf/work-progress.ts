/**
 * A splittable DoFn's progress on the element it is processing, in shared
 * memory so that a progress answer reads it from any thread (as element
 * counts and split gates are read): whether an element is being processed,
 * and the work completed and remaining that its tracker reported at its last
 * claim. Reported as `beam:metric:ptransform_progress:completed:v1` and
 * `…:remaining:v1`.
 */
import type { RestrictionProgress } from "./offset-range.js";
import type { RestrictionTracker } from "./splittable-dofn.js";

const ACTIVE = 0;
const COMPLETED = 1;
const REMAINING = 2;

export class WorkProgressCell {
  readonly cells: Float64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(3 * 8)) {
    this.cells = new Float64Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  set(progress: RestrictionProgress): void {
    this.cells[COMPLETED] = progress.completed;
    this.cells[REMAINING] = progress.remaining;
    this.cells[ACTIVE] = 1;
  }

  clear(): void {
    this.cells[ACTIVE] = 0;
  }

  /** The progress of the element being processed, undefined between elements. */
  read(): RestrictionProgress | undefined {
    if (this.cells[ACTIVE] !== 1) return undefined;
    return { completed: this.cells[COMPLETED], remaining: this.cells[REMAINING] };
  }
}

/**
 * The tracker `process` sees: the user's (or the built-in) tracker, with each
 * claim also publishing progress to `cell` when the tracker reports it.
 */
export function publishingTracker(
  tracker: RestrictionTracker,
  cell: WorkProgressCell,
): RestrictionTracker {
  const progress = tracker.progress?.bind(tracker);
  const publish = () => {
    if (progress) cell.set(progress());
  };
  publish();
  return {
    tryClaim(position: unknown): boolean {
      const claimed = tracker.tryClaim(position);
      publish();
      return claimed;
    },
    currentRestriction: () => tracker.currentRestriction(),
    trySplit(fraction: number) {
      const split = tracker.trySplit(fraction);
      publish();
      return split;
    },
    checkDone: () => tracker.checkDone(),
    ...(progress ? { progress } : {}),
    ...(tracker.isBounded ? { isBounded: tracker.isBounded.bind(tracker) } : {}),
  };
}
