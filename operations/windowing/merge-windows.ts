/**
 * `beam:transform:merge_windows:v1`: window merging a runner asks the SDK to
 * compute during a GroupByKey. Payload: the WindowingStrategy's `window_fn`
 * FunctionSpec.
 *
 * Input `KV<nonce, Iterable<OriginalWindow>>`; output
 * `KV<nonce, KV<Iterable<UnmergedOriginalWindow>, Iterable<KV<MergedWindow, Iterable<ConsumedOriginalWindow>>>>>`.
 * Every distinct original window is in exactly one of the output sets: a
 * window that merged with no other is unmerged. Sessions (and any merging
 * window fn of interval windows without its own `mergeWindows`) merge
 * windows that overlap; windows that only touch (`[0, 10)`, `[10, 20)`) do
 * not merge, as in Beam. A non-merging window fn leaves every window unmerged.
 */
import type { BoundedWindow, IntervalWindow, KV, WindowedValue } from "../../coders/index.js";
import { errorMessage, OperationError } from "../errors.js";
import { kvInput, onlyOutput } from "../flatten.js";
import { type MaybePromise, type Operation, type Receiver, withValue } from "../operation.js";
import { registerOperation, type OperationContext } from "../registry.js";
import { FIREFLY_WINDOWFN_URN } from "./user-window-fn.js";
import { mergeOverlapping, windowFnFromSpec, type WindowFn } from "./window-fns.js";
import { functionSpecPayload } from "./window-into.js";

export const MERGE_WINDOWS_URN = "beam:transform:merge_windows:v1";

/** One merge result: the merged window and the original windows it consumed. */
export interface WindowMerge {
  merged: BoundedWindow;
  from: BoundedWindow[];
}

/** A merging window fn may bring its own merge; otherwise interval windows merge when they overlap. */
export interface MergingWindowFn extends WindowFn {
  mergeWindows?(windows: readonly BoundedWindow[]): WindowMerge[];
}

/** The merge result a runner expects: `{key: unmerged, value: [{key: merged, value: consumed}]}`. */
export type MergeResult = KV<BoundedWindow[], KV<BoundedWindow, BoundedWindow[]>[]>;

function isInterval(w: unknown): w is IntervalWindow {
  return (
    w !== null &&
    typeof w === "object" &&
    typeof (w as IntervalWindow).start === "bigint" &&
    typeof (w as IntervalWindow).end === "bigint"
  );
}

/** Drops repeated interval windows (a runner may send the same window twice). */
function distinct(windows: readonly BoundedWindow[]): BoundedWindow[] {
  const seen = new Set<string>();
  const out: BoundedWindow[] = [];
  for (const w of windows) {
    if (isInterval(w)) {
      const id = `${w.start}:${w.end}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(w);
  }
  return out;
}

/** Merges a set of windows with a window fn into Beam's unmerged/merged shape. */
export function mergeWindowSet(
  fn: MergingWindowFn,
  windows: readonly BoundedWindow[],
): MergeResult {
  const originals = distinct(windows);
  if (!fn.merging) return { key: originals, value: [] };
  let merges: WindowMerge[];
  if (typeof fn.mergeWindows === "function") {
    merges = fn.mergeWindows(originals);
  } else {
    const notInterval = originals.find((w) => !isInterval(w));
    if (notInterval !== undefined) {
      throw new Error(
        `window fn ${fn.urn} merges interval windows, but the input has another kind of window`,
      );
    }
    merges = mergeOverlapping(originals as IntervalWindow[]);
  }
  const unmerged: BoundedWindow[] = [];
  const merged: KV<BoundedWindow, BoundedWindow[]>[] = [];
  for (const m of merges) {
    if (m.from.length === 1 && m.from[0] === m.merged) unmerged.push(m.merged);
    else merged.push({ key: m.merged, value: m.from });
  }
  // Windows a custom merge did not mention stay unmerged.
  const covered = new Set<BoundedWindow>(merges.flatMap((m) => m.from));
  for (const w of originals) if (!covered.has(w)) unmerged.push(w);
  return { key: unmerged, value: merged };
}

function toArray(transformId: string, value: unknown): readonly BoundedWindow[] {
  if (Array.isArray(value)) return value as BoundedWindow[];
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === "function"
  ) {
    return Array.from(value as Iterable<BoundedWindow>);
  }
  throw new OperationError(transformId, MERGE_WINDOWS_URN, "expected an iterable of windows");
}

export class MergeWindowsOperation implements Operation {
  readonly urn = MERGE_WINDOWS_URN;

  constructor(
    readonly transformId: string,
    private readonly fn: MergingWindowFn,
    private readonly out: Receiver,
  ) {}

  process(element: WindowedValue<unknown>): MaybePromise {
    const kv = kvInput(this.transformId, this.urn, element, "KV<nonce, Iterable<Window>>");
    let result: MergeResult;
    try {
      result = mergeWindowSet(this.fn, toArray(this.transformId, kv.value));
    } catch (err) {
      if (err instanceof OperationError) throw err;
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot merge windows: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    return this.out.process(withValue(element, { key: kv.key, value: result }));
  }
}

/** A user window fn is non-merging: merge_windows leaves its windows as they are. */
const NON_MERGING_USER_FN: MergingWindowFn = {
  urn: FIREFLY_WINDOWFN_URN,
  merging: false,
  assignWindows: () => {
    throw new Error("not used by merge_windows");
  },
  mapWindow: () => {
    throw new Error("not used by merge_windows");
  },
};

registerOperation(MERGE_WINDOWS_URN, (op: OperationContext) => {
  const spec = functionSpecPayload(op, MERGE_WINDOWS_URN, "the window fn");
  let fn: MergingWindowFn;
  if (spec.urn === FIREFLY_WINDOWFN_URN) {
    fn = NON_MERGING_USER_FN;
  } else {
    try {
      fn = windowFnFromSpec(spec.urn, spec.payload);
    } catch (err) {
      throw new OperationError(op.transformId, MERGE_WINDOWS_URN, errorMessage(err), {
        cause: err,
      });
    }
  }
  return new MergeWindowsOperation(op.transformId, fn, onlyOutput(op, MERGE_WINDOWS_URN));
});
