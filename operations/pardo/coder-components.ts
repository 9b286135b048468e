/**
 * Reads the structure of a PCollection's coder from the descriptor: the
 * element coder of a windowed value, its window coder, and a KV's key coder
 * (looking through a runner's length_prefix wrapping).
 */
import type { fnApi } from "../../proto/index.js";

const WINDOWED_VALUE = "beam:coder:windowed_value:v1";
const PARAM_WINDOWED_VALUE = "beam:coder:param_windowed_value:v1";
const LENGTH_PREFIX = "beam:coder:length_prefix:v1";
const KV = "beam:coder:kv:v1";

export interface PCollectionCoders {
  /** The coder of the elements' values (without window). */
  valueCoderId: string;
  windowCoderId: string;
  /** The key coder when the values are KVs. */
  keyCoderId: string | undefined;
  /** The KV's value coder when the values are KVs. */
  kvValueCoderId: string | undefined;
}

function coderSpec(descriptor: fnApi.ProcessBundleDescriptor, coderId: string) {
  const coder = descriptor.coders.get(coderId);
  if (!coder) throw new Error(`coder ${JSON.stringify(coderId)} is not in the descriptor`);
  return coder;
}

export function pcollectionCoders(
  descriptor: fnApi.ProcessBundleDescriptor,
  pcollectionId: string,
): PCollectionCoders {
  const pcollection = descriptor.pcollections.get(pcollectionId);
  if (!pcollection)
    throw new Error(`PCollection ${JSON.stringify(pcollectionId)} is not in the descriptor`);
  const wv = coderSpec(descriptor, pcollection.coder_id);
  const urn = wv.spec?.urn;
  if (
    (urn !== WINDOWED_VALUE && urn !== PARAM_WINDOWED_VALUE) ||
    wv.component_coder_ids.length < 2
  ) {
    throw new Error(
      `PCollection ${JSON.stringify(pcollectionId)} has coder ${JSON.stringify(pcollection.coder_id)} (${urn}), not a windowed_value coder`,
    );
  }
  const [valueCoderId, windowCoderId] = wv.component_coder_ids;
  let inner = coderSpec(descriptor, valueCoderId);
  if (inner.spec?.urn === LENGTH_PREFIX && inner.component_coder_ids.length === 1) {
    inner = coderSpec(descriptor, inner.component_coder_ids[0]);
  }
  const isKv = inner.spec?.urn === KV && inner.component_coder_ids.length === 2;
  return {
    valueCoderId,
    windowCoderId,
    keyCoderId: isKv ? inner.component_coder_ids[0] : undefined,
    kvValueCoderId: isKv ? inner.component_coder_ids[1] : undefined,
  };
}

/** The local input name of a ParDo's main input (the input that is not a side input). */
export function mainInputPCollection(
  transform: { inputs: Map<string, string> },
  sideInputNames: Iterable<string>,
): string {
  const side = new Set(sideInputNames);
  const main = [...transform.inputs.entries()].filter(([local]) => !side.has(local));
  if (main.length !== 1)
    throw new Error(
      `expected one main input, found ${main.length} (${main.map(([l]) => l).join(", ")})`,
    );
  return main[0][1];
}
