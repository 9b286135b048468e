/**
 * (c) Latency: sequential 1-element bundles through an identity ParDo; each
 * bundle's time from ProcessBundle sent to response and sink output received
 * (p50/p99). Target: Firefly p50 ≤ 0.3 ms.
 */
import { IDENTITY } from "../driver/dofns.js";
import { chainDescriptor, KV, sized, smallKvs } from "../driver/pipelines.js";
import { percentile, result, row, type SideResult } from "../driver/report.js";
import { encodeChunks, withSession } from "../driver/session.js";
import type { LaunchOptions, WorkerKind } from "../driver/worker-launch.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

async function latencyOf(
  kind: WorkerKind,
  options: LaunchOptions,
  bundles: number,
): Promise<SideResult> {
  const one = encodeChunks(KV, smallKvs(1));
  return withSession(kind, options, async (session) => {
    session.register(chainDescriptor({ id: "one", kind, url: session.url, dofn: IDENTITY }));
    for (let i = 0; i < 100; i++) await session.bundle("one", one.chunks);
    const times: number[] = [];
    const measured = await session.measure(bundles, bundles * one.bytes, async () => {
      for (let i = 0; i < bundles; i++) times.push((await session.bundle("one", one.chunks)).ms);
    });
    return {
      label: session.label,
      ...measured,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
    };
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const bundles = sized(profile, 300, 1000);
  const peer = await latencyOf("beam", {}, bundles);
  const rows = [];
  for (const threads of [0, 2]) {
    const r = row(
      "latency",
      `${bundles} sequential 1-element bundles`,
      await latencyOf("firefly", { threads }, bundles),
      peer,
      "p50 latency",
    );
    r.target = { text: "Firefly p50 ≤ 0.3 ms", met: (r.subject.p50Ms ?? Infinity) <= 0.3 };
    rows.push(r);
  }
  return result(rows);
}
