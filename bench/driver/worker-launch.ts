/**
 * Starts the workers a benchmark compares, the way runners start them (PROCESS
 * mode: a command with boot flags), and reads their cost from /proc:
 *   - Firefly: `bin/firefly boot --id --control_endpoint --logging_endpoint
 *     [--threads] [--metrics_port]`
 *   - apache-beam 2.49: its `apache-beam-worker` bin (`worker/worker_main.js`)
 *     with `--id --control_endpoint --logging_endpoint --options=<json>`, as
 *     Beam's TypeScript container boot runs it.
 * Node flags (e.g. `--cpu-prof`) go before the script.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fireflyBin } from "../../test/support/paths.js";

/** `echo`: the transport floor (bench/driver/echo-worker.ts), for latency. */
export type WorkerKind = "firefly" | "beam" | "echo";

export interface LaunchOptions {
  /** Firefly `--threads` (undefined: the worker's default, one per core). */
  threads?: number;
  /** Firefly `--metrics_port` (the Prometheus endpoint). */
  metricsPort?: number;
  /** Flags for the worker's `node` (before the script), e.g. `--cpu-prof`. */
  nodeFlags?: string[];
}

/** What a worker process costs so far. */
export interface Usage {
  /** user + system CPU time of the process (all its threads), ms. */
  cpuMs: number;
  /** Peak resident set size (VmHWM), bytes. */
  peakRssBytes: number;
}

export interface BenchWorker {
  kind: WorkerKind;
  pid: number;
  usage(): Usage;
  stderr(): string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** Node flags for every Firefly worker of this run (`--cpu-prof` profiling). */
const fireflyNodeFlags: string[] = [];

/** Makes every Firefly worker started from now on write a CPU profile into `dir`. */
export function profileFireflyWorkers(dir: string): void {
  fireflyNodeFlags.splice(0, fireflyNodeFlags.length, "--cpu-prof", `--cpu-prof-dir=${dir}`);
}

/** apache-beam's worker entry point (the package's `apache-beam-worker` bin). */
export const beamWorkerMain = path.join(
  path.dirname(require.resolve("apache-beam")),
  "worker/worker_main.js",
);

/** A label for tables: `Firefly` / `Firefly threads=2` / `apache-beam 2.49`. */
export function workerLabel(kind: WorkerKind, options: LaunchOptions = {}): string {
  if (kind === "beam") return "apache-beam 2.49";
  if (kind === "echo") return "grpc-js floor (echo worker)";
  const parts = ["Firefly"];
  if (options.threads !== undefined) parts.push(`threads=${options.threads}`);
  if (options.metricsPort !== undefined) parts.push("metrics on");
  return parts.join(" ");
}

/** The echo worker's script (compiled next to this file). */
const echoWorkerMain = new URL("./echo-worker.js", import.meta.url).pathname;

function scriptArgs(kind: WorkerKind, id: string, url: string, options: LaunchOptions): string[] {
  if (kind === "echo") return [echoWorkerMain, `--id=${id}`, `--control_endpoint=${url}`];
  if (kind === "beam") {
    return [
      beamWorkerMain,
      `--id=${id}`,
      `--control_endpoint=${url}`,
      `--logging_endpoint=${url}`,
      "--options={}",
    ];
  }
  return [
    fireflyBin,
    "boot",
    `--id=${id}`,
    `--control_endpoint=${url}`,
    `--logging_endpoint=${url}`,
    "--connect_timeout_ms=10000",
    ...(options.threads === undefined ? [] : [`--threads=${options.threads}`]),
    ...(options.metricsPort === undefined ? [] : [`--metrics_port=${options.metricsPort}`]),
  ];
}

/** Starts a worker of `kind` that connects to the runner at `url`. */
export function launchWorker(
  kind: WorkerKind,
  url: string,
  id: string,
  options: LaunchOptions = {},
): BenchWorker {
  const nodeFlags = [...(kind === "firefly" ? fireflyNodeFlags : []), ...(options.nodeFlags ?? [])];
  const args = [...nodeFlags, ...scriptArgs(kind, id, url, options)];
  // stdout ignored: Beam's worker console.logs every control request.
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start the ${kind} worker`);
  const pid = child.pid;
  let err = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    err += chunk;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    kind,
    pid,
    usage: () => readUsage(pid),
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time (utime + stime, ms) of each thread of a live process, by thread id. */
export function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), cpuMsOfStat(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function cpuMsOfStat(stat: string): number {
  // Fields after the command name "(...)": state is field 3; utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU time (utime + stime) and VmHWM of a live process. */
export function readUsage(pid: number): Usage {
  const cpuMs = cpuMsOfStat(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const hwmKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return { cpuMs, peakRssBytes: hwmKb * 1024 };
}
