/**
 * What a progress answer needs of a running bundle, readable from any thread:
 * element counts per PCollection, each data source's split gate and each
 * splittable DoFn's work progress, all in shared memory. The processor publishes it; the conductor reads it.
 */
import { SplitGate } from "../../operations/split-gate.js";
import { WorkProgressCell } from "../../operations/sdf/work-progress.js";
import { SharedOffsetRangeCell } from "../../operations/sdf/shared-offset-range.js";

export interface ProgressLayout {
  /** The execution-state cell and the transform ids its codes refer to. */
  executionState: SharedArrayBuffer;
  stateTransformIds: string[];
  pcollectionIds: string[];
  counts: SharedArrayBuffer;
  /** Split gate buffers by data source transform id. */
  sources: [string, SharedArrayBuffer][];
  /** Work-progress cells of splittable DoFns, by transform id. */
  work: [string, SharedArrayBuffer][];
  /** Splittable DoFns fed by a data source: the element they process, which a split may cut. */
  elementSplits: ElementSplitLayout[];
}

export interface ElementSplitLayout {
  /** The data source feeding the splittable DoFn. */
  sourceId: string;
  transformId: string;
  inputId: string;
  pcollectionId: string;
  cell: SharedArrayBuffer;
}

export class ProgressView {
  readonly counts: Float64Array;
  readonly sources: Map<string, SplitGate>;
  readonly work: Map<string, WorkProgressCell>;
  /** By data source id. */
  readonly elementSplits: Map<string, ElementSplitLayout & { shared: SharedOffsetRangeCell }>;
  readonly executionState: Int32Array;
  /** Samples per execution-state code (filled by the ExecutionSampler). */
  readonly samples = new Map<number, number>();

  /** The shared range of a splittable DoFn's running element (when a data source feeds it). */
  sharedRangeOf(transformId: string): SharedOffsetRangeCell | undefined {
    for (const target of this.elementSplits.values())
      if (target.transformId === transformId) return target.shared;
    return undefined;
  }

  constructor(readonly layout: ProgressLayout) {
    this.counts = new Float64Array(layout.counts);
    this.executionState = new Int32Array(layout.executionState);
    this.sources = new Map(layout.sources.map(([id, buffer]) => [id, new SplitGate(buffer)]));
    this.work = new Map(layout.work.map(([id, buffer]) => [id, new WorkProgressCell(buffer)]));
    this.elementSplits = new Map(
      layout.elementSplits.map((e) => [
        e.sourceId,
        { ...e, shared: new SharedOffsetRangeCell(e.cell) },
      ]),
    );
  }
}
