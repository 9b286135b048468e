/**
 * What a progress answer needs of a running bundle, readable from any thread:
 * element counts per PCollection and each data source's split gate, both in
 * shared memory. The processor publishes it; the conductor reads it.
 */
import { SplitGate } from "../../operations/split-gate.js";

export interface ProgressLayout {
  pcollectionIds: string[];
  counts: SharedArrayBuffer;
  /** Split gate buffers by data source transform id. */
  sources: [string, SharedArrayBuffer][];
}

export class ProgressView {
  readonly counts: Float64Array;
  readonly sources: Map<string, SplitGate>;

  constructor(readonly layout: ProgressLayout) {
    this.counts = new Float64Array(layout.counts);
    this.sources = new Map(layout.sources.map(([id, buffer]) => [id, new SplitGate(buffer)]));
  }
}
