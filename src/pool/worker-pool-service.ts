/**
 * `BeamFnExternalWorkerPool` (EXTERNAL environments): `StartWorker` starts a
 * Firefly worker with the request's endpoints and worker id — a child process
 * per worker, so a crashing worker cannot take the pool down — and
 * `StopWorker` stops it (SIGTERM, then SIGKILL after a grace period). Workers
 * that exit are reaped and logged. Errors are answered in the response's
 * `error` string, as the protocol defines.
 *
 * At most `maxWorkers` worker processes are alive at once: a StartWorker
 * beyond that is refused with gRPC status RESOURCE_EXHAUSTED (Beam's Java
 * runner, `ExternalEnvironmentFactory`, and Python's `ExternalWorkerHandler`
 * fail the environment on a status error as on a non-empty `error`). A
 * stopped worker keeps its slot until its process has exited.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
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

/**
 * Default cap on live workers: two per core. A runner starts about one
 * worker per task slot (slots ≈ cores) and each worker already runs a bundle
 * thread per core, so more only adds memory (~75 MB per idle worker); twice
 * leaves room for a restarted job overlapping workers that are still
 * stopping. At least 16, so small machines still serve a few jobs at once.
 */
export const DEFAULT_MAX_WORKERS = Math.max(16, 2 * availableParallelism());

export interface WorkerPoolOptions {
  /** Grace period between SIGTERM and SIGKILL on StopWorker. @default 5000 */
  stopGraceMs?: number;
  /** Live worker processes at most. @default DEFAULT_MAX_WORKERS */
  maxWorkers?: number;
}

/** StartWorker refused because `maxWorkers` processes are alive. */
export class PoolFullError extends Error {
  constructor(maxWorkers: number) {
    super(
      `the worker pool is full: ${maxWorkers} worker processes are running (--max_workers=${maxWorkers}); stop a worker or raise --max_workers`,
    );
    this.name = "PoolFullError";
  }
}

export interface PoolWorker {
  id: string;
  child: ChildProcess;
  startedAt: number;
}

export class WorkerPoolService {
  /** Workers by id, until stopped or exited. */
  readonly workers = new Map<string, PoolWorker>();
  /** Exits of workers, newest last (bounded). */
  readonly exits: { id: string; code: number | null; signal: string | null }[] = [];
  /** Processes not yet reaped (stopped ones too): what `maxWorkers` counts. */
  private readonly live = new Set<ChildProcess>();
  readonly maxWorkers: number;
  private readonly stopGraceMs: number;

  constructor(
    private readonly launcher: WorkerLauncher,
    private readonly logger: Logger,
    options: WorkerPoolOptions = {},
  ) {
    this.stopGraceMs = options.stopGraceMs ?? 5000;
    this.maxWorkers = options.maxWorkers ?? DEFAULT_MAX_WORKERS;
    if (!Number.isSafeInteger(this.maxWorkers) || this.maxWorkers < 1)
      throw new RangeError(`maxWorkers must be a positive integer, got ${this.maxWorkers}`);
  }

  /** Worker processes alive now (started and not yet exited). */
  get liveWorkers(): number {
    return this.live.size;
  }

  /** The grpc-js implementation of the service. */
  implementation(): grpc.UntypedServiceImplementation {
    return {
      StartWorker: (
        call: grpc.ServerUnaryCall<fnApi.StartWorkerRequest, fnApi.StartWorkerResponse>,
        callback: grpc.sendUnaryData<fnApi.StartWorkerResponse>,
      ) => {
        let error: string | undefined;
        try {
          error = this.startWorker(call.request);
        } catch (err) {
          if (!(err instanceof PoolFullError)) throw err;
          callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: err.message });
          return;
        }
        callback(null, new fnApi.StartWorkerResponse({ error: error ?? "" }));
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

  /**
   * Starts a worker; returns an error message for a bad request, or
   * undefined. Throws PoolFullError when `maxWorkers` processes are alive.
   */
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
    if (this.live.size >= this.maxWorkers) {
      const full = new PoolFullError(this.maxWorkers);
      this.logger.warn({ workerId: id, live: this.live.size }, full.message);
      throw full;
    }
    let child: ChildProcess;
    try {
      child = this.launcher.start(args);
    } catch (err) {
      return `cannot start worker ${JSON.stringify(id)}: ${err instanceof Error ? err.message : String(err)}`;
    }
    const worker: PoolWorker = { id, child, startedAt: Date.now() };
    this.workers.set(id, worker);
    this.live.add(child);
    const forget = () => {
      this.live.delete(child);
      if (this.workers.get(id) === worker) this.workers.delete(id);
    };
    child.on("error", (err) => {
      this.logger.warn({ workerId: id, err }, "worker process error");
      if (child.pid === undefined) forget(); // never spawned: no exit will come
    });
    child.on("exit", (code, signal) => {
      forget();
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
    const children = [...this.live];
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
