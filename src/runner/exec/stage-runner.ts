/**
 * Runs one stage: its input cut into bundles, each a ProcessBundle
 * instruction on a worker slot with the input sent on the data plane and the
 * outputs collected from the sinks (committed to their channels when the
 * bundle succeeded); then bundles that resume the residual roots the
 * workers handed back (splittable DoFns' checkpoints), each once its
 * requested delay passed, until none are left (a stage that starts with a
 * splittable DoFn also splits its slowest bundle whenever a worker slot is
 * idle: dynamic-splits.ts); then, for stages with timers,
 * further bundles that deliver the timers set until none are left. Stateful stages run one bundle
 * at a time (the runner holds their state between bundles).
 */
import { fnApi } from "../../../proto/index.js";
import type { StageDescriptor } from "../graph/descriptors.js";
import type { Stage } from "../graph/fusion.js";
import type { InstructionReceiver } from "../fn-api/worker-connection.js";
import type { WorkerHandle } from "../workers.js";
import type { PCollectionChannel, SegmentStore } from "./channel.js";
import type { MetricsAggregator } from "./metrics.js";
import { DynamicSplitter } from "./dynamic-splits.js";
import { familyKey, TimerStore } from "./timers.js";
import type { WorkerPool } from "./worker-pool.js";
import type { PipelineModel } from "../graph/pipeline-model.js";

/** A bundle failed: the worker's error names the transform and carries the user's stack. */
export class BundleFailure extends Error {
  constructor(
    readonly stageId: string,
    readonly instructionId: string,
    readonly workerError: string,
    readonly transformId: string | undefined,
  ) {
    super(workerError);
    this.name = "BundleFailure";
  }
}

export interface StageContext {
  model: PipelineModel;
  pool: WorkerPool;
  metrics: MetricsAggregator;
  channel(pcollectionId: string): PCollectionChannel;
  store(pcollectionId: string): SegmentStore;
  /** Bundles are cut to at most about this many bytes of input. */
  maxBundleBytes: number;
  /** Rounds of timer delivery before the stage is failed (timers that keep setting themselves). */
  maxTimerRounds: number;
  /** Wait this long for the outputs' is_last after the response. */
  streamTimeoutMs: number;
  /** Split the slowest bundle of a splittable DoFn's stage when a worker slot is idle. */
  dynamicSplits: boolean;
  nextInstructionId(): string;
}

export interface StageStats {
  bundles: number;
  timerRounds: number;
  timersFired: number;
  /** Residual roots (checkpoints) resumed. */
  residualsResumed: number;
  /** Splits of running bundles that handed work to a new bundle. */
  dynamicSplits: number;
}

/** A residual root to resume: the element for the stage's input, due at `dueAt` (ms epoch). */
interface Residual {
  element: Uint8Array;
  dueAt: number;
}

/** The transform a worker's error names: `step "S" (transform "T")`, `step "T"` or `transform "T"`. */
const TRANSFORM_IN_ERROR =
  /(?:^step "(?:[^"\\]|\\.)*" \(transform "((?:[^"\\]|\\.)*)"\)|^step "((?:[^"\\]|\\.)*)"|transform "((?:[^"\\]|\\.)*)")/;

export class StageRunner {
  private readonly timers: TimerStore;
  readonly stats: StageStats = {
    bundles: 0,
    timerRounds: 0,
    timersFired: 0,
    residualsResumed: 0,
    dynamicSplits: 0,
  };
  private residuals: Residual[] = [];
  private readonly splitter: DynamicSplitter | undefined;
  /** Bundles running (of the current round). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sideInputTokens: fnApi.ProcessBundleRequest.CacheToken[];

  constructor(
    private readonly stage: Stage,
    private readonly sd: StageDescriptor,
    private readonly ctx: StageContext,
  ) {
    this.timers = new TimerStore(ctx.model, sd.timerFamilies);
    const startsSplittable = stage.transforms.some(
      (t) =>
        ctx.model.splittable.includes(t) &&
        [...ctx.model.transform(t).inputs.values()].includes(stage.input),
    );
    this.splitter =
      ctx.dynamicSplits && startsSplittable && !sd.stateful
        ? new DynamicSplitter(sd.sourceId, ctx.store(stage.input).coder, (id, root) =>
            this.checkResidual(id, root),
          )
        : undefined;
    this.sideInputTokens = sd.sideInputs.map(
      (s) =>
        new fnApi.ProcessBundleRequest.CacheToken({
          side_input: new fnApi.ProcessBundleRequest.CacheToken.SideInput({
            transform_id: s.transformId,
            side_input_id: s.sideInputId,
          }),
          token: Buffer.from(`side:${s.transformId}:${s.sideInputId}`),
        }),
    );
  }

  async run(): Promise<StageStats> {
    const input = this.ctx.store(this.stage.input);
    const parallel = this.sd.stateful ? 1 : this.ctx.pool.slots;
    const wanted = Math.max(parallel, Math.ceil(input.bytes / this.ctx.maxBundleBytes));
    // Small inputs still make one bundle per slot: a few seeds may expand into most of the work.
    const bundles = input.bundles(wanted, 1);
    if (bundles.length === 0) bundles.push([]);
    await this.runBundles(bundles);
    await this.resumeResiduals();
    while (this.timers.size > 0) {
      if (++this.stats.timerRounds > this.ctx.maxTimerRounds)
        throw new Error(
          `stage ${this.stage.id}: timers were still being set after ${this.ctx.maxTimerRounds} rounds of firing`,
        );
      await this.runBundle([], this.timers.takeAll());
    }
    this.stats.timersFired = this.timers.fired;
    this.stats.dynamicSplits = this.splitter?.splits ?? 0;
    return this.stats;
  }

  private async runBundles(bundles: Uint8Array[][]): Promise<void> {
    if (this.sd.stateful) {
      for (const parts of bundles) await this.runBundle(parts, undefined);
      return;
    }
    for (const parts of bundles) this.launch(parts);
    // Until every bundle (and every bundle split off a running one) is done.
    while (this.inFlight.size > 0) {
      const tick = this.splitter && new Promise<void>((resolve) => setTimeout(resolve, 50));
      await Promise.race([...this.inFlight, ...(tick ? [tick] : [])]);
      if (this.splitter) await this.rebalance(this.splitter);
    }
  }

  private launch(parts: Uint8Array[]): void {
    const running: Promise<void> = this.runBundle(parts, undefined).finally(() =>
      this.inFlight.delete(running),
    );
    running.catch(() => undefined); // observed by runBundles' race
    this.inFlight.add(running);
  }

  /** While a worker slot is idle, splits the slowest bundle and runs what it hands back there. */
  private async rebalance(splitter: DynamicSplitter): Promise<void> {
    while (this.ctx.pool.idle > 0) {
      const input = await splitter.splitSlowest();
      if (!input) return;
      this.launch(input);
    }
  }

  /** Runs the residuals whose delay passed (waiting for the earliest), spread over the slots, until none are left. */
  private async resumeResiduals(): Promise<void> {
    while (this.residuals.length > 0) {
      const earliest = Math.min(...this.residuals.map((r) => r.dueAt));
      const wait = earliest - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const now = Date.now();
      const due = this.residuals.filter((r) => r.dueAt <= now);
      this.residuals = this.residuals.filter((r) => r.dueAt > now);
      const slots = this.sd.stateful ? 1 : this.ctx.pool.slots;
      const bundles: Uint8Array[][] = Array.from({ length: Math.min(slots, due.length) }, () => []);
      due.forEach((r, i) => bundles[i % bundles.length]!.push(r.element));
      this.stats.residualsResumed += due.length;
      await this.runBundles(bundles);
    }
  }

  /** A residual root must be for the stage's input (the local runner resumes nothing else). */
  private checkResidual(instructionId: string, app: fnApi.BundleApplication): void {
    const t = this.stage.transforms.includes(app.transform_id)
      ? this.ctx.model.transform(app.transform_id)
      : undefined;
    if (!t || t.inputs.get(app.input_id) !== this.stage.input)
      throw new BundleFailure(
        this.stage.id,
        instructionId,
        `the worker handed back a residual for input ${JSON.stringify(app.input_id)} of transform ${JSON.stringify(app.transform_id)}, which does not read this stage's input ${JSON.stringify(this.stage.input)}: the local runner resumes residuals of the stage's first transform only`,
        app.transform_id,
      );
  }

  /** Keeps a bundle's residual roots for `resumeResiduals`. */
  private keepResiduals(instructionId: string, roots: fnApi.DelayedBundleApplication[]): void {
    for (const root of roots) {
      const app = root.application;
      this.checkResidual(instructionId, app);
      const delay = root.requested_time_delay;
      const delayMs = delay ? delay.seconds * 1000 + delay.nanos / 1e6 : 0;
      this.residuals.push({ element: app.element, dueAt: Date.now() + delayMs });
    }
  }

  private runBundle(
    parts: Uint8Array[],
    timers: Map<string, Uint8Array> | undefined,
  ): Promise<void> {
    return this.ctx.pool.with((worker) => this.runOn(worker, parts, timers));
  }

  private async runOn(
    worker: WorkerHandle,
    parts: Uint8Array[],
    timers: Map<string, Uint8Array> | undefined,
  ): Promise<void> {
    const id = this.ctx.nextInstructionId();
    const conn = worker.connection;
    const outputs = new Map<string, Uint8Array[]>();
    const timerOutputs = new Map<string, Uint8Array[]>();
    const open = new Set<string>();
    for (const sinkId of this.sd.sinkIds.values()) {
      open.add(sinkId);
      outputs.set(sinkId, []);
    }
    for (const f of this.sd.timerFamilies) {
      open.add(`t:${familyKey(f.transformId, f.family)}`);
      timerOutputs.set(familyKey(f.transformId, f.family), []);
    }
    let allClosed!: () => void;
    const closed = new Promise<void>((resolve) => (allClosed = resolve));
    const close = (key: string) => {
      open.delete(key);
      if (open.size === 0) allClosed();
    };
    if (open.size === 0) allClosed();
    const violations: string[] = [];
    const receiver: InstructionReceiver = {
      onProtocolViolation: (message) => violations.push(message),
      onData: (transformId, bytes, isLast) => {
        const list = outputs.get(transformId);
        if (!list) return;
        if (bytes.length > 0) list.push(bytes);
        if (isLast) close(transformId);
      },
      onTimers: (transformId, family, bytes, isLast) => {
        const key = familyKey(transformId, family);
        const list = timerOutputs.get(key);
        if (!list) return;
        if (bytes.length > 0) list.push(bytes);
        if (isLast) close(`t:${key}`);
      },
    };
    conn.receive(id, receiver);
    let finalize = false;
    try {
      const response = conn.instruct(
        new fnApi.InstructionRequest({
          instruction_id: id,
          process_bundle: new fnApi.ProcessBundleRequest({
            process_bundle_descriptor_id: this.sd.descriptor.id,
            cache_tokens: this.cacheTokens(id),
          }),
        }),
      );
      response.catch(() => undefined);
      await conn.sendData(id, this.sd.sourceId, parts);
      this.splitter?.started(id, conn, parts);
      for (const f of this.sd.timerFamilies) {
        const key = familyKey(f.transformId, f.family);
        await conn.sendTimers(id, f.transformId, f.family, timers?.get(key) ?? new Uint8Array());
      }
      const result = await response;
      if (result.error) {
        const match = TRANSFORM_IN_ERROR.exec(result.error);
        throw new BundleFailure(
          this.stage.id,
          id,
          result.error,
          match ? (JSON.parse(`"${match[1] ?? match[2] ?? match[3]}"`) as string) : undefined,
        );
      }
      await this.within(closed, id);
      if (violations.length > 0)
        throw new BundleFailure(
          this.stage.id,
          id,
          `protocol violation: ${violations.join("; ")}`,
          undefined,
        );
      this.ctx.metrics.add(result.process_bundle?.monitoring_infos ?? []);
      this.keepResiduals(id, result.process_bundle?.residual_roots ?? []);
      finalize = result.process_bundle?.requires_finalization === true;
    } finally {
      this.splitter?.ended(id);
      conn.release(id);
    }
    this.stats.bundles++;
    for (const [pc, sinkId] of this.sd.sinkIds) {
      const w = this.ctx.channel(pc).open();
      for (const chunk of outputs.get(sinkId) ?? []) w.write(chunk);
      w.end();
    }
    for (const f of this.sd.timerFamilies) {
      const chunks = timerOutputs.get(familyKey(f.transformId, f.family)) ?? [];
      if (chunks.length > 0) this.timers.add(f.transformId, f.family, chunks);
    }
    if (finalize) await this.finalize(conn, id);
  }

  /** The bundle's outputs are committed: its DoFns' finalization callbacks may run now. */
  private async finalize(conn: WorkerHandle["connection"], id: string): Promise<void> {
    const response = await conn.instruct(
      new fnApi.InstructionRequest({
        instruction_id: this.ctx.nextInstructionId(),
        finalize_bundle: new fnApi.FinalizeBundleRequest({ instruction_id: id }),
      }),
    );
    if (response.error)
      throw new BundleFailure(
        this.stage.id,
        id,
        `finalizing the bundle failed: ${response.error}`,
        undefined,
      );
  }

  private cacheTokens(instructionId: string): fnApi.ProcessBundleRequest.CacheToken[] {
    if (!this.sd.stateful) return this.sideInputTokens;
    return [
      ...this.sideInputTokens,
      new fnApi.ProcessBundleRequest.CacheToken({
        user_state: new fnApi.ProcessBundleRequest.CacheToken.UserState(),
        token: Buffer.from(`user:${instructionId}`),
      }),
    ];
  }

  private within(closed: Promise<void>, id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `bundle ${id} of stage ${this.stage.id}: the worker answered but did not end its output streams within ${this.ctx.streamTimeoutMs} ms`,
            ),
          ),
        this.ctx.streamTimeoutMs,
      );
      closed.then(() => {
        clearTimeout(timer);
        resolve();
      }, reject);
    });
  }
}
