/**
 * Benchmarks: `node dist/bench/main.js [case...] [--full] [--cpu-prof]` (or
 * `npm run bench -- ...`). No case runs every quick case; `--full` uses the
 * long profile; `--cpu-prof` profiles the Firefly workers (node --cpu-prof)
 * and prints their top self-time functions. Each case
 * prints a table and writes `bench/results/<YYYY-MM-DD>-<case>.json` with the
 * machine's cores, CPU model and Node version; every run rewrites the chart
 * `bench/results/latest.html` from the newest result of each case.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { writeChart } from "./driver/chart.js";
import { topSelfTime } from "./driver/cpu-profile.js";
import { profileFireflyWorkers } from "./driver/worker-launch.js";
import { FULL, machineInfo, QUICK, type MachineInfo, type Profile } from "./measure.js";

/** What a case module exports. */
export interface BenchCaseModule {
  run(profile: Profile): Promise<BenchResult> | BenchResult;
}

/** A case's result (written as JSON). */
export interface BenchResult {
  /** A printable table. */
  table: string;
  /** Everything else, as the case likes. */
  data: unknown;
}

interface BenchCase {
  description: string;
  /** Part of the no-argument quick run. */
  quick: boolean;
  load(): Promise<BenchCaseModule>;
}

/** Every benchmark case by name. */
export const BENCH_CASES: Readonly<Record<string, BenchCase>> = {
  coders: {
    description:
      "Firefly vs apache-beam coders: windowed KV, 1 KiB bytes, 100 varints, an 8-field row",
    quick: true,
    load: () => import("./cases/coders.js"),
  },
  throughput: {
    description:
      "(a) small kv elements in one bundle through 1 and 3 identity ParDos, Firefly vs the apache-beam worker",
    quick: true,
    load: () => import("./cases/throughput.js"),
  },
  large: {
    description: "(b) 100 KiB elements in one bundle through an identity ParDo",
    quick: true,
    load: () => import("./cases/large.js"),
  },
  latency: {
    description: "(c) sequential 1-element bundles: p50/p99 bundle latency",
    quick: true,
    load: () => import("./cases/latency.js"),
  },
  concurrency: {
    description: "(d) 64 bundles of small kv elements in flight at once",
    quick: true,
    load: () => import("./cases/concurrency.js"),
  },
  "side-input": {
    description: "(e) multimap side input lookups (10,000 entries), with and without cache tokens",
    quick: true,
    load: () => import("./cases/side-input.js"),
  },
  state: {
    description: "(f) bag user state: 1,000 keys, read + add per element",
    quick: true,
    load: () => import("./cases/state.js"),
  },
  threads: {
    description: "(g) CPU-heavy DoFn over 8 concurrent bundles at threads 0/1/2; pool overhead",
    quick: true,
    load: () => import("./cases/threads.js"),
  },
  "state-threads": {
    description:
      "(h) side-input join and bag state at threads=2 vs inline (state from pool threads)",
    quick: true,
    load: () => import("./cases/state-threads.js"),
  },
  streamed: {
    description:
      "(j) 1M small kv elements streamed in 1 MiB messages vs pre-sent, default settings and inline, vs the apache-beam worker; peak RSS",
    quick: true,
    load: () => import("./cases/streamed.js"),
  },
  "read-text": {
    description:
      "(k) one large text file through readText on the local runner: byte ranges at threads 2 vs 1, vs the whole file",
    quick: false,
    load: () => import("./cases/read-text.js"),
  },
  batches: {
    description:
      "(l) kv(string, double) through value*2+1 and a running per-key sum: processBatch (Arrow columns) vs per-element process — decode and encode alone, the stage in process, and through the data plane beside the apache-beam and echo workers",
    quick: true,
    load: () => import("./cases/batches.js"),
  },
  metrics: {
    description: "(i) Prometheus endpoint on vs off on case (a)",
    quick: true,
    load: () => import("./cases/metrics.js"),
  },
};

const RESULTS_DIR = fileURLToPath(new URL("../../bench/results/", import.meta.url));

interface ResultFile {
  case: string;
  date: string;
  profile: Profile;
  machine: MachineInfo;
  data: unknown;
}

async function runCase(name: string, profile: Profile, cpuProfDir?: string): Promise<void> {
  const bench = BENCH_CASES[name];
  if (!bench)
    throw new TypeError(
      `unknown bench case ${JSON.stringify(name)} (known: ${Object.keys(BENCH_CASES).join(", ")})`,
    );
  const machine = machineInfo();
  console.log(`# ${name} (${profile.name}): ${bench.description}`);
  console.log(`# ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}`);
  const result = await (await bench.load()).run(profile);
  console.log(result.table);
  const date = new Date().toISOString().slice(0, 10);
  const file: ResultFile = {
    case: name,
    date: new Date().toISOString(),
    profile,
    machine,
    data: cpuProfDir ? { cpuProfile: topSelfTime(cpuProfDir, 25), run: result.data } : result.data,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const out = `${RESULTS_DIR}${date}-${name}${cpuProfDir ? "-cpu-prof" : ""}.json`;
  fs.writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`# wrote ${out}`);
  if (cpuProfDir) {
    console.log(`# Firefly workers' top self time (${cpuProfDir}):`);
    for (const t of topSelfTime(cpuProfDir))
      console.log(
        `#   ${t.percent.toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(7)} ms  ${t.fn}`,
      );
  }
}

const OPTIONS = ["--full", "--cpu-prof"];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const full = args.includes("--full");
  const unknown = args.filter((a) => a.startsWith("--") && !OPTIONS.includes(a));
  if (unknown.length > 0)
    throw new TypeError(`unknown option ${unknown[0]} (options: ${OPTIONS.join(", ")})`);
  const names = args.filter((a) => !a.startsWith("--"));
  const selected =
    names.length > 0
      ? names
      : Object.keys(BENCH_CASES).filter((n) => full || BENCH_CASES[n]!.quick);
  for (const name of selected) {
    let cpuProfDir: string | undefined;
    if (args.includes("--cpu-prof")) {
      cpuProfDir = fs.mkdtempSync(path.join(os.tmpdir(), `firefly-bench-${name}-`));
      profileFireflyWorkers(cpuProfDir);
    }
    try {
      await runCase(name, full ? FULL : QUICK, cpuProfDir);
    } catch (err) {
      console.error(`# ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
  const html = writeChart(RESULTS_DIR);
  console.log(`# wrote ${html}`);
}

await main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
