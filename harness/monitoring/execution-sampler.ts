/**
 * Samples the execution state of every running bundle every `periodMs`
 * (Beam's state-sampling approach): each sample adds `periodMs` to the
 * (transform, phase) the bundle is in. With a thread pool the samples are
 * exact in distribution; inline (threads = 0) the sampler only runs between
 * synchronous stretches, so times are coarse estimates.
 */
import type { ProgressView } from "../bundle/progress-view.js";

/** Idle periods (no bundle running) before the timer stops: short bundles in a row reuse it. */
const IDLE_PERIODS_BEFORE_STOP = 100;

export class ExecutionSampler {
  private readonly views = new Set<ProgressView>();
  private timer: NodeJS.Timeout | undefined;
  private idlePeriods = 0;

  constructor(readonly periodMs = 10) {}

  track(view: ProgressView): void {
    this.views.add(view);
    this.idlePeriods = 0;
    this.timer ??= setInterval(() => this.sample(), this.periodMs).unref();
  }

  untrack(view: ProgressView): void {
    this.views.delete(view);
  }

  private sample(): void {
    if (this.views.size === 0) {
      if (++this.idlePeriods >= IDLE_PERIODS_BEFORE_STOP && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
      return;
    }
    this.idlePeriods = 0;
    for (const view of this.views) {
      const code = Atomics.load(view.executionState, 0);
      if (code > 0) view.samples.set(code, (view.samples.get(code) ?? 0) + 1);
    }
  }
}

/** The conductor's sampler (one per process). */
export const executionSampler = new ExecutionSampler();
