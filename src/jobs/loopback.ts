/**
 * LOOPBACK: a Firefly worker pool (`BeamFnExternalWorkerPool`) served from the
 * submitting process on 127.0.0.1; the runner asks it to start workers
 * (`firefly boot` children of this process) for the job.
 */
import { pino } from "pino";
import { startPoolServer } from "../cli/pool-command.js";
import { FIREFLY_BIN } from "../pipeline/environment.js";
import { bootLauncher, WorkerPoolService } from "../pool/worker-pool-service.js";

export interface LoopbackPool {
  /** host:port of the pool. */
  address: string;
  stop(): Promise<void>;
}

export async function startLoopbackPool(): Promise<LoopbackPool> {
  const logger = pino(
    { level: "warn", base: { role: "loopback-pool" } },
    pino.destination({ dest: 2, sync: true }),
  );
  const service = new WorkerPoolService(bootLauncher(FIREFLY_BIN, ["--log_level=warn"]), logger);
  const { server, port } = await startPoolServer("127.0.0.1", 0, service);
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      await service.stopAll();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
