/**
 * The one Firefly environment of a pipeline, from `--environment_type` and
 * `--environment_config` as Beam's SDKs read them:
 *   PROCESS (default): `beam:env:process:v1`, command from the config
 *     (`{"command": "..."}` or the command itself), else this package's
 *     `bin/firefly boot`;
 *   DOCKER: `beam:env:docker:v1`, image from the config, else firefly-beam:<version>;
 *   EXTERNAL: `beam:env:external:v1`, the worker pool's host:port (required).
 * Its capabilities are Firefly's (coders and protocols, src/boot/capabilities.ts).
 */
import { fileURLToPath } from "node:url";
import { endpointsApi, pipelineApi } from "../../proto/index.js";
import { fireflyCapabilities } from "../boot/capabilities.js";
import type { PipelineOptions } from "./options.js";

export const ENVIRONMENT_ID = "firefly";
export const DEFAULT_DOCKER_IMAGE = "firefly-beam:0.1.0";

/** `bin/firefly` of this package (dist/src/pipeline → ../../../bin). */
export const FIREFLY_BIN = fileURLToPath(new URL("../../../bin/firefly", import.meta.url));

function processCommand(config: string | undefined): string {
  if (config === undefined || config === "") return `${FIREFLY_BIN} boot`;
  if (config.trimStart().startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(config);
    } catch (err) {
      throw new TypeError(
        `--environment_config for PROCESS is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const command = (parsed as { command?: unknown }).command;
    if (typeof command !== "string" || command === "")
      throw new TypeError(`--environment_config for PROCESS needs {"command": "<command>"}`);
    return command;
  }
  return config;
}

type EnvironmentBuilder = (config: string | undefined) => { urn: string; payload: Uint8Array };

const builders: Record<string, EnvironmentBuilder> = {
  PROCESS: (config) => ({
    urn: "beam:env:process:v1",
    payload: new pipelineApi.ProcessPayload({ command: processCommand(config) }).serializeBinary(),
  }),
  DOCKER: (config) => ({
    urn: "beam:env:docker:v1",
    payload: new pipelineApi.DockerPayload({
      container_image: config || DEFAULT_DOCKER_IMAGE,
    }).serializeBinary(),
  }),
  EXTERNAL: (config) => {
    if (!config)
      throw new TypeError("--environment_type=EXTERNAL needs --environment_config=HOST:PORT");
    return {
      urn: "beam:env:external:v1",
      payload: new pipelineApi.ExternalPayload({
        endpoint: new endpointsApi.ApiServiceDescriptor({ url: config }),
      }).serializeBinary(),
    };
  },
};

/** Firefly's environment for these options. */
export function fireflyEnvironment(options: PipelineOptions): pipelineApi.Environment {
  const type = (options.environmentType ?? "PROCESS").toUpperCase();
  // LOOPBACK: the portable runner replaces it by an EXTERNAL environment on a pool it starts.
  if (type === "LOOPBACK")
    return fireflyEnvironment(
      options.with({ environment_type: "PROCESS", environment_config: undefined }),
    );
  const builder = builders[type];
  if (!builder)
    throw new TypeError(
      `--environment_type=${options.environmentType} is not supported (${Object.keys(builders).join(", ")})`,
    );
  const { urn, payload } = builder(options.environmentConfig);
  return new pipelineApi.Environment({ urn, payload, capabilities: fireflyCapabilities() });
}
