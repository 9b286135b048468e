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

/**
 * The coders of a PCollection. As in Beam, `PCollection.coder_id` is the
 * element coder and the window coder comes from its windowing strategy; a
 * PCollection whose coder is itself a windowed_value coder is accepted too.
 */
export function pcollectionCoders(
  descriptor: fnApi.ProcessBundleDescriptor,
  pcollectionId: string,
): PCollectionCoders {
  const pcollection = descriptor.pcollections.get(pcollectionId);
  if (!pcollection)
    throw new Error(`PCollection ${JSON.stringify(pcollectionId)} is not in the descriptor`);
  const coder = coderSpec(descriptor, pcollection.coder_id);
  const urn = coder.spec?.urn;
  let valueCoderId: string;
  let windowCoderId: string;
  if (
    (urn === WINDOWED_VALUE || urn === PARAM_WINDOWED_VALUE) &&
    coder.component_coder_ids.length >= 2
  ) {
    [valueCoderId, windowCoderId] = coder.component_coder_ids;
  } else {
    valueCoderId = pcollection.coder_id;
    const strategy = descriptor.windowing_strategies.get(pcollection.windowing_strategy_id);
    if (!strategy || !strategy.window_coder_id) {
      throw new Error(
        `PCollection ${JSON.stringify(pcollectionId)} has windowing strategy ${JSON.stringify(pcollection.windowing_strategy_id)}, which the descriptor does not define (with a window coder)`,
      );
    }
    windowCoderId = strategy.window_coder_id;
  }
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

/** True when the coder `coderId` of the descriptor or one of its components has the URN (read from the protos: nothing is built). */
export function coderTreeHas(
  descriptor: fnApi.ProcessBundleDescriptor,
  coderId: string,
  urn: string,
  seen = new Set<string>(),
): boolean {
  if (seen.has(coderId)) return false;
  seen.add(coderId);
  const coder = descriptor.coders.get(coderId);
  if (!coder) return false;
  return (
    coder.spec?.urn === urn ||
    coder.component_coder_ids.some((id) => coderTreeHas(descriptor, id, urn, seen))
  );
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
