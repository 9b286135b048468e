/**
 * (a) Throughput: small windowed_value(kv(string_utf8, varint)) elements in
 * one bundle through an identity ParDo and through a chain of 3, Firefly
 * (inline, and with 2 pool threads) against the apache-beam worker.
 * Target: Firefly ≥ 10x the peer; worker peak RSS < 200 MB.
 */
import { IDENTITY } from "../driver/dofns.js";
import { chainDescriptor, KV, medianBundle, sized, smallKvs } from "../driver/pipelines.js";
import { result, row, type Row } from "../driver/report.js";
import { encodeChunks, withSession, type Measured } from "../driver/session.js";
import type { LaunchOptions, WorkerKind } from "../driver/worker-launch.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

const CHAINS = [1, 3] as const;

/** Measures every chain length in one session of `kind`. */
export async function throughputOf(
  kind: WorkerKind,
  options: LaunchOptions,
  profile: Profile,
  /** Runs after the measurements, before the worker stops. */
  after?: () => Promise<void>,
): Promise<{ label: string; byChain: Map<number, Measured> }> {
  const n = sized(profile, 200_000, 1_000_000);
  const input = encodeChunks(KV, smallKvs(n));
  return withSession(kind, options, async (session) => {
    const byChain = new Map<number, Measured>();
    for (const length of CHAINS) {
      const id = `chain${length}`;
      session.register(chainDescriptor({ id, kind, url: session.url, dofn: IDENTITY, length }));
      byChain.set(
        length,
        await medianBundle(session, id, input, {
          reps: sized(profile, 1, 3),
          warmup: input, // a full bundle: both workers' JITs are warm
          expectOutputBytes: input.bytes,
        }),
      );
    }
    await after?.();
    return { label: session.label, byChain };
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const beam = await throughputOf("beam", {}, profile);
  const inline = await throughputOf("firefly", { threads: 0 }, profile);
  const pooled = await throughputOf("firefly", { threads: 2 }, profile);
  const rows: Row[] = [];
  for (const length of CHAINS) {
    const variant = `${beam.byChain.get(length)!.elements.toLocaleString("en-US")} elements, ${length} identity ParDo${length > 1 ? "s" : ""}`;
    const peer = { label: beam.label, ...beam.byChain.get(length)! };
    for (const firefly of [inline, pooled]) {
      const r = row(
        "throughput",
        variant,
        { label: firefly.label, ...firefly.byChain.get(length)! },
        peer,
      );
      r.target = {
        text: "≥ 10x peer, RSS < 200 MB",
        met: (r.ratio ?? 0) >= 10 && (r.subject.peakRssMb ?? Infinity) < 200,
      };
      rows.push(r);
    }
  }
  return result(rows);
}
