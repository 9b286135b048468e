/**
 * (d) Concurrency: 64 bundles in flight at once, each of small kv elements
 * through an identity ParDo; total throughput and p50/p99 bundle time.
 */
import { IDENTITY } from "../driver/dofns.js";
import { chainDescriptor, KV, sized, smallKvs, type Encoded } from "../driver/pipelines.js";
import { percentile, result, row, type SideResult } from "../driver/report.js";
import { encodeChunks, withSession, type BenchSession } from "../driver/session.js";
import type { LaunchOptions, WorkerKind } from "../driver/worker-launch.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

const BUNDLES = 64;

async function wave(session: BenchSession, input: Encoded): Promise<number[]> {
  return Promise.all(
    Array.from({ length: BUNDLES }, async () => (await session.bundle("conc", input.chunks)).ms),
  );
}

async function concurrencyOf(
  kind: WorkerKind,
  options: LaunchOptions,
  input: Encoded,
): Promise<SideResult> {
  return withSession(kind, options, async (session) => {
    session.register(chainDescriptor({ id: "conc", kind, url: session.url, dofn: IDENTITY }));
    await wave(session, input);
    let times: number[] = [];
    const m = await session.measure(input.elements * BUNDLES, input.bytes * BUNDLES, async () => {
      times = await wave(session, input);
    });
    return {
      label: session.label,
      ...m,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
    };
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const perBundle = sized(profile, 2000, 10_000);
  const input = encodeChunks(KV, smallKvs(perBundle));
  const peer = await concurrencyOf("beam", {}, input);
  const rows = [];
  for (const threads of [0, 2])
    rows.push(
      row(
        "concurrency",
        `${BUNDLES} bundles × ${perBundle.toLocaleString("en-US")} elements in flight`,
        await concurrencyOf("firefly", { threads }, input),
        peer,
      ),
    );
  return result(rows);
}
