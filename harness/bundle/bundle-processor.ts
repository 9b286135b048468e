/**
 * A bundle processor: the operation graph of one ProcessBundleDescriptor,
 * reused across bundles (cached by the processor cache) until a bundle fails.
 *
 * `process` runs one bundle: startBundle (consumers first), then every inbound
 * item until each expected stream (every data source, and every timer family
 * when the descriptor has a timer endpoint) has seen `is_last`, then
 * finishBundle (producers first). The same code runs inline and in threads.
 */
import type { BundleServices } from "../../operations/bundle-services.js";
import type { CountingReceiver } from "../../operations/counting-receiver.js";
import {
  isDataInput,
  isTimerInput,
  type DataInputOperation,
  type TimerInputOperation,
} from "../../operations/data-input.js";
import { stateCode, type Phase } from "../../operations/execution-state.js";
import type { Operation } from "../../operations/operation.js";
import {
  DEFAULT_LIMITS,
  loadOperationPlugins,
  type OperationLimits,
} from "../../operations/registry.js";
import { nameStep } from "../../operations/errors.js";
import type { fnApi } from "../../proto/index.js";
import type { InboundItem } from "../data/inbound.js";
import { IllegalStateError, ProtocolError } from "../errors.js";
import { buildGraph } from "./graph-builder.js";
import { SdfProcessSizedOperation } from "../../operations/sdf/process-sized.js";
import type { ProgressLayout } from "./progress-view.js";
import type { CurrentElementSplitter } from "../../operations/split-gate.js";

export interface InboundSource {
  next(): Promise<InboundItem | undefined>;
}

type ProcessorState = "IDLE" | "PROCESSING" | "FAILED" | "TORN_DOWN";

export class BundleProcessor {
  private state: ProcessorState = "IDLE";
  private services: BundleServices | undefined;
  private readonly operations: Operation[];
  readonly dataInputs = new Map<string, DataInputOperation>();
  readonly timerInputs = new Map<string, TimerInputOperation>();
  readonly counters: readonly CountingReceiver[];
  private readonly counts: SharedArrayBuffer;
  private readonly stateCell: Int32Array;
  private readonly stateTransformIds: string[];
  private readonly operationIndex: Map<Operation, number>;
  private readonly expectsTimers: boolean;
  /** The progress layout: constant for the processor's life (its buffers are reused). */
  private layout: ProgressLayout | undefined;

  private constructor(
    readonly descriptor: fnApi.ProcessBundleDescriptor,
    limits: OperationLimits,
  ) {
    const graph = buildGraph(descriptor, () => this.currentBundle(), limits);
    this.operations = graph.operations;
    this.counters = graph.counters;
    this.counts = graph.counts;
    this.stateCell = new Int32Array(graph.executionState);
    this.stateTransformIds = graph.stateTransformIds;
    this.operationIndex = graph.operationIndex;
    for (const op of this.operations) {
      if (isDataInput(op)) this.dataInputs.set(op.transformId, op);
      if (isTimerInput(op)) this.timerInputs.set(op.transformId, op);
    }
    this.expectsTimers = descriptor.has_timer_api_service_descriptor;
  }

  /** Builds the graph and runs every operation's `setup`. */
  static async create(
    descriptor: fnApi.ProcessBundleDescriptor,
    limits: OperationLimits = DEFAULT_LIMITS,
  ): Promise<BundleProcessor> {
    await loadOperationPlugins(descriptor);
    const processor = new BundleProcessor(descriptor, limits);
    try {
      for (const op of processor.operations) {
        const pending = op.setup?.();
        if (pending) await pending;
      }
    } catch (err) {
      nameStep(err, descriptor.transforms);
      throw err;
    }
    return processor;
  }

  get isReusable(): boolean {
    return this.state === "IDLE";
  }

  /** Runs one bundle; on failure the processor must not be reused. */
  async process(services: BundleServices, inbound: InboundSource): Promise<void> {
    if (this.state !== "IDLE") throw new IllegalStateError(`processor is ${this.state}, not IDLE`);
    this.state = "PROCESSING";
    this.services = services;
    new Float64Array(this.counts).fill(0);
    try {
      for (let i = this.operations.length - 1; i >= 0; i--) {
        const op = this.operations[i];
        if (!op.startBundle) continue;
        this.enter(op, "start");
        const pending = op.startBundle();
        if (pending) await pending;
      }
      await this.consumeInbound(services.instructionId, inbound);
      for (const op of this.operations) {
        if (!op.finishBundle) continue;
        this.enter(op, "finish");
        const pending = op.finishBundle();
        if (pending) await pending;
      }
      this.stateCell[0] = 0;
      this.state = "IDLE";
    } catch (err) {
      this.stateCell[0] = 0;
      this.state = "FAILED";
      nameStep(err, this.descriptor.transforms);
      throw err;
    } finally {
      this.services = undefined;
    }
  }

  /** The splittable DoFns of the graph (their progress and element splits are shared). */
  private get splittable(): SdfProcessSizedOperation[] {
    return this.operations.filter((op) => op instanceof SdfProcessSizedOperation);
  }

  /** The splitter of the running element of the splittable DoFn that data source `sourceId` feeds, for splits from this thread. */
  inThreadSplitter(sourceId: string): CurrentElementSplitter | undefined {
    return this.splittable.find((op) => op.elementSplit?.sourceId === sourceId)?.inThreadSplitter;
  }

  /** The shared-memory layout progress answers read (from any thread). */
  progressLayout(): ProgressLayout {
    this.layout ??= {
      executionState: this.stateCell.buffer as SharedArrayBuffer,
      stateTransformIds: this.stateTransformIds,
      pcollectionIds: this.counters.map((c) => c.pcollectionId),
      counts: this.counts,
      sources: [...this.dataInputs].map(([id, op]) => [id, op.splitGate.buffer]),
      work: this.splittable.map((op) => [op.transformId, op.workProgress.buffer]),
      elementSplits: this.splittable.flatMap((op) =>
        op.elementSplit
          ? [
              {
                sourceId: op.elementSplit.sourceId,
                transformId: op.transformId,
                inputId: op.elementSplit.inputId,
                pcollectionId: op.elementSplit.pcollectionId,
                cell: op.elementSplit.cell.buffer,
              },
            ]
          : [],
      ),
    };
    return this.layout;
  }

  /** Operations of the graph (producers first). */
  get allOperations(): readonly Operation[] {
    return this.operations;
  }

  async teardown(): Promise<void> {
    if (this.state === "TORN_DOWN") return;
    this.state = "TORN_DOWN";
    for (const op of this.operations) await op.teardown?.();
  }

  /** Records which operation and phase runs (read by the execution-time sampler). */
  private enter(op: Operation, phase: Phase): void {
    this.stateCell[0] = stateCode(this.operationIndex.get(op) as number, phase);
  }

  private currentBundle(): BundleServices {
    if (!this.services) throw new IllegalStateError("no bundle is being processed");
    return this.services;
  }

  private async consumeInbound(instructionId: string, inbound: InboundSource): Promise<void> {
    const openData = new Set(this.dataInputs.keys());
    const openTimers = new Set<string>();
    if (this.expectsTimers) {
      for (const op of this.timerInputs.values()) {
        for (const family of op.timerFamilyIds)
          openTimers.add(timerStreamKey(op.transformId, family));
      }
    }
    while (openData.size > 0 || openTimers.size > 0) {
      this.stateCell[0] = 0; // waiting for input is not execution time
      const item = await inbound.next();
      if (!item) {
        throw new ProtocolError(
          `inbound data of instruction ${instructionId} ended before is_last on ${[...openData, ...openTimers].join(", ")}`,
        );
      }
      if (item.kind === "data") {
        const op = this.dataInputs.get(item.transformId);
        if (!op) {
          throw new ProtocolError(
            `data for ${JSON.stringify(item.transformId)}, which is not a data source of descriptor ${this.descriptor.id}`,
          );
        }
        if (item.bytes.length > 0) {
          this.enter(op, "process");
          const pending = op.consume(item.bytes);
          if (pending) await pending;
        }
        if (item.isLast) {
          const pending = op.endOfInput();
          if (pending) await pending;
          openData.delete(item.transformId);
        }
      } else {
        const op = this.timerInputs.get(item.transformId);
        if (!op || !op.timerFamilyIds.includes(item.timerFamilyId)) {
          throw new ProtocolError(
            `timers for ${JSON.stringify(item.transformId)}/${JSON.stringify(item.timerFamilyId)}, which is not a timer family of descriptor ${this.descriptor.id}`,
          );
        }
        if (item.bytes.length > 0) {
          this.enter(op, "process");
          const pending = op.consumeTimers(item.timerFamilyId, item.bytes);
          if (pending) await pending;
        }
        if (item.isLast) {
          const pending = op.endOfTimers(item.timerFamilyId);
          if (pending) await pending;
          openTimers.delete(timerStreamKey(item.transformId, item.timerFamilyId));
        }
      }
    }
  }
}

function timerStreamKey(transformId: string, family: string): string {
  return `${transformId}/${family}`;
}
