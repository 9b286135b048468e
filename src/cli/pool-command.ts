/**
 * `firefly pool`: serves `BeamFnExternalWorkerPool` for EXTERNAL
 * environments (`--environment_type=EXTERNAL --environment_config=HOST:PORT`).
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { fnApi } from "../../proto/index.js";
import { exposureWarning } from "../pool/exposed-address.js";
import {
  bootLauncher,
  DEFAULT_MAX_WORKERS,
  WorkerPoolService,
} from "../pool/worker-pool-service.js";
import type { Command } from "./main.js";

/** The `bin/firefly` launcher of this installation. */
export const FIREFLY_BIN = path.resolve(
  fileURLToPath(new URL("../../../bin/firefly", import.meta.url)),
);

export async function startPoolServer(
  host: string,
  port: number,
  service: WorkerPoolService,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(
    fnApi.UnimplementedBeamFnExternalWorkerPoolService.definition,
    service.implementation(),
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port: bound };
}

export const poolCommand: Command = {
  name: "pool",
  summary: "serve BeamFnExternalWorkerPool (EXTERNAL mode): StartWorker/StopWorker",
  usage: `usage: firefly pool [--port=50000] [--host=127.0.0.1] [--threads=N] [--max_workers=N]

Serves Beam's BeamFnExternalWorkerPool for EXTERNAL environments
(--environment_type=EXTERNAL --environment_config=HOST:PORT). Each StartWorker
starts one worker process with the request's endpoints and worker id;
StopWorker stops it. Whoever reaches the pool can start workers (processes
of this user) against any runner: keep it on 127.0.0.1 or a private network;
binding 0.0.0.0 or :: logs a warning. Beyond --max_workers live workers,
StartWorker is refused with RESOURCE_EXHAUSTED (exited workers free their slot).

options:
  --port=P         port to listen on (0 picks a free one)       default 50000
  --host=H         address to bind                               default 127.0.0.1
  --threads=N      bundle threads of each worker (0 = inline)    default one per core
  --max_workers=N  worker processes alive at once                default max(16, 2 x cores) = ${DEFAULT_MAX_WORKERS}
  --help, -h       print this help`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        threads: { type: "string" },
        max_workers: { type: "string" },
      },
      strict: true,
    });
    const port = Number(values.port ?? 50000);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`firefly pool: --port must be 0..65535, got ${values.port}`);
    const maxWorkers = Number(values.max_workers ?? DEFAULT_MAX_WORKERS);
    if (!Number.isSafeInteger(maxWorkers) || maxWorkers < 1)
      throw new Error(
        `firefly pool: --max_workers must be a positive integer, got ${values.max_workers}`,
      );
    const host = values.host ?? "127.0.0.1";
    const logger = pino(
      { base: { pid: process.pid, role: "pool" } },
      pino.destination({ dest: 2, sync: true }),
    );
    const extra = values.threads === undefined ? [] : [`--threads=${values.threads}`];
    const service = new WorkerPoolService(bootLauncher(FIREFLY_BIN, extra), logger, {
      maxWorkers,
    });
    const { server, port: bound } = await startPoolServer(host, port, service);
    const warning = exposureWarning("the worker pool", host);
    if (warning) logger.warn({ host }, warning);
    logger.info({ address: `${host}:${bound}`, maxWorkers }, "worker pool listening");
    console.log(`firefly pool listening on ${host}:${bound}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
    await service.stopAll();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    return 0;
  },
};
