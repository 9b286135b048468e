/**
 * The Fn API worker: connects to the runner's control endpoint, answers every
 * instruction through the handler registry, and runs bundles on the executor.
 *
 * Lifecycle: 'CREATED' → 'RUNNING' (control stream open) → 'STOPPING'
 * (control stream ended, `stop()` or a signal: in-flight bundles are failed,
 * channels closed) → 'STOPPED'. A failure of one bundle never changes it.
 */
import { fnApi } from "../proto/index.js";
import "../operations/index.js";
import "./control/handlers.js";
import { InlineExecutor, type BundleExecutor } from "./bundle/inline-executor.js";
import { ProcessorCache } from "./bundle/processor-cache.js";
import { PoolExecutor } from "./pool/pool-executor.js";
import { HybridExecutor } from "./bundle/hybrid-executor.js";
import { SmallBundlePolicy } from "./bundle/small-bundle-policy.js";
import { compileHarnessConfig, type HarnessConfig, type HarnessOptions } from "./config.js";
import { ControlClient } from "./control/control-client.js";
import { DescriptorCache } from "./control/descriptor-cache.js";
import { instructionHandler } from "./control/instruction-registry.js";
import { ChannelPool } from "./data/channel-pool.js";
import { describeError, IllegalStateError, INSTRUCTION_FAILED, verboseErrors } from "./errors.js";
import type { HarnessServices } from "./harness-services.js";
import { DataSampler } from "./monitoring/data-sampler.js";
import { startMetricsServer, type MetricsServer } from "./monitoring/metrics-server.js";
import { ShortIdTable } from "./monitoring/monitoring-infos.js";
import { StatusClient } from "./monitoring/status-client.js";
import { installConsoleCapture } from "./logging/console-capture.js";
import { installStrayErrorHandling, restoreProcessExit } from "./bundle/stray-errors.js";
import { WorkerMetrics } from "./monitoring/worker-metrics.js";
import { StateCache } from "./state/state-cache.js";

export type HarnessState = "CREATED" | "RUNNING" | "STOPPING" | "STOPPED";

export class FnHarness {
  private state: HarnessState = "CREATED";
  readonly config: HarnessConfig;
  private readonly control: ControlClient;
  private readonly channels: ChannelPool;
  readonly services: HarnessServices;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped: Promise<void> | undefined;
  /**
   * Rejecters of the instructions being answered: shutdown rejects those that
   * did not finish (hung user code). One entry per running instruction, removed
   * when it settles (racing every instruction against one long-lived promise
   * would leak a reaction per instruction).
   */
  private readonly abandoners = new Set<(err: Error) => void>();
  private metricsServer: MetricsServer | undefined;
  private status: StatusClient | undefined;

  constructor(options: HarnessOptions) {
    this.config = compileHarnessConfig(options);
    const { workerId, grpc, logger } = this.config;
    this.control = new ControlClient(this.config.controlUrl, workerId, grpc);
    this.channels = new ChannelPool({
      workerId,
      grpc,
      maxInboundBufferedBytes: this.config.maxInboundBufferedBytes,
      maxStateReadBytes: this.config.maxStateReadBytes,
      orphanTimeoutMs: this.config.orphanDataTimeoutMs,
      logger,
    });
    const stateCache = new StateCache(this.config.stateCacheBytes);
    const sampling = this.config.dataSampling;
    const dataSampler = sampling ? new DataSampler(sampling) : undefined;
    const inline = (): InlineExecutor =>
      new InlineExecutor({
        channels: this.channels,
        processors: new ProcessorCache(logger, {
          maxElementBytes: this.config.maxElementBytes,
          pipelineOptions: this.config.pipelineOptions,
          dataSampling:
            sampling && dataSampler ? { ...sampling, sink: dataSampler, describeError } : undefined,
        }),
        stateCache,
        flushPolicy: this.config.flushPolicy,
        logger,
      });
    const pool = (): PoolExecutor =>
      new PoolExecutor({
        threads: this.config.threads,
        channels: this.channels,
        stateCache,
        logger,
        logLevel: this.config.logLevel,
        maxElementBytes: this.config.maxElementBytes,
        flushPolicy: this.config.flushPolicy,
        maxThreadHeapMb: this.config.maxThreadHeapMb,
        pipelineOptions: this.config.pipelineOptions,
        dataSampling: sampling && dataSampler ? { ...sampling, sink: dataSampler } : undefined,
      });
    const executor: BundleExecutor =
      this.config.threads === 0
        ? inline()
        : this.config.inlineSmallBundles
          ? new HybridExecutor(
              inline(),
              pool(),
              new SmallBundlePolicy({
                poolQuickMs: this.config.smallBundleMs,
                inlineQuickMs: (this.config.smallBundleMs * 2) / 5,
              }),
            )
          : pool();
    this.services = {
      workerId,
      logger,
      descriptors: new DescriptorCache((id) => this.control.fetchDescriptor(id)),
      executor,
      stateCache,
      shortIds: new ShortIdTable(),
      metrics: new WorkerMetrics(
        {
          activeBundles: () => executor.activeCount,
          inboundBufferedBytes: () => this.channels.inboundBufferedBytes,
          stateCache: () => stateCache.snapshot(),
          pool: () => executor.poolState(),
        },
        { userCounters: this.config.prometheusUserCounters },
      ),
      pendingFinalizations: new Map(),
      releaseInbound: (instructionId) => this.channels.releaseInbound(instructionId),
      startingBundles: new Set(),
      dataSampler,
    };
  }

  /** The metrics endpoint's port, once `run()` started it. */
  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /** The worker status dump (BeamFnWorkerStatus, and `firefly` status tooling). */
  statusDump(): string {
    const now = Date.now();
    const memory = process.memoryUsage();
    const lines = [
      `Firefly worker ${this.config.workerId} (${this.state}), pid ${process.pid}, node ${process.version}`,
      `uptime ${Math.round(process.uptime())} s; rss ${mib(memory.rss)} MiB, heap ${mib(memory.heapUsed)}/${mib(memory.heapTotal)} MiB`,
    ];
    const pool = this.services.executor.poolState();
    lines.push(
      pool
        ? `thread pool: ${pool.threads} threads, ${pool.queueSize} queued`
        : "bundles run inline (threads = 0)",
    );
    const cache = this.services.stateCache.snapshot();
    lines.push(
      `state cache: ${cache.entries} entries, ${mib(cache.bytes)} MiB, ${cache.hits} hits, ${cache.misses} misses, ${cache.evictions} evictions`,
    );
    lines.push(
      `descriptors: ${this.services.descriptors.size}; inbound buffered: ${this.channels.inboundBufferedBytes} bytes`,
    );
    const resources = new Map<string, number>();
    for (const r of process.getActiveResourcesInfo()) resources.set(r, (resources.get(r) ?? 0) + 1);
    lines.push(
      `active handles: ${[...resources].map(([kind, n]) => `${kind}=${n}`).join(" ") || "none"}`,
    );
    const active = this.services.executor.activeBundles();
    lines.push(`active bundles: ${active.length}`);
    for (const b of active) {
      lines.push(`  ${b.instructionId} descriptor=${b.descriptorId} age=${now - b.startedAt} ms`);
    }
    return lines.join("\n");
  }

  get currentState(): HarnessState {
    return this.state;
  }

  /** Waits (bounded) for the runner's control endpoint: runners start services and workers concurrently. */
  async waitForRunner(timeoutMs: number): Promise<void> {
    await this.control.waitForReady(timeoutMs);
  }

  /** Serves instructions until the control stream ends or `stop()` is called. */
  async run(): Promise<void> {
    if (this.state !== "CREATED")
      throw new IllegalStateError(`harness is ${this.state}, not CREATED`);
    this.state = "RUNNING";
    this.config.logger.info({ controlUrl: this.config.controlUrl }, "connecting to the runner");
    if (this.config.captureConsole) installConsoleCapture(this.config.logger);
    if (this.config.handleStrayErrors) installStrayErrorHandling(this.config.logger);
    if (this.config.metricsPort !== undefined) {
      this.metricsServer = await startMetricsServer(
        this.services.metrics,
        this.config.metricsPort,
        this.config.metricsHost,
      );
      this.config.logger.info(
        { port: this.metricsServer.port, host: this.config.metricsHost },
        "metrics endpoint listening",
      );
    }
    if (this.config.statusUrl) {
      this.status = new StatusClient(
        this.config.statusUrl,
        this.config.workerId,
        this.config.grpc,
        () => this.statusDump(),
      );
    }
    this.control.open((request) => this.dispatch(request));
    const outcome = await this.control.ended;
    if (outcome.error) {
      this.config.logger.warn({ err: outcome.error }, "control stream failed");
    } else {
      this.config.logger.info("control stream ended by the runner");
    }
    await this.stop();
  }

  /** Stops serving: fails in-flight bundles, closes every stream. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.state = "STOPPING";
    this.status?.close();
    // Fail in-flight bundles first (their inputs and state go away; pool threads
    // are stopped), give their error responses a bounded time to reach the
    // runner while the control stream is still open, then close it.
    this.channels.close();
    const executorClosed = this.services.executor.close();
    const settle = Promise.allSettled([...this.inFlight]);
    const timeout = new Promise((resolve) => setTimeout(resolve, 3000).unref());
    await Promise.race([settle, timeout]);
    // Instructions still running (user code that never returns) are answered
    // with an error rather than left without a response.
    const stopping = new Error("the worker is stopping and the instruction did not finish in time");
    for (const abandon of this.abandoners) abandon(stopping);
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise((resolve) => setTimeout(resolve, 500).unref()),
    ]);
    await this.control.close();
    await Promise.race([
      executorClosed,
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
    await this.metricsServer?.close();
    if (this.config.handleStrayErrors) restoreProcessExit();
    this.state = "STOPPED";
    this.config.logger.info("worker stopped");
  }

  private dispatch(request: fnApi.InstructionRequest): void {
    const work = this.answer(request).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  /** `work`, or a rejection if shutdown abandons it first. */
  private unlessAbandoned<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.abandoners.add(reject);
      work.then(resolve, reject).finally(() => this.abandoners.delete(reject));
    });
  }

  private async answer(request: fnApi.InstructionRequest): Promise<void> {
    const instructionId = request.instruction_id;
    const kind = request.request;
    const handler = instructionHandler(kind);
    let response: fnApi.InstructionResponse;
    try {
      if (!handler) throw new Error(`unsupported instruction kind ${JSON.stringify(kind)}`);
      const body = await this.unlessAbandoned(handler(request, this.services));
      response = new fnApi.InstructionResponse({ instruction_id: instructionId, ...body });
    } catch (err) {
      // Rendered once: the same text in the log and in the response the runner shows.
      const error = describeError(err, { verbose: verboseErrors(this.config.pipelineOptions) });
      this.config.logger.warn({ instructionId, kind, error }, INSTRUCTION_FAILED);
      response = new fnApi.InstructionResponse({ instruction_id: instructionId, error });
    }
    try {
      await this.control.respond(response);
    } catch (err) {
      this.config.logger.warn({ instructionId, err }, "cannot send instruction response");
    }
  }
}

function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}
