/**
 * (c) Latency: sequential 1-element bundles through an identity ParDo; each
 * bundle's time from ProcessBundle sent to response and sink output received
 * (p50/p99). Target: Firefly p50 ≤ 0.3 ms and p99 ≤ 1 ms. Every Firefly
 * setting is compared with apache-beam's worker and with the floor of this
 * stack, an echo worker on the same grpc-js and google-protobuf
 * (bench/driver/echo-worker.ts): what Firefly adds is its p50 minus the
 * floor's.
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
  const bundles = sized(profile, 1000, 3000);
  const variant = `${bundles} sequential 1-element bundles`;
  const peer = await latencyOf("beam", {}, bundles);
  const floor = await latencyOf("echo", {}, bundles);
  const rows = [row("latency", variant, floor, peer, "p50 latency")];
  for (const threads of [0, undefined]) {
    const subject = await latencyOf("firefly", { threads }, bundles);
    for (const baseline of [peer, floor]) {
      const r = row("latency", variant, subject, baseline, "p50 latency");
      if (baseline === peer) {
        r.target = {
          text: "Firefly p50 ≤ 0.3 ms, p99 ≤ 1 ms",
          met: (subject.p50Ms ?? Infinity) <= 0.3 && (subject.p99Ms ?? Infinity) <= 1,
        };
      }
      rows.push(r);
    }
  }
  return result(rows, {
    fireflyAboveFloorMs: rows
      .filter((r) => r.baseline === floor && r.subject !== floor)
      .map((r) => ({
        label: r.subject.label,
        p50: (r.subject.p50Ms ?? 0) - (floor.p50Ms ?? 0),
        p99: (r.subject.p99Ms ?? 0) - (floor.p99Ms ?? 0),
      })),
  });
}
