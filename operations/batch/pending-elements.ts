/**
 * Elements that reach a batch ParDo one by one (from a per-element
 * producer), collected until a batch is full or the window set or pane
 * changes.
 */
import { batchFromValues, type ElementBatch } from "../../coders/columnar/index.js";
import type { BoundedWindow, Coder, PaneInfo, WindowedValue } from "../../coders/index.js";

export class PendingElements {
  private values: unknown[] = [];
  private timestamps: bigint[] = [];
  private windows: readonly BoundedWindow[] = [];
  private pane: PaneInfo | undefined;

  constructor(
    private readonly valueCoder: Coder<unknown>,
    private readonly maxElements: number,
  ) {}

  get size(): number {
    return this.values.length;
  }

  /** Whether `element` must wait for the pending elements to be taken first. */
  mustTakeBefore(element: WindowedValue<unknown>): boolean {
    if (this.values.length === 0) return false;
    return (
      this.values.length >= this.maxElements ||
      !sameWindows(this.windows, element.windows) ||
      !samePane(this.pane as PaneInfo, element.pane)
    );
  }

  add(element: WindowedValue<unknown>): void {
    if (this.values.length === 0) {
      this.windows = element.windows;
      this.pane = element.pane;
    }
    this.values.push(element.value);
    this.timestamps.push(BigInt(element.timestamp));
  }

  /** The pending elements as a batch (undefined when there are none). */
  take(): ElementBatch | undefined {
    if (this.values.length === 0) return undefined;
    const batch = batchFromValues(
      this.values,
      this.timestamps,
      this.windows,
      this.pane as PaneInfo,
      this.valueCoder,
    );
    this.values = [];
    this.timestamps = [];
    return batch;
  }
}

function sameWindows(a: readonly BoundedWindow[], b: readonly BoundedWindow[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((w, i) => w === b[i] || sameFields(w, b[i]));
}

function samePane(a: PaneInfo, b: PaneInfo): boolean {
  return a === b || sameFields(a, b);
}

function sameFields(a: object | undefined, b: object | undefined): boolean {
  if (!a || !b) return false;
  const ka = Object.keys(a);
  return (
    ka.length === Object.keys(b).length &&
    ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k])
  );
}
