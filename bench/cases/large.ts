/**
 * (b) Large elements: 100 KiB byte strings in one bundle through an identity
 * ParDo (one element per Data message). Target: worker peak RSS < 200 MB.
 */
import { BYTES } from "../../test/support/descriptors.js";
import { IDENTITY } from "../driver/dofns.js";
import { chainDescriptor, medianBundle, sized, type Encoded } from "../driver/pipelines.js";
import { result, row, type SideResult } from "../driver/report.js";
import { encodeChunks, withSession } from "../driver/session.js";
import type { LaunchOptions, WorkerKind } from "../driver/worker-launch.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

const ELEMENT_BYTES = 100 * 1024;

function* payloads(n: number): Generator<Uint8Array> {
  const base = new Uint8Array(ELEMENT_BYTES);
  for (let i = 0; i < base.length; i++) base[i] = (i * 31) & 0xff;
  for (let i = 0; i < n; i++) yield base;
}

async function largeOf(
  kind: WorkerKind,
  options: LaunchOptions,
  input: Encoded,
  reps: number,
): Promise<SideResult> {
  return withSession(kind, options, async (session) => {
    session.register(
      chainDescriptor({ id: "large", kind, url: session.url, dofn: IDENTITY, input: BYTES }),
    );
    const warmup = encodeChunks(BYTES, payloads(200), ELEMENT_BYTES);
    const m = await medianBundle(session, "large", input, {
      reps,
      warmup,
      expectOutputBytes: input.bytes,
    });
    return { label: session.label, ...m };
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const n = sized(profile, 1000, 10_000);
  const input = encodeChunks(BYTES, payloads(n), ELEMENT_BYTES);
  const reps = sized(profile, 1, 3);
  const peer = await largeOf("beam", {}, input, reps);
  const rows = [];
  for (const threads of [0, 2]) {
    const r = row(
      "large",
      `${n.toLocaleString("en-US")} elements of 100 KiB`,
      await largeOf("firefly", { threads }, input, reps),
      peer,
    );
    r.target = { text: "RSS < 200 MB", met: (r.subject.peakRssMb ?? Infinity) < 200 };
    rows.push(r);
  }
  return result(rows);
}
