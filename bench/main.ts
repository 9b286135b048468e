/**
 * Benchmarks: `node dist/bench/main.js [case...] [--full]` (or `npm run bench`).
 * No case runs every quick case; `--full` uses the long profile. Each case
 * prints a table and writes `bench/results/<YYYY-MM-DD>-<case>.json` with the
 * machine's cores, CPU model and Node version.
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
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
};

const RESULTS_DIR = fileURLToPath(new URL("../../bench/results/", import.meta.url));

interface ResultFile {
  case: string;
  date: string;
  profile: Profile;
  machine: MachineInfo;
  data: unknown;
}

async function runCase(name: string, profile: Profile): Promise<void> {
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
    data: result.data,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const out = `${RESULTS_DIR}${date}-${name}.json`;
  fs.writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
  console.log(`# wrote ${out}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const full = args.includes("--full");
  const unknown = args.filter((a) => a.startsWith("--") && a !== "--full");
  if (unknown.length > 0) throw new TypeError(`unknown option ${unknown[0]}`);
  const names = args.filter((a) => !a.startsWith("--"));
  const selected =
    names.length > 0
      ? names
      : Object.keys(BENCH_CASES).filter((n) => full || BENCH_CASES[n]!.quick);
  for (const name of selected) await runCase(name, full ? FULL : QUICK);
}

await main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
