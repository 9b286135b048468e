/**
 * Merges an `ExpansionResponse` into the pipeline graph: the components the
 * service added (not the stubs and other ids it echoes from the request),
 * renamed where an id is already taken in the graph, with every reference to
 * a renamed id rewritten — in the components and in the payloads that name
 * coders (combines' accumulator coder, splittable ParDos' restriction coder).
 */
import { expansionApi, pipelineApi } from "../../proto/index.js";
import type { PipelineGraph } from "./graph.js";
import { COMPONENT_KINDS, copy, type ComponentKind, type SentIds } from "./expansion-request.js";

type Renames = Record<ComponentKind, Map<string, string>>;
type AnyComponent =
  | pipelineApi.PTransform
  | pipelineApi.PCollection
  | pipelineApi.Coder
  | pipelineApi.WindowingStrategy
  | pipelineApi.Environment;

/** The graph's map of each kind (Firefly's own environment id counts as taken). */
function graphMap(graph: PipelineGraph, kind: ComponentKind): Map<string, AnyComponent> {
  const maps: Record<ComponentKind, Map<string, AnyComponent>> = {
    transforms: graph.transforms,
    pcollections: graph.pcollections,
    coders: graph.coders,
    windowing_strategies: graph.windowingStrategies,
    environments: graph.foreignEnvironments,
  };
  return maps[kind];
}

function isTaken(graph: PipelineGraph, kind: ComponentKind, id: string): boolean {
  return graphMap(graph, kind).has(id) || (kind === "environments" && id === graph.environmentId);
}

const renamed = (map: Map<string, string>, id: string): string => map.get(id) ?? id;

/** Rewrites the coder ids inside a payload, by transform URN. */
type PayloadRewriter = (payload: Uint8Array, coder: (id: string) => string) => Uint8Array;

const combinePayload: PayloadRewriter = (payload, coder) => {
  const p = pipelineApi.CombinePayload.deserializeBinary(payload);
  p.accumulator_coder_id = coder(p.accumulator_coder_id);
  return p.serializeBinary();
};

const payloadRewriters: Record<string, PayloadRewriter> = {
  "beam:transform:combine_per_key:v1": combinePayload,
  "beam:transform:combine_globally:v1": combinePayload,
  "beam:transform:combine_grouped_values:v1": combinePayload,
  "beam:transform:combine_per_key_precombine:v1": combinePayload,
  "beam:transform:combine_per_key_merge_accumulators:v1": combinePayload,
  "beam:transform:combine_per_key_extract_outputs:v1": combinePayload,
  "beam:transform:pardo:v1": (payload, coder) => {
    const p = pipelineApi.ParDoPayload.deserializeBinary(payload);
    if (p.restriction_coder_id) p.restriction_coder_id = coder(p.restriction_coder_id);
    return p.serializeBinary();
  },
};

/** Rewrites the references of one component, by kind. */
const referenceRewriters: Record<ComponentKind, (c: AnyComponent, r: Renames) => void> = {
  coders: (c, r) => {
    const coder = c as pipelineApi.Coder;
    coder.component_coder_ids = coder.component_coder_ids.map((id) => renamed(r.coders, id));
  },
  windowing_strategies: (c, r) => {
    const w = c as pipelineApi.WindowingStrategy;
    w.window_coder_id = renamed(r.coders, w.window_coder_id);
    if (w.environment_id) w.environment_id = renamed(r.environments, w.environment_id);
  },
  environments: () => {},
  pcollections: (c, r) => {
    const pc = c as pipelineApi.PCollection;
    pc.coder_id = renamed(r.coders, pc.coder_id);
    pc.windowing_strategy_id = renamed(r.windowing_strategies, pc.windowing_strategy_id);
  },
  transforms: (c, r) => {
    const t = c as pipelineApi.PTransform;
    const pcs = (m: Map<string, string>) =>
      new Map([...m].map(([tag, id]) => [tag, renamed(r.pcollections, id)]));
    t.inputs = pcs(t.inputs);
    t.outputs = pcs(t.outputs);
    t.subtransforms = t.subtransforms.map((id) => renamed(r.transforms, id));
    if (t.environment_id) t.environment_id = renamed(r.environments, t.environment_id);
    const rewrite = t.has_spec ? payloadRewriters[t.spec.urn] : undefined;
    if (rewrite && r.coders.size > 0 && t.spec.payload.length > 0)
      t.spec.payload = rewrite(t.spec.payload, (id) => renamed(r.coders, id));
  },
};

/**
 * Adds the response's new components to the graph and the expanded transform
 * under `id`; returns the expanded transform's outputs (tag → PCollection id).
 */
export function mergeExpansion(
  graph: PipelineGraph,
  response: expansionApi.ExpansionResponse,
  sent: SentIds,
  id: string,
): Record<string, string> {
  const components = response.components ?? new pipelineApi.Components();
  const renames = Object.fromEntries(
    COMPONENT_KINDS.map((kind) => [kind, new Map<string, string>()]),
  ) as Renames;
  const added: [ComponentKind, string, AnyComponent][] = [];
  for (const kind of COMPONENT_KINDS) {
    const foreign = components[kind] as Map<string, AnyComponent>;
    const assigned = new Set<string>();
    // A new id is free in the graph, not given to another part, and not another part's own id.
    const free = (candidate: string, own: string) =>
      !isTaken(graph, kind, candidate) &&
      !assigned.has(candidate) &&
      (candidate === own || !foreign.has(candidate));
    for (const [foreignId, component] of foreign) {
      if (sent[kind].has(foreignId) || (kind === "transforms" && foreignId === id)) continue;
      let newId = foreignId;
      for (let n = 2; !free(newId, foreignId); n++) newId = `${foreignId}_${n}`;
      assigned.add(newId);
      if (newId !== foreignId) renames[kind].set(foreignId, newId);
      added.push([kind, newId, component]);
    }
  }
  for (const [kind, newId, component] of added) {
    referenceRewriters[kind](component, renames);
    (graphMap(graph, kind) as Map<string, AnyComponent>).set(newId, component);
  }
  const expanded = copy(response.transform, pipelineApi.PTransform);
  referenceRewriters.transforms(expanded, renames);
  expanded.unique_name = id;
  graph.addExpanded(id, expanded);
  for (const requirement of response.requirements) graph.requirements.add(requirement);
  return Object.fromEntries(expanded.outputs);
}
