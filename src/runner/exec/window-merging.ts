/**
 * Window merging for GroupByKey over merging window fns, by window fn URN
 * (a registry: a new merging window fn is one entry). Sessions merge
 * overlapping interval windows into their span, as Beam's `Sessions` does.
 */
import { intervalWindow, type BoundedWindow, type IntervalWindow } from "../../../coders/index.js";

export interface WindowedInput {
  window: BoundedWindow;
  value: unknown;
}

/** Groups one key's values into merged windows. */
export type WindowMerger = (
  inputs: WindowedInput[],
) => { window: BoundedWindow; values: unknown[] }[];

const mergers = new Map<string, WindowMerger>();

export function registerWindowMerger(windowFnUrn: string, merger: WindowMerger): void {
  mergers.set(windowFnUrn, merger);
}

export function windowMerger(windowFnUrn: string): WindowMerger | undefined {
  return mergers.get(windowFnUrn);
}

export const SESSIONS_URN = "beam:window_fn:session_windows:v1";

/** Merges overlapping interval windows (touching ones stay apart). */
export const mergeIntervalWindows: WindowMerger = (inputs) => {
  const sorted = [...inputs].sort((a, b) => {
    const x = (a.window as IntervalWindow).start;
    const y = (b.window as IntervalWindow).start;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const out: { window: BoundedWindow; values: unknown[] }[] = [];
  let start = 0n;
  let end = 0n;
  let values: unknown[] = [];
  for (const input of sorted) {
    const w = input.window as IntervalWindow;
    if (values.length > 0 && w.start < end) {
      if (w.end > end) end = w.end;
      values.push(input.value);
      continue;
    }
    if (values.length > 0) out.push({ window: intervalWindow(start, end), values });
    start = w.start;
    end = w.end;
    values = [input.value];
  }
  if (values.length > 0) out.push({ window: intervalWindow(start, end), values });
  return out;
};

registerWindowMerger(SESSIONS_URN, mergeIntervalWindows);
