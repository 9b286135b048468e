/**
 * The piscina worker: runs bundles inside a pool thread with the same
 * BundleProcessor code as inline mode. Processors are cached per thread and
 * descriptor; one whose bundle failed is discarded. Finalization callbacks
 * stay in the thread that registered them and run when the conductor
 * broadcasts `finalize` for their instruction.
 */
import { BroadcastChannel, workerData, type MessagePort } from "node:worker_threads";
import { pino, type Logger } from "pino";
import "../../operations/index.js";
import type { FinalizationCallback } from "../../operations/bundle-services.js";
import type { SampledElement, SampleSink } from "../../operations/sampling/element-sampler.js";
import { fnApi } from "../../proto/index.js";
import { BundleProcessor } from "../bundle/bundle-processor.js";
import { ProgressView } from "../bundle/progress-view.js";
import { describeError, renderedError, verboseErrors } from "../errors.js";
import {
  operationsMonitoringInfos,
  progressMonitoringInfos,
} from "../monitoring/bundle-metrics.js";
import { installConsoleCapture } from "../logging/console-capture.js";
import { runBundle as runAsCurrentBundle } from "../bundle/running-bundle.js";
import { installStrayErrorHandling } from "../bundle/stray-errors.js";
import { toPlain } from "../monitoring/monitoring-infos.js";
import { PortBundleServices } from "./port-bundle-services.js";
import { FINALIZE_CHANNEL, type FinalizeMessage } from "./finalize-channel.js";
import type { BundleTask, BundleTaskResult, FromThread, ToThread } from "./protocol.js";

const descriptors = new Map<
  string,
  { version: number; descriptor: fnApi.ProcessBundleDescriptor }
>();
const idle = new Map<string, BundleProcessor[]>();
const finalizations = new Map<string, FinalizationCallback[]>();

const finalizeChannel = new BroadcastChannel(FINALIZE_CHANNEL);
finalizeChannel.unref();
finalizeChannel.onmessage = (event: unknown) => {
  const message = (event as { data: FinalizeMessage }).data;
  if (message.type !== "finalize") return;
  const callbacks = finalizations.get(message.instructionId);
  if (!callbacks) return;
  finalizations.delete(message.instructionId);
  void (async () => {
    try {
      for (const callback of callbacks) await callback();
      finalizeChannel.postMessage({
        type: "finalized",
        instructionId: message.instructionId,
      } satisfies FinalizeMessage);
    } catch (err) {
      finalizeChannel.postMessage({
        type: "finalized",
        instructionId: message.instructionId,
        error: describeError(err),
      } satisfies FinalizeMessage);
    }
  })();
};

/** Samples taken in this thread since its last bundle ended (bounded). */
const MAX_THREAD_SAMPLES = 1000;
let pendingSamples: SampledElement[] = [];
const threadSamples: SampleSink = {
  add(sample) {
    if (pendingSamples.length < MAX_THREAD_SAMPLES) pendingSamples.push(sample);
  },
};

/** Posts this thread's samples and waits (briefly) until the conductor has them. */
async function flushSamples(port: MessagePort): Promise<void> {
  if (pendingSamples.length === 0) return;
  const samples = pendingSamples;
  pendingSamples = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, 2000);
    function done(): void {
      clearTimeout(timer);
      port.off("message", onMessage);
      resolve();
    }
    function onMessage(message: ToThread): void {
      if (message.type === "samplesAck") done();
    }
    port.on("message", onMessage);
    port.postMessage({ type: "samples", samples } satisfies FromThread);
  });
}

function pipelineOptions(): Record<string, unknown> {
  const data = workerData as { pipelineOptions?: Record<string, unknown> } | undefined;
  return data?.pipelineOptions ?? {};
}

function descriptorOf(task: BundleTask): fnApi.ProcessBundleDescriptor {
  const known = descriptors.get(task.descriptorId);
  if (known && known.version === task.descriptorVersion) return known.descriptor;
  const descriptor = fnApi.ProcessBundleDescriptor.deserializeBinary(task.descriptor);
  descriptors.set(task.descriptorId, { version: task.descriptorVersion, descriptor });
  idle.delete(task.descriptorId);
  return descriptor;
}

/** The port of the bundle this thread runs (one at a time: concurrentTasksPerWorker is 1). */
let currentPort: MessagePort | undefined;
/** One pino instance per thread and level; bundles get children with their instruction id. */
const threadLoggers = new Map<string, Logger>();

/**
 * The bundle's logger: records go to the conductor over the port of the
 * bundle running now (records carry their instruction id, so a late record of
 * an earlier bundle is still attributed to it; with no bundle running it is
 * dropped, as a closed port would).
 */
function portLogger(port: MessagePort, level: string, instructionId: string): Logger {
  currentPort = port;
  let logger = threadLoggers.get(level);
  if (!logger) {
    logger = pino(
      { level, base: { pid: process.pid, thread: "pool" } },
      { write: (line: string) => currentPort?.postMessage({ type: "log", line }) },
    );
    threadLoggers.set(level, logger);
  }
  return logger.child({ instructionId });
}

export default async function runBundle(task: BundleTask): Promise<BundleTaskResult> {
  const logger = portLogger(task.port, task.logLevel, task.instructionId);
  const threadLogger = () =>
    pino(
      { level: task.logLevel, base: { pid: process.pid, thread: "pool" } },
      pino.destination({ dest: 2, sync: true }),
    );
  installConsoleCapture(threadLogger);
  installStrayErrorHandling(threadLogger);
  const services = new PortBundleServices(task.instructionId, task.port, logger, task.flushPolicy);
  let processor: BundleProcessor | undefined;
  try {
    const descriptor = descriptorOf(task);
    processor =
      idle.get(task.descriptorId)?.pop() ??
      (await BundleProcessor.create(descriptor, {
        maxElementBytes: task.maxElementBytes,
        pipelineOptions: pipelineOptions(),
        dataSampling: task.dataSampling
          ? { ...task.dataSampling, sink: threadSamples, describeError }
          : undefined,
      }));
    const layout = processor.progressLayout();
    task.port.postMessage({ type: "ready", layout });
    const running = processor;
    await runAsCurrentBundle(task.instructionId, logger, () => running.process(services, services));
    await services.complete();
    const infos = [
      ...progressMonitoringInfos(new ProgressView(layout)),
      ...operationsMonitoringInfos(processor.allOperations),
    ];
    let list = idle.get(task.descriptorId);
    if (!list) idle.set(task.descriptorId, (list = []));
    list.push(processor);
    if (services.finalizations.length > 0)
      finalizations.set(task.instructionId, services.finalizations);
    return {
      monitoringInfos: infos.map(toPlain),
      requiresFinalization: services.finalizations.length > 0,
      outputs: services.outputsPosted,
      residuals: services.residuals.map((r) => r.serializeBinary()),
    };
  } catch (err) {
    services.abandon();
    if (processor) void processor.teardown().catch(() => undefined);
    // Rendered once, here: the conductor passes the text on without wrapping it again.
    const verbose = verboseErrors(pipelineOptions());
    throw renderedError(describeError(err, { verbose }), transformIdOf(err));
  } finally {
    await flushSamples(task.port);
    services.close();
    if (currentPort === task.port) currentPort = undefined;
  }
}

function transformIdOf(err: unknown): string | undefined {
  const id = (err as { transformId?: unknown } | undefined)?.transformId;
  return typeof id === "string" ? id : undefined;
}
