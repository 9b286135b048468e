/**
 * Which GroupByKey outputs the local runner sends as state-backed iterables
 * (pipeline option `firefly_state_backed_iterable_threshold`, in bytes; off
 * by default). As Beam Python's FnApiRunner does (`with_state_iterables` in
 * translations.py), the output PCollection's coder `KV<K, iterable<V>>`
 * becomes `KV<K, state_backed_iterable<V>>` whose payload is the threshold
 * (ASCII); encoding a group then writes blocks up to the threshold inline and
 * the rest to the runner's state under a token. Only outputs read by SDK
 * transforms as their main input change: runner primitives and side inputs
 * decode the bytes in this process, which reads no state.
 */
import { STATE_BACKED_ITERABLE_URN } from "../../../coders/index.js";
import { pipelineApi } from "../../../proto/index.js";
import type { PipelineModel } from "./pipeline-model.js";
import { isRunnerPrimitive } from "./runner-primitives.js";
import { URNS } from "./urns.js";

/**
 * Gives the GroupByKey outputs that qualify a state-backed coder with
 * `thresholdBytes`; returns their PCollection ids.
 */
export function useStateBackedIterables(model: PipelineModel, thresholdBytes: number): string[] {
  const changed: string[] = [];
  for (const id of model.leaves) {
    if (model.urnOf(id) !== URNS.groupByKey) continue;
    for (const pc of model.transform(id).outputs.values()) {
      if (!readOnlyBySdkTransforms(model, pc)) continue;
      const coderId = stateBackedGroupCoder(model, model.pcollection(pc).coder_id, thresholdBytes);
      if (coderId === undefined) continue;
      model.pcollection(pc).coder_id = coderId;
      changed.push(pc);
    }
  }
  return changed;
}

/** The threshold of a PCollection whose groups are state-backed, else undefined. */
export function stateBackedThreshold(
  model: PipelineModel,
  pcollectionId: string,
): number | undefined {
  const coders = model.components.coders;
  const kv = coders.get(model.pcollection(pcollectionId).coder_id);
  if (kv?.spec?.urn !== URNS.kvCoder || kv.component_coder_ids.length !== 2) return undefined;
  const values = coders.get(kv.component_coder_ids[1]);
  if (values?.spec?.urn !== STATE_BACKED_ITERABLE_URN) return undefined;
  const threshold = Number(Buffer.from(values.spec.payload).toString("latin1"));
  return Number.isSafeInteger(threshold) && threshold > 0 ? threshold : undefined;
}

/** True when the PCollection's groups are state-backed (its readers need the State API). */
export function hasStateBackedGroups(model: PipelineModel, pcollectionId: string): boolean {
  return stateBackedThreshold(model, pcollectionId) !== undefined;
}

function readOnlyBySdkTransforms(model: PipelineModel, pcollectionId: string): boolean {
  const consumers = model.consumers.get(pcollectionId) ?? [];
  return (
    consumers.length > 0 &&
    consumers.every((c) => !c.side && !isRunnerPrimitive(model.urnOf(c.transformId)))
  );
}

/** `KV<K, state_backed_iterable<V>>` for a `KV<K, iterable<V>>` coder (added once), else undefined. */
function stateBackedGroupCoder(
  model: PipelineModel,
  kvCoderId: string,
  thresholdBytes: number,
): string | undefined {
  const coders = model.components.coders;
  const kv = coders.get(kvCoderId);
  if (kv?.spec?.urn !== URNS.kvCoder || kv.component_coder_ids.length !== 2) return undefined;
  const [keyId, valuesId] = kv.component_coder_ids;
  const values = coders.get(valuesId);
  if (values?.spec?.urn !== URNS.iterableCoder || values.component_coder_ids.length !== 1)
    return undefined;
  const add = (id: string, coder: pipelineApi.Coder): string => {
    if (!coders.has(id)) coders.set(id, coder);
    return id;
  };
  const stateBacked = add(
    `${valuesId}_state_backed_${thresholdBytes}`,
    new pipelineApi.Coder({
      spec: new pipelineApi.FunctionSpec({
        urn: STATE_BACKED_ITERABLE_URN,
        payload: Buffer.from(String(thresholdBytes), "latin1"),
      }),
      component_coder_ids: values.component_coder_ids,
    }),
  );
  return add(
    `${kvCoderId}_state_backed_${thresholdBytes}`,
    new pipelineApi.Coder({
      spec: new pipelineApi.FunctionSpec({ urn: URNS.kvCoder }),
      component_coder_ids: [keyId, stateBacked],
    }),
  );
}
