/**
 * (g) Threads (issue 7): a CPU-heavy DoFn (FNV-1a rounds calibrated to about
 * 50 µs per element on the driver) over 8 concurrent bundles at threads =
 * 0 (inline), 1 and 2; and the pool's overhead on an identity DoFn (1 thread
 * against inline). Firefly only: the apache-beam worker has no thread pool.
 * Targets: threads=2 ≥ 1.8x inline (2 cores); identity at 1 thread ≥ 80% of
 * inline. Each CPU-heavy run also reports where the machine's CPU went
 * (/proc per thread): the worker's main thread (the conductor), its busiest
 * `threads` threads (the pool), its other threads (V8's GC and compiler
 * helpers, libuv) and the runner (this process), against cores × wall time.
 */
import { cpuHeavy, fnvRounds, IDENTITY, type BenchDoFn } from "../driver/dofns.js";
import { chainDescriptor, keyOf, KV, sized, smallKvs, type Encoded } from "../driver/pipelines.js";
import { result, row, type Row, type SideResult } from "../driver/report.js";
import { encodeChunks, withSession, type BenchSession } from "../driver/session.js";
import { threadCpuMs } from "../driver/worker-launch.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";
import { availableParallelism } from "node:os";

const BUNDLES = 8;
const TARGET_US = 50;

/** FNV rounds that take about TARGET_US per element here. */
function calibrate(): number {
  for (let i = 0; i < 20_000; i++) fnvRounds(keyOf(i), 8); // JIT-compile first
  let rounds = 64;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) fnvRounds(keyOf(i), rounds);
    const us = Number(process.hrtime.bigint() - start) / 1e3 / 200;
    if (us >= TARGET_US / 4) return Math.round((rounds * TARGET_US) / us);
    rounds *= 2;
  }
}

async function wave(session: BenchSession, input: Encoded): Promise<void> {
  await Promise.all(Array.from({ length: BUNDLES }, () => session.bundle("cpu", input.chunks)));
}

/** Where the CPU of the machine went during a measured run, in seconds. */
export interface CpuBreakdown {
  label: string;
  wallS: number;
  /** cores × wall: all the CPU the machine had. */
  capacityS: number;
  conductorS: number;
  poolThreadsS: number;
  otherWorkerThreadsS: number;
  runnerS: number;
  idleS: number;
}

function breakdown(
  label: string,
  threads: number,
  pid: number,
  before: Map<number, number>,
  after: Map<number, number>,
  runnerMs: number,
  wallS: number,
): CpuBreakdown {
  const used = [...after].map(([tid, ms]) => ({ tid, s: (ms - (before.get(tid) ?? 0)) / 1000 }));
  const conductorS = used.find((t) => t.tid === pid)?.s ?? 0;
  const others = used.filter((t) => t.tid !== pid).sort((a, b) => b.s - a.s);
  const poolThreadsS = others.slice(0, threads).reduce((sum, t) => sum + t.s, 0);
  const otherWorkerThreadsS = others.slice(threads).reduce((sum, t) => sum + t.s, 0);
  const runnerS = runnerMs / 1000;
  const capacityS = availableParallelism() * wallS;
  return {
    label,
    wallS,
    capacityS,
    conductorS,
    poolThreadsS,
    otherWorkerThreadsS,
    runnerS,
    idleS: capacityS - conductorS - poolThreadsS - otherWorkerThreadsS - runnerS,
  };
}

async function threadsOf(
  threads: number,
  dofn: BenchDoFn,
  input: Encoded,
  warmup: Encoded,
  cpu?: CpuBreakdown[],
): Promise<SideResult> {
  const label = threads === 0 ? "Firefly inline" : `Firefly threads=${threads}`;
  return withSession("firefly", { threads }, async (session) => {
    session.register(chainDescriptor({ id: "cpu", kind: "firefly", url: session.url, dofn }));
    await wave(session, warmup);
    const pid = session.worker.pid;
    const before = threadCpuMs(pid);
    const runnerBefore = process.cpuUsage();
    const m = await session.measure(input.elements * BUNDLES, input.bytes * BUNDLES, () =>
      wave(session, input),
    );
    const runner = process.cpuUsage(runnerBefore);
    cpu?.push(
      breakdown(
        label,
        threads,
        pid,
        before,
        threadCpuMs(pid),
        (runner.user + runner.system) / 1000,
        m.seconds,
      ),
    );
    return { label, ...m };
  });
}

function cpuTable(rows: CpuBreakdown[]): string {
  const s = (x: number) => x.toFixed(2);
  return [
    "| CPU-heavy run | wall s | cores × wall s | conductor s | pool threads s | other worker threads s | runner s | idle s |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${s(r.wallS)} | ${s(r.capacityS)} | ${s(r.conductorS)} | ${s(r.poolThreadsS)} | ${s(r.otherWorkerThreadsS)} | ${s(r.runnerS)} | ${s(r.idleS)} |`,
    ),
  ].join("\n");
}

export async function run(profile: Profile): Promise<BenchResult> {
  const rounds = calibrate();
  const heavy = cpuHeavy(rounds);
  const perBundle = sized(profile, 1500, 5000);
  const input = encodeChunks(KV, smallKvs(perBundle));
  const warmup = encodeChunks(KV, smallKvs(200));
  const variant = `${BUNDLES} bundles × ${perBundle.toLocaleString("en-US")} elements, ~${TARGET_US} µs CPU each`;
  const cpu: CpuBreakdown[] = [];
  const inline = await threadsOf(0, heavy, input, warmup, cpu);
  const one = await threadsOf(1, heavy, input, warmup, cpu);
  const two = await threadsOf(2, heavy, input, warmup, cpu);
  const rows: Row[] = [row("threads", variant, one, inline), row("threads", variant, two, inline)];
  rows[1]!.target = { text: "threads=2 ≥ 1.8x inline", met: (rows[1]!.ratio ?? 0) >= 1.8 };

  const trivialSize = sized(profile, 20_000, 100_000);
  const trivial = encodeChunks(KV, smallKvs(trivialSize));
  const trivialVariant = `${BUNDLES} bundles × ${trivialSize.toLocaleString("en-US")} elements, identity DoFn (pool overhead)`;
  const overhead = row(
    "threads",
    trivialVariant,
    await threadsOf(1, IDENTITY, trivial, trivial),
    await threadsOf(0, IDENTITY, trivial, trivial),
  );
  overhead.target = { text: "threads=1 ≥ 0.8x inline", met: (overhead.ratio ?? 0) >= 0.8 };
  rows.push(overhead);
  const out = result(rows, { fnvRounds: rounds, targetMicrosPerElement: TARGET_US, cpu });
  return { ...out, table: `${out.table}\n\n${cpuTable(cpu)}` };
}
