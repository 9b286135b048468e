/**
 * `firefly jobserver [--port=8099] [--host=127.0.0.1] [--artifacts_dir=DIR]
 * [--in_process_workers]`: Firefly's Beam job server (JobService +
 * ArtifactStagingService); jobs run on the local runner with workers started
 * as their environment says.
 */
import { parseArgs } from "node:util";
import { startJobServer } from "../jobs/job-service.js";
import type { Command } from "./main.js";

export const jobserverCommand: Command = {
  name: "jobserver",
  summary: "serve Beam's Job API (JobService, artifact staging); jobs run on the local runner",
  usage: `usage: firefly jobserver [--port=8099] [--host=127.0.0.1] [--artifacts_dir=DIR] [--in_process_workers]

Serves Beam's Job API (JobService and ArtifactStagingService): submit with
--runner=portable --job_endpoint=HOST:PORT. Jobs run on Firefly's local runner,
with workers started as each pipeline's environment says (PROCESS, EXTERNAL,
LOOPBACK, DOCKER).

options:
  --port=P               port to listen on (0 picks a free one)     default 8099
  --host=H               address to bind                             default 127.0.0.1
  --artifacts_dir=DIR    where staged artifacts are kept             default a temporary directory
  --in_process_workers   run environments that start 'firefly boot' inside the job server
  --help, -h             print this help`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        artifacts_dir: { type: "string" },
        in_process_workers: { type: "boolean" },
      },
      strict: true,
    });
    const port = Number(values.port ?? 8099);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`firefly jobserver: --port must be 0..65535, got ${values.port}`);
    const server = await startJobServer({
      host: values.host ?? "127.0.0.1",
      port,
      ...(values.artifacts_dir ? { artifactsDir: values.artifacts_dir } : {}),
      inProcessWorkers: values.in_process_workers ?? false,
    });
    console.log(`firefly jobserver listening on ${server.url}`);
    await new Promise<void>((resolve) => {
      process.once("SIGTERM", () => resolve());
      process.once("SIGINT", () => resolve());
    });
    await server.stop();
    return 0;
  },
};
