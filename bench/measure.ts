/**
 * Timing for benchmarks: warm-up, several rounds, the median. Each round runs
 * the operation enough times to take about `roundMs`.
 */
import * as os from "node:os";

/** How long and how often to measure. */
export interface Profile {
  name: "quick" | "full";
  warmupRounds: number;
  rounds: number;
  roundMs: number;
}

export const QUICK: Profile = { name: "quick", warmupRounds: 2, rounds: 7, roundMs: 60 };
export const FULL: Profile = { name: "full", warmupRounds: 5, rounds: 21, roundMs: 300 };

/** One measurement: per-unit nanoseconds of each round and their median. */
export interface Measurement {
  nsPerUnit: number;
  rounds: number[];
}

/**
 * Measures `op`, which processes `units` units (e.g. elements) per call;
 * returns the median ns per unit over the rounds.
 */
export function measure(op: () => void, units: number, profile: Profile): Measurement {
  // Calibrate: how many calls fill a round.
  let calls = 1;
  for (;;) {
    const t = time(op, calls);
    if (t >= profile.roundMs * 1e6 * 0.5 || calls > 1 << 24) {
      calls = Math.max(1, Math.round((calls * profile.roundMs * 1e6) / Math.max(t, 1)));
      break;
    }
    calls *= 2;
  }
  for (let i = 0; i < profile.warmupRounds; i++) time(op, calls);
  const rounds: number[] = [];
  for (let i = 0; i < profile.rounds; i++) rounds.push(time(op, calls) / (calls * units));
  return { nsPerUnit: median(rounds), rounds };
}

function time(op: () => void, calls: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) op();
  return Number(process.hrtime.bigint() - start);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The machine a result was measured on. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  arch: string;
  totalMemoryBytes: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: os.platform(),
    arch: os.arch(),
    totalMemoryBytes: os.totalmem(),
  };
}
