/**
 * The ParDoPayload of a `firefly:dofn:v1` ParDo: the DoFn, its side inputs
 * (iterable and multimap views of other PCollections), user state specs and
 * timer family specs, as operations/pardo/ reads them. Stateful ParDos add
 * `beam:requirement:pardo:stateful:v1` to the pipeline's requirements.
 */
import { pipelineApi } from "../../proto/index.js";
import {
  DEFAULT_CODER,
  kv,
  normalizeCoder,
  nullable,
  timerCoder,
  type CoderProtoSpec,
  type CoderType,
} from "./coder-types.js";
import { combineFnSpec, type CombineFnArg } from "./combine-fns.js";
import type { PipelineGraph } from "./graph.js";
import type { UserCodePayload } from "./ship-function.js";
import type { WindowFnSpec } from "./windowing.js";

export const PARDO_URN = "beam:transform:pardo:v1";
export const FIREFLY_DOFN_URN = "firefly:dofn:v1";
export const ITERABLE_SIDE_INPUT_URN = "beam:side_input:iterable:v1";
export const MULTIMAP_SIDE_INPUT_URN = "beam:side_input:multimap:v1";
export const STATEFUL_REQUIREMENT = "beam:requirement:pardo:stateful:v1";
export const FINALIZATION_REQUIREMENT = "beam:requirement:pardo:finalization:v1";
export const SPLITTABLE_REQUIREMENT = "beam:requirement:pardo:splittable_dofn:v1";
/** The built-in restriction of splittable DoFns: `{start, stop}` int64 offsets. */
export const OFFSET_RANGE_CODER: CoderProtoSpec = { urn: "firefly:coder:offset_range:v1" };
const BAG_PROTOCOL = "beam:user_state:bag:v1";
const MULTIMAP_PROTOCOL = "beam:user_state:multimap:v1";
/** Firefly's workers ignore `view_fn`: the access pattern says what a DoFn gets. */
export const IDENTITY_VIEW_FN_URN = "firefly:view_fn:identity:v1";

/** What a side input reads: the PCollection, its windowing, and the access pattern. */
export interface SideInputSource {
  readonly pcollectionId: string;
  readonly windowFn: WindowFnSpec;
  readonly accessUrn: string;
}

/** User state of a stateful ParDo (values default to the json coder). */
export type StateDeclaration =
  | { kind: "bag" | "value" | "set"; coder?: CoderType }
  | { kind: "map"; keyCoder?: CoderType; coder?: CoderType }
  | { kind: "combining"; combineFn: CombineFnArg; coder?: CoderType; accumulatorCoder?: CoderType };

/** A timer family: event time (fires at the window's end in batch) or processing time. */
export type TimerDeclaration = "event" | "processing" | { domain: "event" | "processing" };

export interface ParDoFeatures {
  sideInputs?: Record<string, SideInputSource>;
  state?: Record<string, StateDeclaration>;
  timers?: Record<string, TimerDeclaration>;
  requestsFinalization?: boolean;
  /**
   * A splittable DoFn: the coder of its restrictions (the payload's
   * restriction coder is KV(this, the watermark-estimator state: null)).
   */
  restrictionCoder?: CoderProtoSpec;
}

function stateSpec(
  graph: PipelineGraph,
  name: string,
  decl: StateDeclaration,
  where: string,
): pipelineApi.StateSpec {
  const coderId = (type: CoderType | undefined, what: string) =>
    graph.coderId(normalizeCoder(type ?? DEFAULT_CODER, `${where} state ${name} ${what}`));
  const bag = new pipelineApi.FunctionSpec({ urn: BAG_PROTOCOL });
  switch (decl.kind) {
    case "bag":
      return new pipelineApi.StateSpec({
        protocol: bag,
        bag_spec: new pipelineApi.BagStateSpec({ element_coder_id: coderId(decl.coder, "coder") }),
      });
    case "value":
      return new pipelineApi.StateSpec({
        protocol: bag,
        read_modify_write_spec: new pipelineApi.ReadModifyWriteStateSpec({
          coder_id: coderId(decl.coder, "coder"),
        }),
      });
    case "set":
      return new pipelineApi.StateSpec({
        protocol: bag,
        set_spec: new pipelineApi.SetStateSpec({ element_coder_id: coderId(decl.coder, "coder") }),
      });
    case "map":
      return new pipelineApi.StateSpec({
        protocol: new pipelineApi.FunctionSpec({ urn: MULTIMAP_PROTOCOL }),
        map_spec: new pipelineApi.MapStateSpec({
          key_coder_id: coderId(decl.keyCoder, "keyCoder"),
          value_coder_id: coderId(decl.coder, "coder"),
        }),
      });
    case "combining": {
      const input = normalizeCoder(decl.coder ?? DEFAULT_CODER, `${where} state ${name} coder`);
      const fn = combineFnSpec(decl.combineFn, input, `${where} state ${name}`, {
        accumulatorCoder: decl.accumulatorCoder,
      });
      return new pipelineApi.StateSpec({
        protocol: bag,
        combining_spec: new pipelineApi.CombiningStateSpec({
          accumulator_coder_id: graph.coderId(fn.accumulatorCoder),
          combine_fn: fn.spec,
        }),
      });
    }
    default:
      throw new TypeError(
        `${where}: state ${JSON.stringify(name)} has kind ${JSON.stringify((decl as { kind: unknown }).kind)} (bag, value, set, map, combining)`,
      );
  }
}

function timeDomain(decl: TimerDeclaration, where: string): pipelineApi.TimeDomain.Enum {
  const domain = typeof decl === "string" ? decl : decl?.domain;
  if (domain === "event") return pipelineApi.TimeDomain.Enum.EVENT_TIME;
  if (domain === "processing") return pipelineApi.TimeDomain.Enum.PROCESSING_TIME;
  throw new TypeError(
    `${where}: a timer's domain is "event" or "processing", got ${String(domain)}`,
  );
}

/**
 * The payload of a ParDo reading `input` (whose key and window coders the
 * timer coders use). Side inputs must also be added to the transform's inputs.
 */
export function parDoPayload(
  graph: PipelineGraph,
  userCode: UserCodePayload,
  features: ParDoFeatures,
  keyed: { keyCoder: CoderProtoSpec; windowCoder: CoderProtoSpec } | undefined,
  where: string,
): pipelineApi.ParDoPayload {
  const payload = new pipelineApi.ParDoPayload({
    do_fn: new pipelineApi.FunctionSpec({
      urn: FIREFLY_DOFN_URN,
      payload: new TextEncoder().encode(JSON.stringify(userCode)),
    }),
  });
  for (const [name, side] of Object.entries(features.sideInputs ?? {})) {
    payload.side_inputs.set(
      name,
      new pipelineApi.SideInput({
        access_pattern: new pipelineApi.FunctionSpec({ urn: side.accessUrn }),
        view_fn: new pipelineApi.FunctionSpec({ urn: IDENTITY_VIEW_FN_URN }),
        window_mapping_fn: new pipelineApi.FunctionSpec({
          urn: side.windowFn.urn,
          payload: side.windowFn.payload,
        }),
      }),
    );
  }
  for (const [name, decl] of Object.entries(features.state ?? {})) {
    payload.state_specs.set(name, stateSpec(graph, name, decl, where));
  }
  for (const [family, decl] of Object.entries(features.timers ?? {})) {
    if (!keyed) throw new Error(`${where}: timers need a keyed input`);
    payload.timer_family_specs.set(
      family,
      new pipelineApi.TimerFamilySpec({
        time_domain: timeDomain(decl, `${where} timer ${family}`),
        timer_family_coder_id: graph.coderId(timerCoder(keyed.keyCoder, keyed.windowCoder)),
      }),
    );
  }
  if (payload.state_specs.size > 0 || payload.timer_family_specs.size > 0)
    graph.requirements.add(STATEFUL_REQUIREMENT);
  if (features.restrictionCoder) {
    payload.restriction_coder_id = graph.coderId(
      kv(features.restrictionCoder, nullable({ urn: "beam:coder:bytes:v1" })),
    );
    graph.requirements.add(SPLITTABLE_REQUIREMENT);
  }
  if (features.requestsFinalization) {
    payload.requests_finalization = true;
    graph.requirements.add(FINALIZATION_REQUIREMENT);
  }
  return payload;
}
