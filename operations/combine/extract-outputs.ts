/**
 * `beam:transform:combine_per_key_extract_outputs:v1` (payload:
 * CombinePayload): `KV<K, Acc>` → `KV<K, Out>` with `extractOutput`.
 */
import { registerKeyedCombinePhase } from "./keyed-combine-phase.js";

export const COMBINE_PER_KEY_EXTRACT_OUTPUTS_URN =
  "beam:transform:combine_per_key_extract_outputs:v1";

registerKeyedCombinePhase(COMBINE_PER_KEY_EXTRACT_OUTPUTS_URN, "KV<K, Acc>", (host, accumulator) =>
  host.extractOutput(accumulator),
);
