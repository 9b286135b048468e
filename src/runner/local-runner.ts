/**
 * The local runner: executes a Beam Pipeline proto as a portable runner
 * would. The pipeline is expanded (composites → leaves, combiners lifted),
 * fused into stages, and run node by node in dependency order: stages as
 * bundles on Firefly workers through the Fn API (this process hosts the
 * runner's Control/Data/State/Logging services on 127.0.0.1), runner
 * primitives (Impulse, GroupByKey, Flatten, Reshuffle) in this process.
 */
import { randomUUID } from "node:crypto";
import { coderFromProto, type Coder } from "../../coders/index.js";
import { registeredOperationUrns } from "../../operations/index.js";
import type { pipelineApi } from "../../proto/index.js";
import { endpointsApi, fnApi } from "../../proto/index.js";
import { jsonToStruct } from "../boot/struct-json.js";
import { checkFireflyEnvironmentOnly } from "./foreign-environments.js";
import { LoggingService } from "./fn-api/logging-service.js";
import { FnApiServer } from "./fn-api/server.js";
import { stageDescriptor } from "./graph/descriptors.js";
import { fuse, type PlanNode } from "./graph/fusion.js";
import { PipelineModel } from "./graph/pipeline-model.js";
import { runnerPrimitive, type PreparedPrimitive } from "./graph/runner-primitives.js";
import { useStateBackedIterables } from "./graph/state-backed-iterables.js";
import { URNS } from "./graph/urns.js";
import { PCollectionChannel, SegmentStore } from "./exec/channel.js";
import { MetricsAggregator, type UserMetric } from "./exec/metrics.js";
import "./exec/primitives.js";
import { BundleFailure, StageRunner } from "./exec/stage-runner.js";
import { WorkerPool } from "./exec/worker-pool.js";
import { IterableStateStore } from "./state/iterable-state-store.js";
import { SideInputStore } from "./state/side-input-store.js";
import { UserStateStore } from "./state/user-state-store.js";
import {
  startChildWorker,
  startInProcessWorker,
  startLaunchedWorker,
  type WorkerHandle,
  type WorkerLauncher,
  type WorkerSettings,
} from "./workers.js";

export interface LocalRunnerOptions {
  /** Bundle threads per worker (0 = inline). @default one per core */
  threads?: number;
  /** Run this many `firefly boot` child processes as workers instead of in-process workers. @default 0 */
  workers?: number;
  /** In-process workers (when `workers` is 0). @default 1 */
  inProcessWorkers?: number;
  /** Lift combine_per_key into precombine/merge/extract. @default true when the worker has those operations */
  liftCombiners?: boolean;
  /** Memory a GroupByKey holds before spilling sorted runs to disk. @default 268435456 */
  memoryBudgetBytes?: number;
  /** Directory for spilled runs. @default os.tmpdir() */
  spillDir?: string;
  /** Largest bundle input in bytes (larger inputs are cut into more bundles). @default 8388608 */
  maxBundleBytes?: number;
  /**
   * Send GroupByKey groups whose encoding exceeds this many bytes as
   * state-backed iterables (a prefix inline, the rest read by the worker
   * through the State API), as runners do for large groups; 0 = never.
   * @default 0
   */
  stateBackedIterableThreshold?: number;
  /** Workers' log level. @default "warn" */
  logLevel?: string;
  /**
   * Print workers' log entries of WARN and above as they come, and the
   * runner's own stack when it fails (workers read `verbose` from the pipeline
   * options for their frames). @default false
   */
  verbose?: boolean;
  /** Pipeline options handed to workers (DoFns see them as ctx.options). */
  pipelineOptions?: Record<string, unknown>;
  /** Called when a node starts and as bundles finish. */
  onProgress?: (progress: Progress) => void;
  /**
   * Split the slowest bundle of a stage that starts with a splittable DoFn
   * whenever a worker slot is idle (the rest runs as a new bundle there).
   * @default true
   */
  dynamicSplits?: boolean;
  /** Timer rounds per stage before it fails. @default 10000 */
  maxTimerRounds?: number;
  /** Cancels the run: the running node is abandoned, workers stop, the result is CANCELLED. */
  signal?: AbortSignal;
  /** Starts each worker (`workers` of them, at least 1) instead of in-process or `firefly boot` children. */
  launchWorker?: WorkerLauncher;
  /** What GetProvisionInfo tells workers about staged artifacts (endpoint and dependencies). */
  artifacts?: { endpoint: string; dependencies: pipelineApi.ArtifactInformation[] };
}

export interface Progress {
  /** 1-based index of the running node among all nodes. */
  node: number;
  nodes: number;
  name: string;
  /** Elements counted so far over all PCollections. */
  elements: number;
  elapsedMs: number;
}

export interface StageSummary {
  id: string;
  name: string;
  /** "stage" (fused SDK transforms on workers) or the runner primitive's URN. */
  kind: string;
  transforms: string[];
  inputElements: number;
  outputElements: number;
  bundles: number;
  timersFired: number;
  /** Residual roots (splittable DoFn checkpoints) the stage resumed. */
  residualsResumed?: number;
  /** Running bundles the runner split to give work to an idle slot. */
  dynamicSplits?: number;
  note?: string;
}

export interface PipelineError {
  message: string;
  /** The transform's unique name (when the failure is in a transform). */
  transform?: string;
  stage?: string;
  /** The worker's error text, with the user's stack. */
  details?: string;
}

export type PipelineResult = {
  state: "DONE" | "FAILED" | "CANCELLED";
  durationMs: number;
  stages: StageSummary[];
  /** Element counts per PCollection id. */
  elementCounts: Record<string, number>;
  metrics: UserMetric[];
  error?: PipelineError;
  /** Workers' log lines of WARN and above. */
  logs: string[];
};

const DEFAULTS = {
  memoryBudgetBytes: 256 * 1024 * 1024,
  maxBundleBytes: 8 * 1024 * 1024,
  logLevel: "warn",
  maxTimerRounds: 10_000,
};

/** Lifting needs the combine phases in the workers (another registry entry each). */
export function combinerLiftingAvailable(): boolean {
  const urns = new Set(registeredOperationUrns());
  return [URNS.precombine, URNS.mergeAccumulators, URNS.extractOutputs].every((u) => urns.has(u));
}

export async function runPipeline(
  pipeline: pipelineApi.Pipeline,
  options: LocalRunnerOptions = {},
): Promise<PipelineResult> {
  const started = performance.now();
  const logging = new LoggingService({
    printFrom: options.verbose ? fnApi.LogEntry.Severity.Enum.WARN : undefined,
  });
  const server = new FnApiServer(logging);
  const workers: WorkerHandle[] = [];
  const metrics = new MetricsAggregator();
  const summaries: StageSummary[] = [];
  const channels = new Map<string, PCollectionChannel>();
  let model: PipelineModel | undefined;
  let current: PlanNode | undefined;
  try {
    checkFireflyEnvironmentOnly(pipeline);
    model = new PipelineModel(pipeline, {
      liftCombiners: options.liftCombiners ?? combinerLiftingAvailable(),
    });
    const m = model;
    if (options.stateBackedIterableThreshold)
      useStateBackedIterables(m, options.stateBackedIterableThreshold);
    const plan = fuse(m);
    const stores = new Map<string, SegmentStore>();
    const channel = (pc: string): PCollectionChannel => {
      let c = channels.get(pc);
      if (!c) {
        const coder = coderFromProto(m.windowedCoderId(pc), m.components) as Coder<unknown>;
        channels.set(pc, (c = new PCollectionChannel(pc, coder)));
      }
      return c;
    };
    const store = (pc: string): SegmentStore => {
      let s = stores.get(pc);
      if (!s) {
        const c = channel(pc);
        stores.set(pc, (s = new SegmentStore(c.coder)));
        c.attach(s);
      }
      return s;
    };
    await server.start();
    const sideInputs = new SideInputStore();
    sideInputs.registerWith(server.state);
    new UserStateStore().registerWith(server.state);
    const iterableState = new IterableStateStore();
    iterableState.registerWith(server.state);

    // Prepare every node before anything runs: consumers attach to channels first.
    const prepared = new Map<string, PreparedPrimitive | StageRunner>();
    let instructions = 0;
    const stageContext = {
      model: m,
      pool: undefined as unknown as WorkerPool,
      metrics,
      channel,
      store,
      maxBundleBytes: options.maxBundleBytes ?? DEFAULTS.maxBundleBytes,
      maxTimerRounds: options.maxTimerRounds ?? DEFAULTS.maxTimerRounds,
      streamTimeoutMs: 60_000,
      dynamicSplits: options.dynamicSplits ?? true,
      nextInstructionId: () => `b${++instructions}`,
    };
    for (const node of plan.nodes) {
      if (node.kind === "stage") {
        store(node.input);
        const sd = stageDescriptor(m, node, server.url);
        for (const pc of node.outputs) channel(pc);
        for (const s of sd.sideInputs) {
          const c = channel(s.pcollection);
          sideInputs.add(s.transformId, s.sideInputId, store(s.pcollection), c.coder as never);
        }
        server.descriptors.set(sd.descriptor.id, sd.descriptor);
        prepared.set(node.id, new StageRunner(node, sd, stageContext));
      } else {
        prepared.set(
          node.id,
          runnerPrimitive(m.urnOf(node.transformId))({
            model: m,
            transformId: node.transformId,
            channel,
            store,
            groupByKey: {
              memoryBudgetBytes: options.memoryBudgetBytes ?? DEFAULTS.memoryBudgetBytes,
              spillDir: options.spillDir,
              segmentBytes: 256 * 1024,
              iterableState,
            },
          }),
        );
      }
    }

    const settings: WorkerSettings = {
      threads: options.threads,
      logLevel: options.logLevel ?? DEFAULTS.logLevel,
      pipelineOptions: options.pipelineOptions ?? {},
      connectTimeoutMs: 30_000,
    };
    server.provisionInfo.pipeline_options = jsonToStruct(settings.pipelineOptions);
    if (options.artifacts) {
      server.provisionInfo.artifact_endpoint = new endpointsApi.ApiServiceDescriptor({
        url: options.artifacts.endpoint,
      });
      server.provisionInfo.dependencies = options.artifacts.dependencies;
    }
    const children = options.workers ?? 0;
    const launch = options.launchWorker;
    const runId = randomUUID().slice(0, 8);
    const starts = launch
      ? Array.from({ length: Math.max(1, children) }, (_, i) =>
          // Unique ids: a shared worker pool may serve several runs at once.
          startLaunchedWorker(server, `worker-${runId}-${i + 1}`, settings, launch),
        )
      : children > 0
        ? Array.from({ length: children }, (_, i) =>
            startChildWorker(server, `worker-${i + 1}`, settings),
          )
        : Array.from({ length: options.inProcessWorkers ?? 1 }, (_, i) =>
            startInProcessWorker(server, `local-${i + 1}`, settings),
          );
    const started_ = await Promise.allSettled(starts);
    for (const s of started_) if (s.status === "fulfilled") workers.push(s.value);
    const failedStart = started_.find((s) => s.status === "rejected");
    if (failedStart) throw (failedStart as PromiseRejectedResult).reason;
    await unlessAborted(Promise.resolve(), options.signal);
    stageContext.pool = new WorkerPool(workers);

    const countAll = () => Object.values(counts(metrics, channels)).reduce((a, b) => a + b, 0);
    let index = 0;
    for (const node of plan.nodes) {
      current = node;
      index++;
      const name = nodeName(m, node);
      options.onProgress?.({
        node: index,
        nodes: plan.nodes.length,
        name,
        elements: countAll(),
        elapsedMs: performance.now() - started,
      });
      const work = prepared.get(node.id);
      if (work instanceof StageRunner) {
        const stats = await unlessAborted(work.run(), options.signal);
        summaries.push({
          id: node.id,
          name,
          kind: "stage",
          transforms: node.kind === "stage" ? node.transforms.map((t) => m.nameOf(t)) : [],
          inputElements: 0,
          outputElements: 0,
          bundles: stats.bundles,
          timersFired: stats.timersFired,
          residualsResumed: stats.residualsResumed,
          dynamicSplits: stats.dynamicSplits,
        });
      } else if (work) {
        await unlessAborted(Promise.resolve(work.run()), options.signal);
        const note = work.describe?.();
        summaries.push({
          id: node.id,
          name,
          kind: node.kind === "primitive" ? m.urnOf(node.transformId) : "",
          transforms: node.kind === "primitive" ? [m.nameOf(node.transformId)] : [],
          inputElements: 0,
          outputElements: 0,
          bundles: 0,
          timersFired: 0,
          ...(note ? { note } : {}),
        });
      }
    }
    current = undefined;
    fillCounts(plan.nodes, summaries, m, metrics, channels);
    return {
      state: "DONE",
      durationMs: performance.now() - started,
      stages: summaries,
      elementCounts: counts(metrics, channels, plan.nodes, m),
      metrics: metrics.userMetrics(),
      logs: logging.lines(),
    };
  } catch (err) {
    return {
      state: err instanceof RunCancelled ? "CANCELLED" : "FAILED",
      durationMs: performance.now() - started,
      stages: summaries,
      elementCounts: counts(metrics, channels),
      metrics: metrics.userMetrics(),
      error: describeFailure(err, model, current, options.verbose ?? false),
      logs: logging.lines(),
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await server.stop();
  }
}

/** Thrown into a run when its AbortSignal fires. */
class RunCancelled extends Error {
  constructor() {
    super("the run was cancelled");
    this.name = "RunCancelled";
  }
}

/** The work's result, or RunCancelled as soon as the signal fires (the work is abandoned). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new RunCancelled());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RunCancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function nodeName(model: PipelineModel, node: PlanNode): string {
  if (node.kind === "primitive") return model.nameOf(node.transformId);
  const names = node.transforms.map((t) => model.nameOf(t));
  return names.length <= 3
    ? names.join(" + ")
    : `${names.slice(0, 3).join(" + ")} + ${names.length - 3} more`;
}

function counts(
  metrics: MetricsAggregator,
  channels: Map<string, PCollectionChannel>,
  nodes: PlanNode[] = [],
  model?: PipelineModel,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pc, n] of metrics.elementCounts) out[pc] = n;
  for (const [pc, c] of channels) if (c.elements > 0) out[pc] = c.elements;
  // Flatten and Reshuffle forward bytes without decoding: their output has what their inputs had.
  for (const node of nodes) {
    if (node.kind !== "primitive" || !model) continue;
    const urn = model.urnOf(node.transformId);
    if (urn !== URNS.flatten && urn !== URNS.reshuffle) continue;
    const t = model.transform(node.transformId);
    const total = [...t.inputs.values()].reduce((a, pc) => a + (out[pc] ?? 0), 0);
    for (const pc of t.outputs.values()) out[pc] ??= total;
  }
  return out;
}

function fillCounts(
  nodes: PlanNode[],
  summaries: StageSummary[],
  model: PipelineModel,
  metrics: MetricsAggregator,
  channels: Map<string, PCollectionChannel>,
): void {
  const all = counts(metrics, channels, nodes, model);
  for (const summary of summaries) {
    const node = nodes.find((n) => n.id === summary.id);
    if (!node) continue;
    const t = node.kind === "primitive" ? model.transform(node.transformId) : undefined;
    const inputs = node.kind === "stage" ? [node.input] : [...(t?.inputs.values() ?? [])];
    const outputs = node.kind === "stage" ? node.outputs : [...(t?.outputs.values() ?? [])];
    summary.inputElements = inputs.reduce((a, pc) => a + (all[pc] ?? 0), 0);
    summary.outputElements = outputs.reduce((a, pc) => a + (all[pc] ?? 0), 0);
  }
}

function describeFailure(
  err: unknown,
  model: PipelineModel | undefined,
  node: PlanNode | undefined,
  verbose: boolean,
): PipelineError {
  if (err instanceof BundleFailure) {
    const transform =
      err.transformId === undefined
        ? undefined
        : (model?.nameOf(err.transformId) ?? err.transformId);
    const firstLine = err.workerError.split("\n")[0];
    // A user code failure's first line already names its step.
    const named = transform !== undefined && firstLine.includes(JSON.stringify(transform));
    return {
      message:
        transform && !named
          ? `transform ${JSON.stringify(transform)} failed: ${firstLine}`
          : firstLine,
      ...(transform ? { transform } : {}),
      stage: err.stageId,
      details: err.workerError,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  const transform =
    node?.kind === "primitive" && model ? model.nameOf(node.transformId) : undefined;
  return {
    message,
    ...(transform ? { transform } : {}),
    ...(node ? { stage: node.id } : {}),
    // The runner's own failures: the message says it; the stack is for --verbose.
    ...(verbose && err instanceof Error && err.stack ? { details: err.stack } : {}),
  };
}
