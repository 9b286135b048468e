/**
 * `beam:transform:combine_grouped_values:v1` (payload: CombinePayload):
 * `KV<K, Iterable<V>>` → `KV<K, Out>`, the whole combine of one key's grouped
 * values (`extractOutput` of a fresh accumulator with every value added).
 * A state-backed iterable is read page by page, never held whole.
 */
import type { CombineFnHost } from "./combine-fn-host.js";
import { registerKeyedCombinePhase } from "./keyed-combine-phase.js";

export const COMBINE_GROUPED_VALUES_URN = "beam:transform:combine_grouped_values:v1";

function combineAll(host: CombineFnHost, values: unknown): unknown {
  const accumulator = host.addInputs(values);
  if (accumulator instanceof Promise) return accumulator.then((acc) => host.extractOutput(acc));
  return host.extractOutput(accumulator);
}

registerKeyedCombinePhase(COMBINE_GROUPED_VALUES_URN, "KV<K, Iterable<V>>", combineAll);
