/**
 * The worker's shared parts, handed to instruction handlers.
 */
import type { Logger } from "pino";
import type { FinalizationCallback } from "../operations/bundle-services.js";
import type { BundleExecutor } from "./bundle/inline-executor.js";
import type { DescriptorCache } from "./control/descriptor-cache.js";
import type { DataSampler } from "./monitoring/data-sampler.js";
import type { ShortIdTable } from "./monitoring/monitoring-infos.js";
import type { WorkerMetrics } from "./monitoring/worker-metrics.js";
import type { StateCache } from "./state/state-cache.js";

export interface HarnessServices {
  readonly workerId: string;
  readonly logger: Logger;
  readonly descriptors: DescriptorCache;
  readonly executor: BundleExecutor;
  readonly stateCache: StateCache;
  readonly shortIds: ShortIdTable;
  readonly metrics: WorkerMetrics;
  /** Samples for `sample_data` (undefined when data sampling is off). */
  readonly dataSampler: DataSampler | undefined;
  /** Drops the inbound data of an instruction on every data channel (a bundle that failed to start). */
  releaseInbound(instructionId: string): void;
  /** Instruction ids of bundles between request and executor start (duplicate detection). */
  readonly startingBundles: Set<string>;
  /** Finalization callbacks of bundles that answered `requires_finalization`. */
  readonly pendingFinalizations: Map<
    string,
    { callbacks: FinalizationCallback[]; expiresAt: number }
  >;
}
