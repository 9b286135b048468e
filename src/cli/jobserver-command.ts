/**
 * `firefly jobserver [--port=8099] [--host=127.0.0.1] [--artifacts_dir=DIR]
 * [--in_process_workers]`: Firefly's Beam job server (JobService +
 * ArtifactStagingService); jobs run on the local runner with workers started
 * as their environment says.
 */
import { parseArgs } from "node:util";
import { JOB_SERVER_MAX_MESSAGE_BYTES, startJobServer } from "../jobs/job-service.js";
import { exposureWarning } from "../pool/exposed-address.js";
import type { Command } from "./main.js";

export const jobserverCommand: Command = {
  name: "jobserver",
  summary: "serve Beam's Job API (JobService, artifact staging); jobs run on the local runner",
  usage: `usage: firefly jobserver [--port=8099] [--host=127.0.0.1] [--artifacts_dir=DIR] [--in_process_workers]
                         [--max_message_bytes=B]

Serves Beam's Job API (JobService and ArtifactStagingService): submit with
--runner=portable --job_endpoint=HOST:PORT. Jobs run on Firefly's local runner,
with workers started as each pipeline's environment says (PROCESS, EXTERNAL,
LOOPBACK, DOCKER). Whoever reaches it runs code (a PROCESS environment runs any
command): keep it on 127.0.0.1 or a private network; binding 0.0.0.0 or ::
logs a warning.

options:
  --port=P               port to listen on (0 picks a free one)     default 8099
  --host=H               address to bind                             default 127.0.0.1
  --artifacts_dir=DIR    where staged artifacts are kept             default a private temporary directory
                         (this user's, not writable by others; a job's files are removed when it ends)
  --in_process_workers   run environments that start 'firefly boot' inside the job server
  --max_message_bytes=B  largest message read (Prepare, staging)   default ${JOB_SERVER_MAX_MESSAGE_BYTES} (64 MiB)
  --help, -h             print this help`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        artifacts_dir: { type: "string" },
        in_process_workers: { type: "boolean" },
        max_message_bytes: { type: "string" },
      },
      strict: true,
    });
    const port = Number(values.port ?? 8099);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`firefly jobserver: --port must be 0..65535, got ${values.port}`);
    const maxMessageBytes = Number(values.max_message_bytes ?? JOB_SERVER_MAX_MESSAGE_BYTES);
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1)
      throw new Error(
        `firefly jobserver: --max_message_bytes must be a positive integer, got ${values.max_message_bytes}`,
      );
    const host = values.host ?? "127.0.0.1";
    const warning = exposureWarning("the job server", host);
    if (warning) console.error(`firefly jobserver: warning: ${warning}`);
    const server = await startJobServer({
      host,
      port,
      ...(values.artifacts_dir ? { artifactsDir: values.artifacts_dir } : {}),
      inProcessWorkers: values.in_process_workers ?? false,
      maxMessageBytes,
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
