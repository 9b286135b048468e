/**
 * Runs bundles on a piscina worker-thread pool (threads ≥ 1). The conductor
 * keeps every gRPC stream: it pumps a bundle's inbound data to its thread
 * within the thread's pull credit (so memory stays bounded), serves its state
 * requests through the shared state cache, sends its output chunks and
 * acknowledges them after the data stream took them (backpressure), and
 * answers progress and splits from shared memory without involving the
 * thread. A thread that dies fails only its bundle; piscina replaces it.
 */
import type { SampleSink } from "../../operations/sampling/element-sampler.js";
import { BroadcastChannel, MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import type { Logger } from "pino";
import { fnApi, metricsApi } from "../../proto/index.js";
import type { SplitPoint, SplitRequest } from "../../operations/split-gate.js";
import type { ActiveBundleInfo, BundleExecutor, BundleOutcome } from "../bundle/inline-executor.js";
import { endpointsOf } from "../bundle/descriptor-endpoints.js";
import { ProgressView } from "../bundle/progress-view.js";
import { splitSource } from "../bundle/element-splitter.js";
import type { ChannelPool } from "../data/channel-pool.js";
import type { FlushPolicy } from "../data/element-sink.js";
import type { InboundSource } from "../bundle/bundle-processor.js";
import type { InstructionInbound } from "../data/inbound.js";
import { mergeInbound } from "../data/merge-inbound.js";
import { outboundElements } from "../data/outbound-elements.js";
import {
  BundleError,
  ProtocolError,
  TransportError,
  describeError,
  isRendered,
} from "../errors.js";
import { executionTimeInfos, progressMonitoringInfos } from "../monitoring/bundle-metrics.js";
import { fromPlain } from "../monitoring/monitoring-infos.js";
import { executionSampler } from "../monitoring/execution-sampler.js";
import { BundleState } from "../state/bundle-state.js";
import type { StateCache } from "../state/state-cache.js";
import { FINALIZE_CHANNEL, type FinalizeMessage } from "./finalize-channel.js";
import {
  INBOUND_WINDOW_BYTES,
  transferable,
  type BundleTask,
  type BundleTaskResult,
  type FromThread,
  type ToThread,
} from "./protocol.js";

export interface PoolExecutorOptions {
  threads: number;
  channels: ChannelPool;
  stateCache: StateCache;
  logger: Logger;
  logLevel: string;
  maxElementBytes: number;
  flushPolicy: FlushPolicy;
  /** The pipeline's options, handed to every thread. */
  pipelineOptions: Record<string, unknown>;
  /** Heap limit of each thread in MB (a runaway bundle kills only its thread). @default 4096 */
  maxThreadHeapMb?: number;
  /** Data sampling: threads sample and post their samples to `sink`. Off when absent. */
  dataSampling?: { firstN: number; everyMs: number; sink: SampleSink };
}

interface ActiveBundle {
  progress: ProgressView | undefined;
  info: ActiveBundleInfo;
  descriptor: fnApi.ProcessBundleDescriptor;
}

const WORKER_FILE = new URL("./bundle-worker.js", import.meta.url).href;

/** The last descriptor version handed to threads (process-wide, so versions never repeat). */
let lastVersion = 0;

export class PoolExecutor implements BundleExecutor {
  private readonly pool: Piscina;
  private readonly active = new Map<string, ActiveBundle>();
  private readonly descriptorBytes = new WeakMap<
    fnApi.ProcessBundleDescriptor,
    { descriptor: Uint8Array; descriptorVersion: number }
  >();
  private readonly finalizeChannel = new BroadcastChannel(FINALIZE_CHANNEL);
  /** Aborts every running task at close (one signal for all: no AbortController per task). */
  private readonly stopping = new AbortController();
  private readonly finalizeWaiters = new Map<
    string,
    { resolve(): void; reject(e: unknown): void }
  >();

  constructor(private readonly options: PoolExecutorOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new TypeError(
        `options.threads must be a positive integer for the pool executor, got ${options.threads}`,
      );
    }
    this.pool = new Piscina({
      filename: WORKER_FILE,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      // An idle thread must keep its event loop running: it holds finalization
      // callbacks that a FinalizeBundle (on the BroadcastChannel) runs after its
      // bundle ended. Piscina's default ("sync") parks idle threads in
      // Atomics.wait, where no message reaches them until their next task.
      atomics: "async",
      resourceLimits: { maxOldGenerationSizeMb: options.maxThreadHeapMb ?? 4096 },
      workerData: { pipelineOptions: options.pipelineOptions },
    });
    this.finalizeChannel.unref();
    this.finalizeChannel.onmessage = (event: unknown) => {
      const message = (event as { data: FinalizeMessage }).data;
      if (message.type !== "finalized") return;
      const waiter = this.finalizeWaiters.get(message.instructionId);
      this.finalizeWaiters.delete(message.instructionId);
      if (message.error) waiter?.reject(new Error(message.error));
      else waiter?.resolve();
    };
  }

  get activeCount(): number {
    return this.active.size;
  }

  get threadCount(): number {
    return this.pool.threads.length;
  }

  get queueSize(): number {
    return this.pool.queueSize;
  }

  activeBundles(): ActiveBundleInfo[] {
    return [...this.active.values()].map((b) => b.info);
  }

  poolState(): { threads: number; queueSize: number } {
    return { threads: this.pool.threads.length, queueSize: this.pool.queueSize };
  }

  isActive(instructionId: string): boolean {
    return this.active.has(instructionId);
  }

  async process(
    instructionId: string,
    request: fnApi.ProcessBundleRequest,
    descriptor: fnApi.ProcessBundleDescriptor,
  ): Promise<BundleOutcome> {
    const { channels, stateCache, logger } = this.options;
    const endpoints = endpointsOf(descriptor);
    const queues = endpoints.inboundUrls.map((url) =>
      channels.dataChannel(url).claim(instructionId),
    );
    const inbound = mergeInbound(queues);
    const state = endpoints.stateUrl
      ? new BundleState(
          instructionId,
          () => channels.stateChannel(endpoints.stateUrl as string),
          stateCache,
          request.cache_tokens,
        )
      : undefined;
    const { port1, port2 } = new MessageChannel();
    const entry: ActiveBundle = {
      progress: undefined,
      info: { instructionId, descriptorId: descriptor.id, startedAt: Date.now() },
      descriptor,
    };
    this.active.set(instructionId, entry);
    const bridge = new ThreadBridge(
      instructionId,
      port1,
      inbound,
      queues,
      state,
      descriptor,
      channels,
      logger,
      entry,
      this.options.dataSampling?.sink,
    );
    const task: BundleTask = {
      kind: "bundle",
      instructionId,
      descriptorId: descriptor.id,
      ...this.serialized(descriptor),
      port: port2,
      logLevel: this.options.logLevel,
      maxElementBytes: this.options.maxElementBytes,
      flushPolicy: this.options.flushPolicy,
      dataSampling: this.options.dataSampling
        ? { firstN: this.options.dataSampling.firstN, everyMs: this.options.dataSampling.everyMs }
        : undefined,
    };
    try {
      const result = (await this.pool.run(task, {
        transferList: [port2 as never],
        signal: this.stopping.signal,
      })) as BundleTaskResult;
      await bridge.settled(result.outputs);
      await state?.flush();
      return {
        monitoringInfos: [
          ...result.monitoringInfos.map(fromPlain),
          ...(entry.progress ? executionTimeInfos(entry.progress, executionSampler.periodMs) : []),
        ],
        finalizations: result.requiresFinalization ? [() => this.finalize(instructionId)] : [],
        residuals: result.residuals.map((bytes) =>
          fnApi.DelayedBundleApplication.deserializeBinary(bytes),
        ),
      };
    } catch (err) {
      // A thread's own failure comes rendered (bundle-worker.ts); a dead thread's does not.
      const cause = { cause: err };
      throw isRendered(err)
        ? new BundleError(err.message, instructionId, err.cause.transformId, cause)
        : new BundleError(
            `bundle ${instructionId} failed in a pool thread`,
            instructionId,
            undefined,
            cause,
          );
    } finally {
      bridge.close();
      this.active.delete(instructionId);
      for (const url of endpoints.inboundUrls) channels.dataChannel(url).release(instructionId);
    }
  }

  progress(instructionId: string): metricsApi.MonitoringInfo[] | undefined {
    const entry = this.active.get(instructionId);
    if (!entry) return undefined;
    return entry.progress
      ? [
          ...progressMonitoringInfos(entry.progress),
          ...executionTimeInfos(entry.progress, executionSampler.periodMs),
        ]
      : [];
  }

  split(instructionId: string, transformId: string, request: SplitRequest): SplitPoint | undefined {
    const bundle = this.active.get(instructionId);
    return (
      bundle?.progress && splitSource(bundle.progress, bundle.descriptor, transformId, request)
    );
  }

  async close(): Promise<void> {
    this.stopping.abort(new Error("the worker is stopping"));
    this.finalizeChannel.close();
    await this.pool.destroy();
  }

  private finalize(instructionId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.finalizeWaiters.set(instructionId, { resolve, reject });
      this.finalizeChannel.postMessage({
        type: "finalize",
        instructionId,
      } satisfies FinalizeMessage);
      setTimeout(() => {
        if (this.finalizeWaiters.delete(instructionId)) {
          reject(
            new ProtocolError(
              `no pool thread holds finalization callbacks for ${instructionId} (its thread may have died)`,
            ),
          );
        }
      }, 30_000).unref();
    });
  }

  private serialized(descriptor: fnApi.ProcessBundleDescriptor): {
    descriptor: Uint8Array;
    descriptorVersion: number;
  } {
    let serialized = this.descriptorBytes.get(descriptor);
    if (!serialized) {
      serialized = { descriptor: descriptor.serializeBinary(), descriptorVersion: ++lastVersion };
      this.descriptorBytes.set(descriptor, serialized);
    }
    return serialized;
  }
}

/** How long the conductor waits for outputs a finished bundle posted (they are in the port already). */
const OUTPUT_ARRIVAL_TIMEOUT_MS = 30_000;

/** The conductor's end of one bundle's port. */
class ThreadBridge {
  /** The thread may hold this much inbound before it asks for more (no initial pull). */
  private credit = INBOUND_WINDOW_BYTES;
  private pumping = false;
  private inboundDone = false;
  private readonly pending = new Set<Promise<unknown>>();
  private outputsReceived = 0;
  private outputsWaiter: { expected: number; arrived(): void } | undefined;
  /** Why an output could not be sent (fails the bundle). */
  private outputFailure: string | undefined;

  constructor(
    private readonly instructionId: string,
    private readonly port: import("node:worker_threads").MessagePort,
    private readonly inbound: InboundSource,
    /** The channel queues behind `inbound`: they count against flow control once the thread runs the bundle. */
    private readonly queues: readonly InstructionInbound[],
    private readonly state: BundleState | undefined,
    private readonly descriptor: fnApi.ProcessBundleDescriptor,
    private readonly channels: ChannelPool,
    private readonly logger: Logger,
    private readonly entry: ActiveBundle,
    private readonly sampleSink: SampleSink | undefined,
  ) {
    port.on("message", (message: FromThread) => this.onMessage(message));
    void this.pump();
  }

  /**
   * Waits until the bundle's `outputs` output messages arrived and were sent,
   * and every state request was answered; throws if an output was not sent.
   */
  async settled(outputs: number): Promise<void> {
    if (this.outputsReceived < outputs) await this.outputsArrived(outputs);
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    if (this.outputFailure !== undefined)
      throw new TransportError(`an output of the bundle was not sent: ${this.outputFailure}`);
  }

  private outputsArrived(expected: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.outputsWaiter = undefined;
        reject(
          new ProtocolError(
            `bundle ${this.instructionId} posted ${expected} outputs, ${this.outputsReceived} arrived`,
          ),
        );
      }, OUTPUT_ARRIVAL_TIMEOUT_MS);
      this.outputsWaiter = {
        expected,
        arrived: () => {
          clearTimeout(timer);
          this.outputsWaiter = undefined;
          resolve();
        },
      };
    });
  }

  close(): void {
    if (this.entry.progress) executionSampler.untrack(this.entry.progress);
    this.inboundDone = true;
    this.port.close();
  }

  private onMessage(message: FromThread): void {
    switch (message.type) {
      case "ready":
        for (const queue of this.queues) queue.startConsuming();
        this.entry.progress = new ProgressView(message.layout);
        executionSampler.track(this.entry.progress);
        break;
      case "pull":
        this.credit += message.bytes;
        void this.pump();
        break;
      case "output":
        this.track(this.output(message));
        this.outputsReceived++;
        if (this.outputsWaiter && this.outputsReceived >= this.outputsWaiter.expected)
          this.outputsWaiter.arrived();
        break;
      case "state":
        this.track(this.stateRequest(message));
        break;
      case "log":
        this.log(message.line);
        break;
      case "samples":
        for (const sample of message.samples) this.sampleSink?.add(sample);
        this.port.postMessage({ type: "samplesAck" } satisfies ToThread);
        break;
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.credit > 0 && !this.inboundDone) {
        const item = await this.inbound.next();
        if (!item) {
          this.inboundDone = true;
          break;
        }
        const bytes =
          item.kind === "data" && item.ownsBuffer ? item.bytes : transferable(item.bytes);
        this.credit -= bytes.length;
        const message: ToThread =
          item.kind === "data"
            ? { type: "data", transformId: item.transformId, bytes, isLast: item.isLast }
            : {
                type: "timers",
                transformId: item.transformId,
                timerFamilyId: item.timerFamilyId,
                bytes,
                isLast: item.isLast,
              };
        this.send(message, [bytes.buffer as ArrayBuffer]);
      }
    } catch (err) {
      this.inboundDone = true;
      this.send({ type: "inboundFailed", message: describeError(err) });
    } finally {
      this.pumping = false;
    }
  }

  private async output(message: Extract<FromThread, { type: "output" }>): Promise<void> {
    try {
      const endpoints = endpointsOf(this.descriptor);
      const url =
        message.timerFamilyId === undefined
          ? endpoints.dataUrl.get(message.transformId)
          : endpoints.timerUrl;
      if (!url)
        throw new ProtocolError(
          `no data endpoint for output of ${JSON.stringify(message.transformId)}`,
        );
      const elements = outboundElements(
        {
          instructionId: this.instructionId,
          transformId: message.transformId,
          timerFamilyId: message.timerFamilyId,
        },
        message.bytes,
        message.isLast,
      );
      await this.channels.dataChannel(url).send(elements);
      if (!message.isLast) this.send({ type: "outputAck", id: message.id });
    } catch (err) {
      this.outputFailure ??= describeError(err);
      if (!message.isLast)
        this.send({ type: "outputAck", id: message.id, error: describeError(err) });
    }
  }

  private async stateRequest(message: Extract<FromThread, { type: "state" }>): Promise<void> {
    try {
      if (!this.state)
        throw new ProtocolError(
          `descriptor ${this.descriptor.id} has no state endpoint, but a transform uses state`,
        );
      if (message.op === "scope") {
        const scope = this.state.threadScope(message.since ?? -1, message.own);
        this.send({ type: "stateResponse", id: message.id, scope });
        return;
      }
      const key = fnApi.StateKey.deserializeBinary(message.key);
      if (message.op === "getPage") {
        const page = await this.state.getPage(key, message.data);
        const data = page.data.slice();
        const continuationToken = page.continuationToken.slice();
        this.send({ type: "stateResponse", id: message.id, pages: [data], continuationToken }, [
          data.buffer as ArrayBuffer,
        ]);
      } else if (message.op === "get") {
        const pages = (await this.state.get(key)).map((p) => p.slice());
        this.send(
          { type: "stateResponse", id: message.id, pages },
          pages.map((p) => p.buffer as ArrayBuffer),
        );
      } else {
        if (message.op === "append") await this.state.append(key, message.data ?? new Uint8Array());
        else await this.state.clear(key);
        this.send({ type: "stateResponse", id: message.id });
      }
    } catch (err) {
      this.send({ type: "stateResponse", id: message.id, error: describeError(err) });
    }
  }

  private log(line: string): void {
    try {
      const record = JSON.parse(line) as { level: number; msg?: string; [k: string]: unknown };
      const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...rest } = record;
      const method =
        level >= 50
          ? "error"
          : level >= 40
            ? "warn"
            : level >= 30
              ? "info"
              : level >= 20
                ? "debug"
                : "trace";
      this.logger[method](rest, msg ?? "");
    } catch {
      this.logger.info({ instructionId: this.instructionId }, line);
    }
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private send(message: ToThread, transfer: ArrayBuffer[] = []): void {
    try {
      this.port.postMessage(message, transfer);
    } catch {
      // the port closed: the bundle already ended
    }
  }
}
