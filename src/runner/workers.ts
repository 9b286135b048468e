/**
 * Firefly workers for the local runner: in-process harnesses (the default)
 * connected over loopback gRPC, or `firefly boot` child processes
 * (`--workers=N`), each opening Control/Data/State/Logging to the runner's
 * Fn API server.
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { FnHarness } from "../../harness/fn-harness.js";
import { DEFAULT_GRPC_SETTINGS } from "../../harness/grpc-settings.js";
import { LogForwarder } from "../../harness/logging/log-forwarder.js";
import { createHarnessLogger } from "../../harness/logging/logger.js";
import type { FnApiServer } from "./fn-api/server.js";
import type { WorkerConnection } from "./fn-api/worker-connection.js";

export interface WorkerHandle {
  id: string;
  connection: WorkerConnection;
  /** Bundles this worker runs at once. */
  slots: number;
  stop(): Promise<void>;
}

export interface WorkerSettings {
  /** Bundle threads per worker (0 = inline on the worker's main thread). */
  threads: number | undefined;
  logLevel: string;
  pipelineOptions: Record<string, unknown>;
  connectTimeoutMs: number;
}

const FIREFLY_BIN = fileURLToPath(new URL("../../../bin/firefly", import.meta.url));

export async function startInProcessWorker(
  server: FnApiServer,
  id: string,
  settings: WorkerSettings,
): Promise<WorkerHandle> {
  const log = createHarnessLogger({ level: settings.logLevel, stderr: false });
  log.attachForwarder(new LogForwarder(server.url, { workerId: id, grpc: DEFAULT_GRPC_SETTINGS }));
  const harness = new FnHarness({
    workerId: id,
    controlUrl: server.url,
    loggingUrl: server.url,
    threads: settings.threads,
    logLevel: settings.logLevel,
    pipelineOptions: settings.pipelineOptions,
    logger: log.logger,
  });
  const running = harness.run().finally(() => log.close());
  running.catch(() => undefined);
  const connection = await withTimeout(server.worker(id), settings.connectTimeoutMs, id);
  return {
    id,
    connection,
    slots: Math.max(1, harness.config.threads),
    async stop() {
      connection.close();
      await harness.stop();
      await running.catch(() => undefined);
    },
  };
}

export async function startChildWorker(
  server: FnApiServer,
  id: string,
  settings: WorkerSettings,
): Promise<WorkerHandle> {
  const args = [
    FIREFLY_BIN,
    "boot",
    `--id=${id}`,
    `--control_endpoint=${server.url}`,
    `--logging_endpoint=${server.url}`,
    `--provision_endpoint=${server.url}`,
    `--log_level=${settings.logLevel}`,
    `--connect_timeout_ms=${settings.connectTimeoutMs}`,
    ...(settings.threads === undefined ? [] : [`--threads=${settings.threads}`]),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-64_000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const died = exited.then((code) => {
    throw new Error(
      `worker ${id} (firefly boot) exited with code ${code} before connecting:\n${stderr}`,
    );
  });
  const connection = await Promise.race([
    withTimeout(server.worker(id), settings.connectTimeoutMs, id),
    died,
  ]);
  return {
    id,
    connection,
    slots: Math.max(1, settings.threads ?? availableParallelism()),
    async stop() {
      connection.close();
      if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** A worker started by someone else (a worker pool, an environment's command); it connects to `url`. */
export interface LaunchedWorker {
  stop(): Promise<void>;
  /** Settles with a description when the worker is gone (e.g. its process exited). */
  exited?: Promise<string>;
}

/** Starts worker `id` that opens its streams to the runner's Fn API endpoint `url`. */
export type WorkerLauncher = (request: {
  id: string;
  url: string;
  settings: WorkerSettings;
}) => Promise<LaunchedWorker>;

export async function startLaunchedWorker(
  server: FnApiServer,
  id: string,
  settings: WorkerSettings,
  launch: WorkerLauncher,
): Promise<WorkerHandle> {
  const launched = await launch({ id, url: server.url, settings });
  let connection: WorkerConnection;
  try {
    const gone = launched.exited?.then((why) => {
      throw new Error(`worker ${id} ended before connecting: ${why}`);
    });
    gone?.catch(() => undefined);
    connection = await Promise.race([
      withTimeout(server.worker(id), settings.connectTimeoutMs, id),
      ...(gone ? [gone] : []),
    ]);
  } catch (err) {
    await launched.stop();
    throw err;
  }
  return {
    id,
    connection,
    slots: Math.max(1, settings.threads ?? availableParallelism()),
    async stop() {
      connection.close();
      await launched.stop();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, id: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker ${id} did not connect within ${ms} ms`)),
      ms,
    );
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
