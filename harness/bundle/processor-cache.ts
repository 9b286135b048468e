/**
 * Idle bundle processors per descriptor, reused across bundles. A processor
 * whose bundle failed is torn down instead of being returned.
 */
import type { Logger } from "pino";
import type { fnApi } from "../../proto/index.js";
import { DEFAULT_LIMITS, type OperationLimits } from "../../operations/registry.js";
import { BundleProcessor } from "./bundle-processor.js";

export class ProcessorCache {
  private readonly idle = new Map<string, BundleProcessor[]>();

  constructor(
    private readonly logger: Logger,
    private readonly limits: OperationLimits = DEFAULT_LIMITS,
    private readonly maxIdlePerDescriptor = 16,
  ) {}

  async acquire(descriptor: fnApi.ProcessBundleDescriptor): Promise<BundleProcessor> {
    const idle = this.idle.get(descriptor.id);
    const reused = idle?.pop();
    if (reused) return reused;
    return BundleProcessor.create(descriptor, this.limits);
  }

  release(processor: BundleProcessor): void {
    if (!processor.isReusable) {
      this.discard(processor);
      return;
    }
    const id = processor.descriptor.id;
    let idle = this.idle.get(id);
    if (!idle) this.idle.set(id, (idle = []));
    if (idle.length < this.maxIdlePerDescriptor) idle.push(processor);
    else this.discard(processor);
  }

  discard(processor: BundleProcessor): void {
    processor.teardown().catch((err: unknown) => {
      this.logger.warn(
        { descriptorId: processor.descriptor.id, err },
        "teardown of a discarded processor failed",
      );
    });
  }

  get idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  async close(): Promise<void> {
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.allSettled(all.map((p) => p.teardown()));
  }
}
