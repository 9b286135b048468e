/**
 * `BeamFnExternalWorkerPool` (EXTERNAL environments): `StartWorker` starts a
 * Firefly worker with the request's endpoints and worker id — a child process
 * per worker, so a crashing worker cannot take the pool down — and
 * `StopWorker` stops it (SIGTERM, then SIGKILL after a grace period). Workers
 * that exit are reaped and logged. Errors are answered in the response's
 * `error` string, as the protocol defines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { fnApi } from "../../proto/index.js";

export interface WorkerLauncher {
  /** Starts a worker process; the pool watches its `exit`. */
  start(args: string[]): ChildProcess;
}

/** Runs `firefly boot` with the current Node binary. */
export function bootLauncher(fireflyBin: string, extraArgs: string[] = []): WorkerLauncher {
  return {
    start: (args) =>
      spawn(process.execPath, [fireflyBin, "boot", ...args, ...extraArgs], {
        stdio: ["ignore", "inherit", "inherit"],
      }),
  };
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** Whether an endpoint url is a plain `host:port` (what the pool accepts). */
export function isHostPort(url: string): boolean {
  if (!HOST_PORT.test(url)) return false;
  const port = Number(url.slice(url.lastIndexOf(":") + 1));
  return port > 0 && port < 65536;
}

export interface PoolWorker {
  id: string;
  child: ChildProcess;
  startedAt: number;
}

export class WorkerPoolService {
  readonly workers = new Map<string, PoolWorker>();
  /** Exits of workers, newest last (bounded). */
  readonly exits: { id: string; code: number | null; signal: string | null }[] = [];

  constructor(
    private readonly launcher: WorkerLauncher,
    private readonly logger: Logger,
    private readonly stopGraceMs = 5000,
  ) {}

  /** The grpc-js implementation of the service. */
  implementation(): grpc.UntypedServiceImplementation {
    return {
      StartWorker: (
        call: grpc.ServerUnaryCall<fnApi.StartWorkerRequest, fnApi.StartWorkerResponse>,
        callback: grpc.sendUnaryData<fnApi.StartWorkerResponse>,
      ) => {
        callback(
          null,
          new fnApi.StartWorkerResponse({ error: this.startWorker(call.request) ?? "" }),
        );
      },
      StopWorker: (
        call: grpc.ServerUnaryCall<fnApi.StopWorkerRequest, fnApi.StopWorkerResponse>,
        callback: grpc.sendUnaryData<fnApi.StopWorkerResponse>,
      ) => {
        callback(
          null,
          new fnApi.StopWorkerResponse({ error: this.stopWorker(call.request.worker_id) ?? "" }),
        );
      },
    };
  }

  /** Starts a worker; returns an error message or undefined. */
  startWorker(request: fnApi.StartWorkerRequest): string | undefined {
    const id = request.worker_id;
    if (!id) return "StartWorker needs a worker_id";
    if (this.workers.has(id)) return `worker ${JSON.stringify(id)} is already running`;
    const control = request.control_endpoint?.url ?? "";
    if (!control && !request.provision_endpoint?.url)
      return "StartWorker needs a control_endpoint or a provision_endpoint";
    const args = [`--id=${id}`];
    const endpoints: [string, string | undefined][] = [
      ["control_endpoint", request.control_endpoint?.url],
      ["logging_endpoint", request.logging_endpoint?.url],
      ["artifact_endpoint", request.artifact_endpoint?.url],
      ["provision_endpoint", request.provision_endpoint?.url],
    ];
    for (const [flag, url] of endpoints) {
      if (!url) continue;
      if (!isHostPort(url)) return `${flag} ${JSON.stringify(url)} is not host:port`;
      args.push(`--${flag}=${url}`);
    }
    let child: ChildProcess;
    try {
      child = this.launcher.start(args);
    } catch (err) {
      return `cannot start worker ${JSON.stringify(id)}: ${err instanceof Error ? err.message : String(err)}`;
    }
    const worker: PoolWorker = { id, child, startedAt: Date.now() };
    this.workers.set(id, worker);
    child.on("error", (err) => this.logger.warn({ workerId: id, err }, "worker process error"));
    child.on("exit", (code, signal) => {
      if (this.workers.get(id) === worker) this.workers.delete(id);
      this.exits.push({ id, code, signal });
      if (this.exits.length > 1000) this.exits.shift();
      this.logger.info({ workerId: id, code, signal }, "worker exited");
    });
    this.logger.info({ workerId: id, pid: child.pid }, "worker started");
    return undefined;
  }

  /** Stops a worker; returns an error message or undefined. */
  stopWorker(id: string): string | undefined {
    const worker = this.workers.get(id);
    if (!worker) return `no running worker ${JSON.stringify(id)}`;
    this.workers.delete(id);
    terminate(worker.child, this.stopGraceMs);
    return undefined;
  }

  /** Stops every worker and waits (bounded) for them to exit. */
  async stopAll(): Promise<void> {
    const children = [...this.workers.values()].map((w) => w.child);
    this.workers.clear();
    await Promise.all(children.map((child) => terminate(child, this.stopGraceMs)));
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process exited. */
export function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
