/**
 * `beam:transform:combine_per_key_convert_to_accumulators:v1` (payload:
 * CombinePayload): `KV<K, V>` → `KV<K, Acc>`, each input on its own
 * (`addInput(createAccumulator(), v)`, compacted), without a table: the
 * unlifted alternative to precombine.
 */
import { registerKeyedCombinePhase } from "./keyed-combine-phase.js";

export const COMBINE_PER_KEY_CONVERT_TO_ACCUMULATORS_URN =
  "beam:transform:combine_per_key_convert_to_accumulators:v1";

registerKeyedCombinePhase(COMBINE_PER_KEY_CONVERT_TO_ACCUMULATORS_URN, "KV<K, V>", (host, input) =>
  host.compact(host.addInput(host.createAccumulator(), input)),
);
