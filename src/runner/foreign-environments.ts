/**
 * Firefly's local runner runs Firefly's code only: a pipeline with a
 * cross-language transform (a step in another SDK's environment) is refused
 * before anything starts, naming the transform and pointing to a portable
 * runner.
 */
import type { pipelineApi } from "../../proto/index.js";
import { ENVIRONMENT_ID } from "../pipeline/environment.js";

/** A pipeline the local runner cannot run: it has steps in another SDK's environment. */
export class ForeignEnvironmentError extends Error {
  override readonly name = "ForeignEnvironmentError";
}

/** Throws {@link ForeignEnvironmentError} when a transform names an environment other than Firefly's. */
export function checkFireflyEnvironmentOnly(pipeline: pipelineApi.Pipeline): void {
  const environments = pipeline.components.environments;
  if (environments.size <= 1) return;
  const isForeign = (id: string) => id !== "" && id !== ENVIRONMENT_ID && environments.has(id);
  const visit = (ids: readonly string[]): [string, pipelineApi.PTransform] | undefined => {
    for (const id of ids) {
      const t = pipeline.components.transforms.get(id);
      if (!t) continue;
      if (isForeign(t.environment_id)) return [id, t];
      const inner = visit(t.subtransforms);
      if (inner) return inner;
    }
    return undefined;
  };
  const found = visit(pipeline.root_transform_ids);
  if (!found) return;
  const [id, transform] = found;
  const env = environments.get(transform.environment_id) as pipelineApi.Environment;
  throw new ForeignEnvironmentError(
    `step ${JSON.stringify(transform.unique_name || id)} (${transform.spec?.urn ?? "composite"}) is a cross-language transform in environment ${JSON.stringify(transform.environment_id)} (${env.urn}): Firefly's local runner runs only Firefly's own steps. Run the pipeline on a portable runner that starts every environment (--runner=portable --job_endpoint=HOST:PORT, e.g. Beam Python's job service or Flink's; --environment_overrides=*=HOST:PORT where the runner has no Docker), see README "Cross-language transforms"`,
  );
}
