/**
 * (j) Streamed input: 1M small windowed_value(kv(string_utf8, varint))
 * elements through an identity ParDo, the input in 1 MiB Data messages (whole
 * elements each: apache-beam's worker decodes every message on its own).
 *   - streamed: ProcessBundle, then the Data messages while the bundle runs
 *     (what a runner does); timed from ProcessBundle to the response and the
 *     sink's `is_last`.
 *   - pre-sent: every Data message delivered to the worker (its CPU went
 *     idle) before ProcessBundle; timed the same way, so without receiving.
 * Firefly at default settings (no --threads: one bundle thread per core) and
 * inline (threads=0), each in its own worker process: two warm-up bundles,
 * `reps` streamed bundles (the peak RSS is read here: 1M-element runs), then
 * pre-sent and streamed bundles alternating; medians. apache-beam's worker
 * streamed in the same run.
 * Targets (issue #19): streamed ≥ 0.9x pre-sent; streamed ≥ 20x apache-beam;
 * peak RSS < 150 MB at default settings.
 */
import { IDENTITY } from "../driver/dofns.js";
import { chainDescriptor, KV, sized, smallKvs, type Encoded } from "../driver/pipelines.js";
import { result, row, type Row, type SideResult } from "../driver/report.js";
import { encodeChunks, withSession, type BenchSession, type Measured } from "../driver/session.js";
import type { LaunchOptions, WorkerKind } from "../driver/worker-launch.js";
import type { BenchResult } from "../main.js";
import { median, type Profile } from "../measure.js";

const MESSAGE_BYTES = 1 << 20;
const ELEMENTS = 1_000_000;
/** Streamed ÷ pre-sent at least this (noise on shared cores is ±10%). */
const STREAMED_VS_PRESENT = 0.9;
const VS_PEER = 20;
const RSS_MB = 150;

interface Sides {
  label: string;
  streamed: Measured;
  preSent?: Measured;
}

async function timed(
  session: BenchSession,
  input: Encoded,
  id: string,
  preSent: boolean,
): Promise<Measured> {
  const preSentId = preSent ? await session.preSend(id, input.chunks) : undefined;
  return session.measure(input.elements, input.bytes, async () => {
    const { outputBytes } = await session.bundle(id, input.chunks, [], preSentId);
    if (outputBytes !== input.bytes)
      throw new Error(`${session.label}: output ${outputBytes} bytes, expected ${input.bytes}`);
  });
}

/** The measurement of median wall time. */
function medianRun(runs: Measured[]): Measured {
  const m = median(runs.map((r) => r.seconds));
  return runs.reduce((a, b) => (Math.abs(b.seconds - m) < Math.abs(a.seconds - m) ? b : a));
}

async function sidesOf(
  kind: WorkerKind,
  options: LaunchOptions,
  input: Encoded,
  warmup: Encoded,
  reps: number,
): Promise<Sides> {
  return withSession(kind, options, async (session) => {
    const id = "identity";
    session.register(chainDescriptor({ id, kind, url: session.url, dofn: IDENTITY }));
    // Two warm-up bundles (the first also opens the worker's data stream):
    // after one, the next bundle still ran up to 30% slower than later ones.
    for (let i = 0; i < 2; i++) await session.bundle(id, warmup.chunks);
    const streamed: Measured[] = [];
    if (kind === "beam") {
      for (let i = 0; i < reps; i++) streamed.push(await timed(session, input, id, false));
      return { label: session.label, streamed: medianRun(streamed) };
    }
    // Streamed and pre-sent alternate, so drift in the machine's load hits both.
    // The peak RSS is read after the streamed bundles alone (pre-sent input
    // waits in the worker whole, so it peaks higher).
    for (let i = 0; i < reps; i++) streamed.push(await timed(session, input, id, false));
    const rss = session.worker.usage().peakRssBytes / 1e6;
    const preSent: Measured[] = [];
    for (let i = 0; i < reps; i++) {
      preSent.push(await timed(session, input, id, true));
      streamed.push(await timed(session, input, id, false));
    }
    return {
      label: session.label,
      streamed: { ...medianRun(streamed), peakRssMb: rss },
      preSent: medianRun(preSent),
    };
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const input = encodeChunks(KV, smallKvs(ELEMENTS), MESSAGE_BYTES);
  const reps = sized(profile, 2, 5);
  const beam = await sidesOf(
    "beam",
    {},
    input,
    encodeChunks(KV, smallKvs(100_000), MESSAGE_BYTES),
    sized(profile, 1, 3),
  );
  const peer: SideResult = { label: `${beam.label} streamed`, ...beam.streamed };
  const variant = `${ELEMENTS.toLocaleString("en-US")} elements, identity ParDo, 1 MiB messages`;
  const rows: Row[] = [];
  for (const options of [{}, { threads: 0 }] as LaunchOptions[]) {
    const firefly = await sidesOf("firefly", options, input, input, reps);
    const streamed: SideResult = { label: `${firefly.label} streamed`, ...firefly.streamed };
    const vsPresent = row("streamed", variant, streamed, {
      label: `${firefly.label} pre-sent`,
      ...firefly.preSent!,
    });
    vsPresent.target = {
      text: `streamed ≥ ${STREAMED_VS_PRESENT}x pre-sent`,
      met: (vsPresent.ratio ?? 0) >= STREAMED_VS_PRESENT,
    };
    const vsPeer = row("streamed", variant, streamed, peer);
    const defaults = options.threads === undefined;
    vsPeer.target = {
      text: `≥ ${VS_PEER}x peer${defaults ? `, RSS < ${RSS_MB} MB` : ""}`,
      met:
        (vsPeer.ratio ?? 0) >= VS_PEER && (!defaults || (streamed.peakRssMb ?? Infinity) < RSS_MB),
    };
    rows.push(vsPresent, vsPeer);
  }
  return result(rows, { messageBytes: MESSAGE_BYTES, messages: input.chunks.length });
}
