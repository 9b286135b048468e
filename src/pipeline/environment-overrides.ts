/**
 * `--environment_overrides`: rewrites the environments of cross-language
 * transforms (as their expansion services returned them, usually
 * `beam:env:docker:v1`) to EXTERNAL worker pools, for runners without Docker
 * (Beam Python's FnApiRunner and job service, a local Flink):
 *
 *   --environment_overrides=MATCH=HOST:PORT[,MATCH=HOST:PORT...]
 *
 * MATCH is a foreign environment's id, its Docker image
 * (`apache/beam_python3.11_sdk:2.50.0`), or `*` for every foreign environment.
 * Firefly's own environment is never rewritten (see `--environment_type`).
 */
import { endpointsApi, pipelineApi } from "../../proto/index.js";
import { PipelineOptionsError, type PipelineOptions } from "./options.js";

const EXTERNAL_URN = "beam:env:external:v1";
const DOCKER_URN = "beam:env:docker:v1";

/** The parsed option: MATCH → host:port, in the order given. */
export function parseEnvironmentOverrides(value: unknown): [string, string][] {
  if (value === undefined || value === "") return [];
  if (typeof value !== "string")
    throw new PipelineOptionsError(
      "--environment_overrides needs MATCH=HOST:PORT[,...] (MATCH: an environment id, a Docker image, or *)",
    );
  return value.split(",").map((entry) => {
    const at = entry.lastIndexOf("=");
    const match = entry.slice(0, at).trim();
    const endpoint = entry.slice(at + 1).trim();
    if (at <= 0 || !/^[^\s:]+:\d+$/.test(endpoint))
      throw new PipelineOptionsError(
        `--environment_overrides: ${JSON.stringify(entry)} is not MATCH=HOST:PORT (MATCH: an environment id, a Docker image, or *)`,
      );
    return [match, endpoint];
  });
}

function dockerImage(env: pipelineApi.Environment): string | undefined {
  return env.urn === DOCKER_URN
    ? pipelineApi.DockerPayload.deserializeBinary(env.payload).container_image
    : undefined;
}

/** The environment as an EXTERNAL one on `endpoint` (capabilities and dependencies kept). */
export function externalEnvironment(
  env: pipelineApi.Environment,
  endpoint: string,
): pipelineApi.Environment {
  const copy = pipelineApi.Environment.deserializeBinary(env.serializeBinary());
  copy.urn = EXTERNAL_URN;
  copy.payload = new pipelineApi.ExternalPayload({
    endpoint: new endpointsApi.ApiServiceDescriptor({ url: endpoint }),
  }).serializeBinary();
  return copy;
}

/** The foreign environments with `--environment_overrides` applied. */
export function overrideEnvironments(
  environments: ReadonlyMap<string, pipelineApi.Environment>,
  options: PipelineOptions,
): [string, pipelineApi.Environment][] {
  const overrides = parseEnvironmentOverrides(options.get("environment_overrides"));
  return [...environments].map(([id, env]) => {
    const image = dockerImage(env);
    const hit = overrides.find(([match]) => match === "*" || match === id || match === image);
    return [id, hit ? externalEnvironment(env, hit[1]) : env];
  });
}
