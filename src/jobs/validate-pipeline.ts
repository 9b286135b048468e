/**
 * Checks a submitted Pipeline proto before the job server accepts it
 * (Prepare): it has transforms, every reference (root and sub-transforms,
 * PCollections, coders, windowing strategies, environments) resolves, every
 * coder URN is one the workers implement, and every transform that runs user
 * code names an environment. All problems are reported at once.
 */
import { coderFromProto } from "../../coders/index.js";
import { ENVIRONMENT_ID } from "../pipeline/environment.js";
import type { pipelineApi } from "../../proto/index.js";

/** Transforms that run on an SDK worker and therefore need an environment. */
const SDK_TRANSFORM_URNS = new Set([
  "beam:transform:pardo:v1",
  "beam:transform:combine_per_key:v1",
  "beam:transform:combine_globally:v1",
  "beam:transform:combine_grouped_values:v1",
  "beam:transform:combine_per_key_precombine:v1",
  "beam:transform:combine_per_key_merge_accumulators:v1",
  "beam:transform:combine_per_key_extract_outputs:v1",
  "beam:transform:window_into:v1",
]);

export class InvalidPipelineError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid pipeline: ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? `; and ${problems.length - 10} more` : ""}`,
    );
    this.name = "InvalidPipelineError";
  }
}

function checkCoders(components: pipelineApi.Components, problems: string[]): void {
  for (const [id, coder] of components.coders) {
    for (const component of coder.component_coder_ids)
      if (!components.coders.has(component))
        problems.push(
          `coder ${JSON.stringify(id)} refers to unknown coder ${JSON.stringify(component)}`,
        );
  }
}

function checkCoderDecodable(
  components: pipelineApi.Components,
  coderId: string,
  where: string,
  problems: string[],
): void {
  if (!components.coders.has(coderId)) {
    problems.push(`${where} has unknown coder ${JSON.stringify(coderId)}`);
    return;
  }
  try {
    coderFromProto(coderId, components);
  } catch (err) {
    problems.push(
      `${where}: coder ${JSON.stringify(coderId)} is not usable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The PCollections made inside transforms of environments other than Firefly's. */
function foreignOutputs(components: pipelineApi.Components): Set<string> {
  const out = new Set<string>();
  const visit = (id: string): void => {
    const t = components.transforms.get(id);
    if (!t) return;
    for (const pc of t.outputs.values()) out.add(pc);
    t.subtransforms.forEach(visit);
  };
  for (const [id, t] of components.transforms)
    if (t.environment_id && t.environment_id !== ENVIRONMENT_ID && components.environments.size > 1)
      visit(id);
  return out;
}

/** Throws InvalidPipelineError listing every problem of the pipeline. */
export function validatePipeline(pipeline: pipelineApi.Pipeline | undefined): void {
  const problems: string[] = [];
  const components = pipeline?.components;
  if (!pipeline || !components || components.transforms.size === 0) {
    throw new InvalidPipelineError(["the pipeline has no transforms"]);
  }
  if (pipeline.root_transform_ids.length === 0)
    problems.push("the pipeline has no root transforms");
  for (const id of pipeline.root_transform_ids)
    if (!components.transforms.has(id))
      problems.push(`root transform ${JSON.stringify(id)} does not exist`);
  checkCoders(components, problems);
  for (const [id, transform] of components.transforms) {
    const where = `transform ${JSON.stringify(transform.unique_name || id)}`;
    for (const sub of transform.subtransforms)
      if (!components.transforms.has(sub))
        problems.push(`${where} has unknown subtransform ${JSON.stringify(sub)}`);
    for (const [kind, refs] of [
      ["input", transform.inputs],
      ["output", transform.outputs],
    ] as const) {
      for (const [local, pc] of refs)
        if (!components.pcollections.has(pc))
          problems.push(
            `${where} ${kind} ${JSON.stringify(local)} refers to unknown PCollection ${JSON.stringify(pc)}`,
          );
    }
    const env = transform.environment_id;
    if (env && !components.environments.has(env))
      problems.push(`${where} refers to unknown environment ${JSON.stringify(env)}`);
    const urn = transform.spec?.urn ?? "";
    if (transform.subtransforms.length === 0 && SDK_TRANSFORM_URNS.has(urn) && !env)
      problems.push(`${where} (${urn}) runs user code but names no environment`);
  }
  const foreign = foreignOutputs(components);
  for (const [id, pc] of components.pcollections) {
    const where = `PCollection ${JSON.stringify(id)}`;
    // Another SDK's coders (a cross-language transform's insides) are its workers' business.
    if (!foreign.has(id)) checkCoderDecodable(components, pc.coder_id, where, problems);
    if (!components.windowing_strategies.has(pc.windowing_strategy_id))
      problems.push(
        `${where} has unknown windowing strategy ${JSON.stringify(pc.windowing_strategy_id)}`,
      );
  }
  if (problems.length > 0) throw new InvalidPipelineError(problems);
}
