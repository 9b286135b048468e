/**
 * Which bundles run on the conductor instead of a pool thread. A bundle that
 * reads a few elements costs more to hand to a thread (a task, a port, the
 * input and the output crossing threads, a parked thread waking) than to
 * run: streaming runners send many such bundles, and there the per-bundle
 * cost is the throughput. So a descriptor whose recent bundles all finished
 * quickly runs its next bundle on the conductor — one at a time, so the
 * conductor keeps answering the runner and concurrent bundles still spread
 * over the threads.
 *
 * A descriptor earns this by history only: its first bundles always run in
 * the pool, and one slow bundle on the conductor sends the descriptor back to
 * the pool for a while. What stays true is that a DoFn that is slow on every
 * element never runs on the conductor; what does not is protection from a
 * DoFn that is quick for a long time and then blocks the event loop (as
 * inline mode, `threads = 0`). `firefly_inline_small_bundles=false` turns
 * this off.
 */

export interface SmallBundlePolicyOptions {
  /** Consecutive quick bundles a descriptor needs before one runs on the conductor. @default 8 */
  quickBundlesNeeded?: number;
  /** A bundle in a pool thread is quick when it took at most this long (hand-off included). @default 5 */
  poolQuickMs?: number;
  /** A bundle on the conductor is quick when it took at most this long. @default 2 */
  inlineQuickMs?: number;
}

export type Placement = "inline" | "pool";

export class SmallBundlePolicy {
  /** Quick bundles in a row, per descriptor. */
  private readonly streaks = new Map<string, number>();
  private inlineRunning = 0;
  private readonly quickBundlesNeeded: number;
  private readonly poolQuickMs: number;
  private readonly inlineQuickMs: number;

  constructor(options: SmallBundlePolicyOptions = {}) {
    this.quickBundlesNeeded = options.quickBundlesNeeded ?? 8;
    this.poolQuickMs = options.poolQuickMs ?? 5;
    this.inlineQuickMs = options.inlineQuickMs ?? 2;
  }

  /** Where the next bundle of `descriptorId` runs; call `finished` with the same placement after it. */
  place(descriptorId: string): Placement {
    if (this.inlineRunning > 0) return "pool";
    if ((this.streaks.get(descriptorId) ?? 0) < this.quickBundlesNeeded) return "pool";
    this.inlineRunning++;
    return "inline";
  }

  /** Records how a bundle went: a failed or slow bundle restarts the descriptor's streak. */
  finished(descriptorId: string, placement: Placement, ms: number, ok: boolean): void {
    if (placement === "inline") this.inlineRunning--;
    const quick = ok && ms <= (placement === "inline" ? this.inlineQuickMs : this.poolQuickMs);
    if (!quick) {
      this.streaks.delete(descriptorId);
      return;
    }
    const streak = this.streaks.get(descriptorId) ?? 0;
    if (streak < this.quickBundlesNeeded) this.streaks.set(descriptorId, streak + 1);
  }
}
