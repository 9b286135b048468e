/**
 * Runs the real worker (`bin/firefly boot`) as a child process for
 * integration tests, and reads its memory from /proc.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { FakeRunner } from "./fake-runner.js";
import { fireflyBin } from "./paths.js";

export interface WorkerProcess {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident set size and its peak (VmRSS, VmHWM) in bytes. */
  memory(): { rss: number; hwm: number };
  stop(): Promise<void>;
}

export function startWorker(
  runnerUrl: string,
  options: { id?: string; threads?: number; extraArgs?: string[]; logging?: boolean } = {},
): WorkerProcess {
  const args = [
    fireflyBin,
    "boot",
    `--id=${options.id ?? "worker-1"}`,
    `--control_endpoint=${runnerUrl}`,
    `--threads=${options.threads ?? 0}`,
    "--connect_timeout_ms=10000",
    ...(options.logging === false ? [] : [`--logging_endpoint=${runnerUrl}`]),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    err += chunk;
    if (err.length > 4_000_000) err = err.slice(-2_000_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stderr: () => err,
    exited,
    memory() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
      const kb = (name: string) =>
        Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
      return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** A FakeRunner with the real worker connected to it (the usual integration-test fixture). */
export interface WorkerSession {
  runner: FakeRunner;
  worker: WorkerProcess;
  /** Ends the control stream, waits (bounded) for the worker to exit, then stops both. */
  stop(): Promise<void>;
}

export async function startWorkerSession(
  options: Parameters<typeof startWorker>[1] & {
    /** The worker opens its status stream to the runner (`runner.requestStatus()`). */
    status?: boolean;
  } = {},
): Promise<WorkerSession> {
  const runner = await FakeRunner.start();
  const worker = startWorker(runner.url, {
    ...options,
    extraArgs: [
      ...(options.extraArgs ?? []),
      ...(options.status ? [`--status_endpoint=${runner.url}`] : []),
    ],
  });
  await runner.controlStream();
  if (options.status) {
    const deadline = Date.now() + 15_000;
    while (runner.requestStatus() === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
  }
  return {
    runner,
    worker,
    async stop() {
      runner.closeControl();
      await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
      await worker.stop();
      runner.stop();
    },
  };
}
