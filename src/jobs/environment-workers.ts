/**
 * How the job server starts a job's workers, by the environment's URN (a
 * registry): EXTERNAL asks the worker pool at the environment's address to
 * `StartWorker` with the job's Fn API endpoints; PROCESS runs the
 * environment's command with Beam's boot flags; DOCKER runs the image with
 * the same flags (host network) when a docker CLI is available, else the job
 * fails with a clear error.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { endpointsApi, fnApi, pipelineApi } from "../../proto/index.js";
import { terminate } from "../pool/worker-pool-service.js";
import type { LaunchedWorker, WorkerLauncher } from "../runner/workers.js";

export interface LaunchContext {
  /** The job server's ArtifactRetrievalService (host:port). */
  artifactEndpoint: string;
  /** Called with a worker's stderr lines (PROCESS/DOCKER). */
  onWorkerOutput?: (workerId: string, line: string) => void;
}

type LauncherFactory = (env: pipelineApi.Environment, context: LaunchContext) => WorkerLauncher;

const factories = new Map<string, LauncherFactory>();

export function registerEnvironmentLauncher(urn: string, factory: LauncherFactory): void {
  factories.set(urn, factory);
}

export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnvironmentError";
  }
}

/** The launcher for a job's environment; throws EnvironmentError when it cannot be honoured. */
export function environmentLauncher(
  env: pipelineApi.Environment,
  context: LaunchContext,
): WorkerLauncher {
  const factory = factories.get(env.urn);
  if (!factory)
    throw new EnvironmentError(
      `environment ${JSON.stringify(env.urn)} is not supported by this job server (supported: ${[...factories.keys()].join(", ")})`,
    );
  return factory(env, context);
}

function bootFlags(id: string, url: string, context: LaunchContext): string[] {
  return [
    `--id=${id}`,
    `--provision_endpoint=${url}`,
    `--control_endpoint=${url}`,
    `--logging_endpoint=${url}`,
    `--artifact_endpoint=${context.artifactEndpoint}`,
  ];
}

/** A worker process: exits are reported, stop = SIGTERM then SIGKILL. */
function processWorker(
  child: ChildProcess,
  id: string,
  what: string,
  context: LaunchContext,
): LaunchedWorker {
  let tail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-16_000);
    for (const line of chunk.split("\n")) if (line) context.onWorkerOutput?.(id, line);
  });
  const exited = new Promise<string>((resolve) => {
    child.once("error", (err) => resolve(`${what} could not start: ${err.message}`));
    child.once("exit", (code, signal) =>
      resolve(`${what} exited with ${signal ?? `code ${code}`}${tail ? `:\n${tail}` : ""}`),
    );
  });
  return { exited, stop: () => terminate(child, 5000) };
}

/** Splits a command line on whitespace, honouring simple single and double quotes. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  for (const match of command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g))
    words.push(match[1] ?? match[2] ?? match[3]);
  return words;
}

registerEnvironmentLauncher("beam:env:process:v1", (env, context) => {
  const payload = pipelineApi.ProcessPayload.deserializeBinary(env.payload);
  const [executable, ...args] = splitCommand(payload.command);
  if (!executable) throw new EnvironmentError("the PROCESS environment has no command");
  return ({ id, url }) => {
    const child = spawn(executable, [...args, ...bootFlags(id, url, context)], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...Object.fromEntries(payload.env) },
    });
    return Promise.resolve(processWorker(child, id, `worker ${id} (${payload.command})`, context));
  };
});

registerEnvironmentLauncher("beam:env:docker:v1", (env, context) => {
  const image = pipelineApi.DockerPayload.deserializeBinary(env.payload).container_image;
  const docker = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], {
    encoding: "utf8",
  });
  if (docker.status !== 0)
    throw new EnvironmentError(
      `the DOCKER environment (image ${image}) needs a working docker CLI and daemon on the job server's machine: ${(docker.error?.message ?? docker.stderr).trim()}; use --environment_type=PROCESS, EXTERNAL or LOOPBACK here`,
    );
  return ({ id, url }) => {
    const child = spawn(
      "docker",
      ["run", "--rm", "--network=host", image, ...bootFlags(id, url, context)],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    return Promise.resolve(processWorker(child, id, `worker ${id} (docker ${image})`, context));
  };
});

function unary<Req, Res>(
  method: (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, (err, res) =>
      err || !res ? reject(err ?? new Error("no response")) : resolve(res),
    ),
  );
}

registerEnvironmentLauncher("beam:env:external:v1", (env, context) => {
  const address = pipelineApi.ExternalPayload.deserializeBinary(env.payload).endpoint?.url;
  if (!address) throw new EnvironmentError("the EXTERNAL environment names no worker pool address");
  return async ({ id, url }) => {
    const client = new fnApi.BeamFnExternalWorkerPoolClient(
      address,
      grpc.credentials.createInsecure(),
    );
    const endpoint = (u: string) => new endpointsApi.ApiServiceDescriptor({ url: u });
    try {
      const response = await unary<fnApi.StartWorkerRequest, fnApi.StartWorkerResponse>(
        client.StartWorker.bind(client),
        new fnApi.StartWorkerRequest({
          worker_id: id,
          control_endpoint: endpoint(url),
          logging_endpoint: endpoint(url),
          provision_endpoint: endpoint(url),
          artifact_endpoint: endpoint(context.artifactEndpoint),
        }),
      );
      if (response.error) throw new Error(response.error);
    } catch (err) {
      client.close();
      throw new EnvironmentError(
        `the worker pool at ${address} did not start worker ${id}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return {
      async stop() {
        await unary<fnApi.StopWorkerRequest, fnApi.StopWorkerResponse>(
          client.StopWorker.bind(client),
          new fnApi.StopWorkerRequest({ worker_id: id }),
        ).catch(() => undefined);
        client.close();
      },
    };
  };
});
