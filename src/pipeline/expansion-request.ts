/**
 * The `ExpansionRequest` for a cross-language transform: only what the
 * expansion service needs — the input PCollections with their coders and
 * windowing strategies, each made by a stub Impulse (the service parses every
 * transform it receives, so Firefly's own ParDos are never sent) — plus the
 * transform, its namespace and unique name, and the requested output coders.
 */
import { expansionApi, pipelineApi } from "../../proto/index.js";
import type { PipelineGraph } from "./graph.js";
import { IMPULSE_URN } from "./pipeline.js";

/** Component kinds of `Components`, by their field names. */
export const COMPONENT_KINDS = [
  "transforms",
  "pcollections",
  "coders",
  "windowing_strategies",
  "environments",
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/** The ids of each kind sent in a request (echoed back in the response). */
export type SentIds = Record<ComponentKind, Set<string>>;

export interface ExpansionTarget {
  urn: string;
  payload: Uint8Array;
  /** Input tag → PCollection id in the graph. */
  inputs: Record<string, string>;
  uniqueName: string;
  namespace: string;
  /** Output tag → coder id in the graph, sent as `output_coder_requests`. */
  outputCoders: Record<string, string>;
}

export const copy = <T extends { serializeBinary(): Uint8Array }>(
  m: T,
  cls: { deserializeBinary(b: Uint8Array): T },
): T => cls.deserializeBinary(m.serializeBinary());

/** Builds the request; `sent` lists the ids it carries. */
export function expansionRequest(
  graph: PipelineGraph,
  target: ExpansionTarget,
): { request: expansionApi.ExpansionRequest; sent: SentIds } {
  const components = new pipelineApi.Components();
  const addCoder = (id: string): void => {
    if (components.coders.has(id)) return;
    const coder = graph.coders.get(id);
    if (!coder) throw new Error(`unknown coder ${id}`);
    components.coders.set(id, copy(coder, pipelineApi.Coder));
    coder.component_coder_ids.forEach(addCoder);
  };
  Object.values(target.inputs).forEach((pcId, i) => {
    const pc = graph.pcollections.get(pcId);
    if (!pc) throw new Error(`unknown PCollection ${pcId}`);
    components.pcollections.set(pcId, copy(pc, pipelineApi.PCollection));
    addCoder(pc.coder_id);
    const strategy = graph.windowingStrategies.get(pc.windowing_strategy_id);
    if (!strategy) throw new Error(`unknown windowing strategy ${pc.windowing_strategy_id}`);
    // Firefly's environment stays home: the service needs the window fn, not who runs it.
    const sentStrategy = copy(strategy, pipelineApi.WindowingStrategy);
    sentStrategy.environment_id = "";
    components.windowing_strategies.set(pc.windowing_strategy_id, sentStrategy);
    addCoder(strategy.window_coder_id);
    const stubId = `${target.namespace}_input_${i}`;
    components.transforms.set(
      stubId,
      new pipelineApi.PTransform({
        unique_name: stubId,
        spec: new pipelineApi.FunctionSpec({ urn: IMPULSE_URN }),
        outputs: new Map([["out", pcId]]),
      }),
    );
  });
  Object.values(target.outputCoders).forEach(addCoder);
  const request = new expansionApi.ExpansionRequest({
    components,
    transform: new pipelineApi.PTransform({
      unique_name: target.uniqueName,
      spec: new pipelineApi.FunctionSpec({ urn: target.urn, payload: target.payload }),
      inputs: new Map(Object.entries(target.inputs)),
    }),
    namespace: target.namespace,
    output_coder_requests: new Map(Object.entries(target.outputCoders)),
  });
  const sent = Object.fromEntries(
    COMPONENT_KINDS.map((kind) => [kind, new Set(components[kind].keys())]),
  ) as SentIds;
  return { request, sent };
}
