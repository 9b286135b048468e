/**
 * The registry of transforms the runner executes itself (boundaries of
 * fusion). A primitive is one registration: its URN and how it runs (see
 * exec/primitives.ts for the built-in ones).
 */
import type { IterableStateWriter } from "../../../coders/index.js";
import type { PCollectionChannel, SegmentStore } from "../exec/channel.js";
import type { PipelineModel } from "./pipeline-model.js";

export interface PrimitiveContext {
  model: PipelineModel;
  transformId: string;
  /** The channel of a PCollection that crosses a stage boundary. */
  channel(pcollectionId: string): PCollectionChannel;
  /** A whole stored copy of a PCollection (attached to its channel on first use). */
  store(pcollectionId: string): SegmentStore;
  groupByKey: {
    memoryBudgetBytes: number;
    spillDir: string | undefined;
    segmentBytes: number;
    /** Where the tails of state-backed groups go (see graph/state-backed-iterables.ts). */
    iterableState: IterableStateWriter;
  };
}

/** Prepared at plan time (it attaches to its input channels); `run` is called in its turn. */
export interface PreparedPrimitive {
  run(): void | Promise<void>;
  /** A one-line description for the summary (e.g. spilled runs). */
  describe?(): string;
}

export type RunnerPrimitive = (ctx: PrimitiveContext) => PreparedPrimitive;

const primitives = new Map<string, RunnerPrimitive>();

export function registerRunnerPrimitive(urn: string, primitive: RunnerPrimitive): void {
  primitives.set(urn, primitive);
}

export function isRunnerPrimitive(urn: string): boolean {
  return primitives.has(urn);
}

export function runnerPrimitive(urn: string): RunnerPrimitive {
  const p = primitives.get(urn);
  if (!p) throw new Error(`${urn} is not a runner primitive`);
  return p;
}
