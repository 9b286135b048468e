/**
 * A stage as a ProcessBundleDescriptor: its transforms as the pipeline has
 * them, a `beam:runner:source:v1` reading its input and a
 * `beam:runner:sink:v1` per output (RemoteGrpcPort with the windowed-value
 * coder of the PCollection), the pipeline's coders, PCollections and
 * windowing strategies, and the state/timer endpoints when the stage needs
 * them (state: user state, side inputs, or state-backed groups as input).
 */
import { endpointsApi, fnApi, pipelineApi } from "../../../proto/index.js";
import type { Stage } from "./fusion.js";
import type { PipelineModel } from "./pipeline-model.js";
import { hasStateBackedGroups } from "./state-backed-iterables.js";
import { URNS } from "./urns.js";

export interface TimerFamily {
  transformId: string;
  family: string;
  coderId: string;
}

export interface StageDescriptor {
  descriptor: fnApi.ProcessBundleDescriptor;
  sourceId: string;
  /** Sink transform id by output PCollection. */
  sinkIds: Map<string, string>;
  timerFamilies: TimerFamily[];
  /** Transforms with user state or timers: bundles of the stage run one at a time. */
  stateful: boolean;
  /** (transform, side input id, PCollection) of the stage's side inputs. */
  sideInputs: { transformId: string; sideInputId: string; pcollection: string }[];
}

export function stageDescriptor(model: PipelineModel, stage: Stage, url: string): StageDescriptor {
  const api = new endpointsApi.ApiServiceDescriptor({ url });
  const port = (pc: string) =>
    new fnApi.RemoteGrpcPort({
      api_service_descriptor: api,
      coder_id: model.windowedCoderId(pc),
    }).serializeBinary();
  const transforms = new Map<string, pipelineApi.PTransform>();
  const timerFamilies: TimerFamily[] = [];
  const sideInputs: StageDescriptor["sideInputs"] = [];
  let stateful = false;
  for (const id of stage.transforms) {
    const t = model.transform(id);
    transforms.set(id, t);
    for (const s of model.sideInputs(id))
      sideInputs.push({ transformId: id, sideInputId: s.local, pcollection: s.pcollection });
    if (t.spec?.urn === URNS.pardo) {
      const payload = pipelineApi.ParDoPayload.deserializeBinary(t.spec.payload);
      if (payload.state_specs.size > 0 || payload.timer_family_specs.size > 0) stateful = true;
      for (const [family, spec] of payload.timer_family_specs)
        timerFamilies.push({ transformId: id, family, coderId: spec.timer_family_coder_id });
    }
  }
  const sourceId = `${stage.id}:source`;
  transforms.set(
    sourceId,
    new pipelineApi.PTransform({
      unique_name: sourceId,
      spec: new pipelineApi.FunctionSpec({ urn: URNS.dataSource, payload: port(stage.input) }),
      outputs: new Map([["out", stage.input]]),
    }),
  );
  const sinkIds = new Map<string, string>();
  for (const pc of stage.outputs) {
    const sinkId = `${stage.id}:sink:${pc}`;
    sinkIds.set(pc, sinkId);
    transforms.set(
      sinkId,
      new pipelineApi.PTransform({
        unique_name: sinkId,
        spec: new pipelineApi.FunctionSpec({ urn: URNS.dataSink, payload: port(pc) }),
        inputs: new Map([["in", pc]]),
      }),
    );
  }
  const c = model.components;
  const descriptor = new fnApi.ProcessBundleDescriptor({
    id: stage.id,
    transforms,
    pcollections: c.pcollections,
    coders: c.coders,
    windowing_strategies: c.windowing_strategies,
    environments: c.environments,
  });
  if (stateful || sideInputs.length > 0 || hasStateBackedGroups(model, stage.input))
    descriptor.state_api_service_descriptor = api;
  if (timerFamilies.length > 0) descriptor.timer_api_service_descriptor = api;
  return { descriptor, sourceId, sinkIds, timerFamilies, stateful, sideInputs };
}
