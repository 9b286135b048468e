/**
 * Runs bundles on the conductor's own thread (threads = 0). It owns the
 * active-bundle table that progress and split requests read. The thread-pool
 * executor runs the same BundleProcessor code inside worker threads.
 */
import type { Logger } from "pino";
import type { fnApi, metricsApi } from "../../proto/index.js";
import type { FinalizationCallback } from "../../operations/bundle-services.js";
import type { SplitPoint, SplitRequest } from "../../operations/split-gate.js";
import type { ChannelPool } from "../data/channel-pool.js";
import type { FlushPolicy } from "../data/element-sink.js";
import { mergeInbound } from "../data/merge-inbound.js";
import { BundleError } from "../errors.js";
import {
  executionTimeInfos,
  operationsMonitoringInfos,
  progressMonitoringInfos,
} from "../monitoring/bundle-metrics.js";
import { executionSampler } from "../monitoring/execution-sampler.js";
import type { StateCache } from "../state/state-cache.js";
import type { BundleProcessor } from "./bundle-processor.js";
import { endpointsOf } from "./descriptor-endpoints.js";
import { InlineBundleServices } from "./inline-bundle.js";
import { splitSource } from "./element-splitter.js";
import { runBundle } from "./running-bundle.js";
import type { ProcessorCache } from "./processor-cache.js";
import { ProgressView } from "./progress-view.js";

export interface BundleOutcome {
  monitoringInfos: metricsApi.MonitoringInfo[];
  finalizations: FinalizationCallback[];
  /** Work handed back to the runner (`ProcessBundleResponse.residual_roots`). */
  residuals: fnApi.DelayedBundleApplication[];
}

export interface BundleExecutor {
  process(
    instructionId: string,
    request: fnApi.ProcessBundleRequest,
    descriptor: fnApi.ProcessBundleDescriptor,
  ): Promise<BundleOutcome>;
  /** MonitoringInfos of a running bundle, or undefined if it is not running. */
  progress(instructionId: string): metricsApi.MonitoringInfo[] | undefined;
  /** A channel split of a running bundle's data source. */
  split(instructionId: string, transformId: string, request: SplitRequest): SplitPoint | undefined;
  isActive(instructionId: string): boolean;
  readonly activeCount: number;
  /** Running bundles, for the worker status page. */
  activeBundles(): ActiveBundleInfo[];
  /** Pool state (undefined when bundles run inline). */
  poolState(): { threads: number; queueSize: number } | undefined;
  close(): Promise<void>;
}

export interface ActiveBundleInfo {
  instructionId: string;
  descriptorId: string;
  startedAt: number;
}

export interface InlineExecutorDeps {
  channels: ChannelPool;
  processors: ProcessorCache;
  stateCache: StateCache;
  flushPolicy: FlushPolicy;
  logger: Logger;
}

export class InlineExecutor implements BundleExecutor {
  private readonly active = new Map<
    string,
    { processor: BundleProcessor; progress: ProgressView; info: ActiveBundleInfo }
  >();

  constructor(private readonly deps: InlineExecutorDeps) {}

  get activeCount(): number {
    return this.active.size;
  }

  isActive(instructionId: string): boolean {
    return this.active.has(instructionId);
  }

  async process(
    instructionId: string,
    request: fnApi.ProcessBundleRequest,
    descriptor: fnApi.ProcessBundleDescriptor,
  ): Promise<BundleOutcome> {
    const { channels, processors } = this.deps;
    const endpoints = endpointsOf(descriptor);
    const queues = endpoints.inboundUrls.map((url) =>
      channels.dataChannel(url).claim(instructionId),
    );
    const inbound = mergeInbound(queues);
    let processor: BundleProcessor;
    try {
      processor = await processors.acquire(descriptor);
    } catch (err) {
      // The graph could not be built (unknown URN, a setup() that threw): free the input.
      for (const url of endpoints.inboundUrls) channels.dataChannel(url).release(instructionId);
      throw err;
    }
    const services = new InlineBundleServices(
      instructionId,
      this.deps.logger,
      descriptor,
      channels,
      this.deps.stateCache,
      request.cache_tokens,
      this.deps.flushPolicy,
    );
    const progress = new ProgressView(processor.progressLayout());
    executionSampler.track(progress);
    this.active.set(instructionId, {
      processor,
      progress,
      info: { instructionId, descriptorId: descriptor.id, startedAt: Date.now() },
    });
    for (const queue of queues) queue.startConsuming();
    try {
      await runBundle(
        instructionId,
        () => services.logger,
        () => processor.process(services, inbound),
      );
      await services.complete();
      const outcome = {
        monitoringInfos: [
          ...progressMonitoringInfos(progress),
          ...executionTimeInfos(progress, executionSampler.periodMs),
          ...operationsMonitoringInfos(processor.allOperations),
        ],
        finalizations: services.finalizations,
        residuals: services.residuals,
      };
      processors.release(processor);
      return outcome;
    } catch (err) {
      services.abandon();
      processors.discard(processor);
      throw err instanceof BundleError
        ? err
        : new BundleError(`bundle ${instructionId} failed`, instructionId, transformOf(err), {
            cause: err,
          });
    } finally {
      this.active.delete(instructionId);
      executionSampler.untrack(progress);
      for (const url of endpoints.inboundUrls) channels.dataChannel(url).release(instructionId);
    }
  }

  activeBundles(): ActiveBundleInfo[] {
    return [...this.active.values()].map((b) => b.info);
  }

  poolState(): undefined {
    return undefined;
  }

  progress(instructionId: string): metricsApi.MonitoringInfo[] | undefined {
    const bundle = this.active.get(instructionId);
    if (!bundle) return undefined;
    return [
      ...progressMonitoringInfos(bundle.progress),
      ...executionTimeInfos(bundle.progress, executionSampler.periodMs),
    ];
  }

  split(instructionId: string, transformId: string, request: SplitRequest): SplitPoint | undefined {
    const bundle = this.active.get(instructionId);
    return (
      bundle &&
      splitSource(
        bundle.progress,
        bundle.processor.descriptor,
        transformId,
        request,
        bundle.processor.inThreadSplitter(transformId),
      )
    );
  }

  async close(): Promise<void> {
    await this.deps.processors.close();
  }
}

function transformOf(err: unknown): string | undefined {
  const id = (err as { transformId?: unknown } | undefined)?.transformId;
  return typeof id === "string" ? id : undefined;
}
