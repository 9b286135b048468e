/**
 * `beam:transform:combine_per_key_merge_accumulators:v1` (payload:
 * CombinePayload): `KV<K, Iterable<Acc>>` → `KV<K, Acc>`, the accumulators
 * of one key and window (grouped by the runner) merged into one, compacted.
 */
import { registerKeyedCombinePhase } from "./keyed-combine-phase.js";
import type { CombineFnHost } from "./combine-fn-host.js";

export const COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN =
  "beam:transform:combine_per_key_merge_accumulators:v1";

function mergeAccumulators(host: CombineFnHost, accumulators: unknown): unknown {
  const all = host.arrayOf(accumulators);
  if (all instanceof Promise) return all.then((list) => host.compact(host.mergeAccumulators(list)));
  return host.compact(host.mergeAccumulators(all));
}

registerKeyedCombinePhase(
  COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN,
  "KV<K, Iterable<Acc>>",
  mergeAccumulators,
);
