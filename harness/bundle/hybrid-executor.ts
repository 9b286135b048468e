/**
 * The default executor when there are pool threads: each bundle runs either
 * in a pool thread or on the conductor, as the small-bundle policy places it
 * (small-bundle-policy.ts says why). Progress, splits and the active-bundle
 * table ask whichever executor runs the bundle.
 */
import type { fnApi, metricsApi } from "../../proto/index.js";
import type { SplitPoint, SplitRequest } from "../../operations/split-gate.js";
import type { ActiveBundleInfo, BundleExecutor, BundleOutcome } from "./inline-executor.js";
import type { SmallBundlePolicy } from "./small-bundle-policy.js";

export class HybridExecutor implements BundleExecutor {
  constructor(
    private readonly inline: BundleExecutor,
    private readonly pool: BundleExecutor,
    private readonly policy: SmallBundlePolicy,
  ) {}

  get activeCount(): number {
    return this.inline.activeCount + this.pool.activeCount;
  }

  async process(
    instructionId: string,
    request: fnApi.ProcessBundleRequest,
    descriptor: fnApi.ProcessBundleDescriptor,
  ): Promise<BundleOutcome> {
    const placement = this.policy.place(descriptor.id);
    const executor = placement === "inline" ? this.inline : this.pool;
    const started = performance.now();
    let ok = false;
    try {
      const outcome = await executor.process(instructionId, request, descriptor);
      ok = true;
      return outcome;
    } finally {
      this.policy.finished(descriptor.id, placement, performance.now() - started, ok);
    }
  }

  progress(instructionId: string): metricsApi.MonitoringInfo[] | undefined {
    return this.inline.progress(instructionId) ?? this.pool.progress(instructionId);
  }

  split(instructionId: string, transformId: string, request: SplitRequest): SplitPoint | undefined {
    return this.inline.isActive(instructionId)
      ? this.inline.split(instructionId, transformId, request)
      : this.pool.split(instructionId, transformId, request);
  }

  isActive(instructionId: string): boolean {
    return this.inline.isActive(instructionId) || this.pool.isActive(instructionId);
  }

  activeBundles(): ActiveBundleInfo[] {
    return [...this.inline.activeBundles(), ...this.pool.activeBundles()];
  }

  poolState(): { threads: number; queueSize: number } | undefined {
    return this.pool.poolState();
  }

  async close(): Promise<void> {
    await Promise.all([this.inline.close(), this.pool.close()]);
  }
}
