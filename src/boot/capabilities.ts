/**
 * What a Firefly environment declares in `Environment.capabilities`, so a
 * runner knows which coders it may leave unwrapped (it length-prefixes every
 * coder not listed) and which Fn API protocols the worker speaks. The
 * pipeline builder puts these in Firefly's environments.
 */
import { registeredCoderUrns } from "../../coders/index.js";

/** Fn API protocols Firefly implements. */
export const FIREFLY_PROTOCOLS = [
  "beam:protocol:progress_reporting:v1",
  "beam:protocol:worker_status:v1",
  "beam:protocol:multi_core_bundle_processing:v1",
  "beam:protocol:monitoring_info_short_ids:v1",
  "beam:protocol:harness_monitoring_infos:v1",
  "beam:protocol:state_caching:v1",
] as const;

/** Capability URNs of a Firefly environment: every coder it implements, then the protocols. */
export function fireflyCapabilities(): string[] {
  return [
    ...registeredCoderUrns()
      .filter((urn) => urn.startsWith("beam:coder:"))
      .sort(),
    ...FIREFLY_PROTOCOLS,
  ];
}

/** Runner capabilities Firefly reacts to (read from ProvisionInfo.runner_capabilities). */
export function understoodRunnerCapabilities(runnerCapabilities: readonly string[]): string[] {
  const known = new Set(["beam:protocol:control_response_elements_embedding:v1"]);
  return runnerCapabilities.filter((c) => known.has(c));
}
