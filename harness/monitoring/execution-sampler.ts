/**
 * Samples the execution state of every running bundle every `periodMs`
 * (Beam's state-sampling approach): each sample adds `periodMs` to the
 * (transform, phase) the bundle is in. With a thread pool the samples are
 * exact in distribution; inline (threads = 0) the sampler only runs between
 * synchronous stretches, so times are coarse estimates.
 */
import type { ProgressView } from "../bundle/progress-view.js";

export class ExecutionSampler {
  private readonly views = new Set<ProgressView>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly periodMs = 10) {}

  track(view: ProgressView): void {
    this.views.add(view);
    this.timer ??= setInterval(() => this.sample(), this.periodMs).unref();
  }

  untrack(view: ProgressView): void {
    this.views.delete(view);
    if (this.views.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sample(): void {
    for (const view of this.views) {
      const code = Atomics.load(view.executionState, 0);
      if (code > 0) view.samples.set(code, (view.samples.get(code) ?? 0) + 1);
    }
  }
}

/** The conductor's sampler (one per process). */
export const executionSampler = new ExecutionSampler();
