/**
 * Hands out workers' bundle slots: a bundle runs on the worker with the most
 * free slots; when all are busy it waits for one.
 */
import type { WorkerHandle } from "../workers.js";

export class WorkerPool {
  private readonly active = new Map<WorkerHandle, number>();
  private readonly waiters: (() => void)[] = [];

  constructor(readonly workers: WorkerHandle[]) {
    if (workers.length === 0) throw new Error("the local runner needs at least one worker");
    for (const w of workers) this.active.set(w, 0);
  }

  /** Bundles that can run at once over all workers. */
  get slots(): number {
    return this.workers.reduce((n, w) => n + w.slots, 0);
  }

  /** Slots free now (none while bundles wait for one). */
  get idle(): number {
    if (this.waiters.length > 0) return 0;
    let free = 0;
    for (const w of this.workers)
      if (w.connection.alive) free += Math.max(0, w.slots - (this.active.get(w) ?? 0));
    return free;
  }

  async acquire(): Promise<WorkerHandle> {
    for (;;) {
      let best: WorkerHandle | undefined;
      let bestFree = 0;
      for (const w of this.workers) {
        const free = w.slots - (this.active.get(w) ?? 0);
        if (free > bestFree && w.connection.alive) {
          best = w;
          bestFree = free;
        }
      }
      if (best) {
        this.active.set(best, (this.active.get(best) ?? 0) + 1);
        return best;
      }
      if (!this.workers.some((w) => w.connection.alive))
        throw new Error("every worker has stopped");
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  release(worker: WorkerHandle): void {
    this.active.set(worker, Math.max(0, (this.active.get(worker) ?? 1) - 1));
    this.waiters.shift()?.();
  }

  /** Runs `work` on a worker slot. */
  async with<T>(work: (worker: WorkerHandle) => Promise<T>): Promise<T> {
    const worker = await this.acquire();
    try {
      return await work(worker);
    } finally {
      this.release(worker);
    }
  }
}
