/**
 * (l) Vectorized DoFns: windowed_value(kv(string_utf8, double)) elements in
 * one bundle through one ParDo, per element (`process`) vs in columnar
 * batches (`processBatch`, README "Vectorized DoFns"). Two UDFs:
 * `value * 2 + 1`, and a running per-key sum (each element's output is its
 * key's sum so far). Every bundle's output size is checked (both UDFs keep
 * the element size).
 *
 * Measured two ways in the same run:
 * - the stage alone: the same descriptor's bundles run in this process
 *   (driver/in-process.ts: decode, the operations, the DoFn, encode; no
 *   transport). Target: batch ≥ 5x per element.
 *   Beside it, the decode and encode alone, columns vs elements (the
 *   columnar coders vs the compiled per-element coders on the same bytes):
 *   what the stage's ratio is made of.
 * - through the real data plane (a worker process under the benchmark
 *   runner), beside the apache-beam worker running the per-element DoFn and
 *   the echo worker (bytes back, no decoding): the transport floor, the most
 *   any worker of this stack gets through the data plane here.
 */
import type { BenchDoFn } from "../driver/dofns.js";
import {
  ColumnarDecoder,
  ColumnarEncoder,
  type ElementBatch,
} from "../../coders/columnar/index.js";
import {
  ByteWriter,
  coderFromSpec,
  StreamDecoder,
  type Coder,
  type WindowedValue,
} from "../../coders/index.js";
import { DEFAULT_BATCH_OPTIONS } from "../../operations/batch/batch-options.js";
import { measureStages, startMeasuring } from "../driver/in-process.js";
import { chainDescriptor, keyOf, medianBundle, sized, type Encoded } from "../driver/pipelines.js";
import { result, row, type Row } from "../driver/report.js";
import { encodeChunks, withSession, type Measured } from "../driver/session.js";
import type { WorkerKind } from "../driver/worker-launch.js";
import { kv, STR, windowed, type CoderSpec } from "../../test/support/descriptors.js";
import type { BenchResult } from "../main.js";
import type { Profile } from "../measure.js";

const KV_DOUBLE: CoderSpec = kv(STR, { urn: "beam:coder:double:v1" });
const KEYS = 1000;

const SCALE: BenchDoFn = {
  firefly: { source: "export default (e) => [{ key: e.key, value: e.value * 2 + 1 }];" },
  beam: function (e: unknown) {
    const { key, value } = e as { key: string; value: number };
    return [{ key, value: value * 2 + 1 }];
  },
};

const SCALE_BATCH: BenchDoFn = {
  firefly: {
    source: `export default (batch) => {
  const v = batch.getChild("value").toArray();
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * 2 + 1;
  return { key: batch.getChild("key"), value: out };
};`,
    batch: {},
  },
};

const RUNNING_SUM: BenchDoFn = {
  firefly: {
    source: `export default {
  setup() { this.sums = new Map(); },
  process(e) {
    const s = (this.sums.get(e.key) ?? 0) + e.value;
    this.sums.set(e.key, s);
    return [{ key: e.key, value: s }];
  },
};`,
  },
  beam: function (e: unknown) {
    const { key, value } = e as { key: string; value: number };
    const g = globalThis as { benchSums?: Map<string, number> };
    const sums = (g.benchSums ??= new Map<string, number>());
    const s = (sums.get(key) ?? 0) + value;
    sums.set(key, s);
    return [{ key, value: s }];
  },
};

/** The running sum over columns: the key column's dictionary maps to sum slots once per batch. */
const RUNNING_SUM_BATCH: BenchDoFn = {
  firefly: {
    source: `export default {
  setup() { this.slots = new Map(); this.sums = new Float64Array(1024); },
  processBatch(batch) {
    const keys = batch.getChild("key").data[0];
    const dict = keys.dictionary;
    const slotOf = new Int32Array(dict.length);
    for (let d = 0; d < dict.length; d++) {
      const k = dict.get(d);
      let s = this.slots.get(k);
      if (s === undefined) {
        s = this.slots.size;
        this.slots.set(k, s);
        if (s >= this.sums.length) { const g = new Float64Array(this.sums.length * 2); g.set(this.sums); this.sums = g; }
      }
      slotOf[d] = s;
    }
    const idx = keys.values;
    const v = batch.getChild("value").toArray();
    const sums = this.sums;
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) { const s = slotOf[idx[i]]; out[i] = sums[s] += v[i]; }
    return { key: batch.getChild("key"), value: out };
  },
};`,
    batch: {},
  },
};

const UDFS = [
  { name: "value * 2 + 1", element: SCALE, batch: SCALE_BATCH },
  { name: "running per-key sum", element: RUNNING_SUM, batch: RUNNING_SUM_BATCH },
];

function* doubles(n: number): Generator<{ key: string; value: number }> {
  for (let i = 0; i < n; i++) yield { key: keyOf(i % KEYS), value: i / 4 };
}

/** The median of `reps` timings of `body` over `input`'s elements, as a measurement. */
function timed(input: Encoded, reps: number, body: () => void): Measured {
  body(); // warm-up
  const runs: Measured[] = [];
  for (let i = 0; i < reps; i++) {
    const measuring = startMeasuring(input);
    body();
    runs.push(measuring.done());
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  return runs[runs.length >> 1]!;
}

/** Decoding and encoding the input alone: into and from columns vs elements. */
function codingRows(input: Encoded, profile: Profile): Row[] {
  const coder = coderFromSpec(windowed(KV_DOUBLE)) as Coder<WindowedValue<unknown>>;
  const bytes = Buffer.concat(input.chunks);
  const reps = sized(profile, 9, 15);
  const limits = DEFAULT_BATCH_OPTIONS;
  const columnar = ColumnarDecoder.forCoder(coder, limits)!;
  const encoder = ColumnarEncoder.forCoder(coder)!;
  let batches: ElementBatch[] = [];
  const columnsIn = timed(input, reps, () => {
    batches = columnar.decodeAll(bytes);
  });
  let elements: WindowedValue<unknown>[] = [];
  const elementsIn = timed(input, reps, () => {
    const decoder = new StreamDecoder(coder);
    decoder.push(bytes);
    elements = [];
    for (let e = decoder.next(); e !== undefined; e = decoder.next()) elements.push(e);
  });
  const writer = new ByteWriter(bytes.length + 1024);
  const check = (what: string) => {
    if (writer.length !== bytes.length)
      throw new Error(`${what} wrote ${writer.length} bytes, expected ${bytes.length}`);
  };
  const columnsOut = timed(input, reps, () => {
    writer.reset();
    for (const batch of batches) encoder.encodeAll(batch, writer);
    check("the columnar encoder");
  });
  const elementsOut = timed(input, reps, () => {
    writer.reset();
    for (const e of elements) coder.encodeTo(e, writer, "nested");
    check("the per-element coder");
  });
  const variant = (what: string) =>
    `${input.elements.toLocaleString("en-US")} kv(string, double), ${what} alone`;
  return [
    row(
      "batches",
      variant("decode"),
      { label: "columnar decoder (batches of 4096)", ...columnsIn },
      { label: "compiled per-element coder", ...elementsIn },
    ),
    row(
      "batches",
      variant("encode"),
      { label: "columnar encoder", ...columnsOut },
      { label: "compiled per-element coder", ...elementsOut },
    ),
  ];
}

/**
 * Each UDF's per-element and batch DoFns run in this process (the stage
 * alone), their bundles interleaved: [per element, batch] per UDF.
 */
async function measureInProcess(input: Encoded, profile: Profile): Promise<Measured[][]> {
  const measured: Measured[][] = [];
  for (const [i, udf] of UDFS.entries()) {
    const descriptors = [udf.element, udf.batch].map((dofn, k) =>
      chainDescriptor({
        id: `stage${i}-${k}`,
        kind: "firefly",
        url: "127.0.0.1:1", // never dialed: the stage has no data plane
        dofn,
        input: KV_DOUBLE,
      }),
    );
    measured.push(
      await measureStages(descriptors, input, {
        reps: sized(profile, 9, 15),
        expectOutputBytes: input.bytes,
      }),
    );
  }
  return measured;
}

/** Measures each DoFn of `dofns` in one session of `kind`. */
async function measure(
  kind: WorkerKind,
  dofns: BenchDoFn[],
  input: Encoded,
  profile: Profile,
): Promise<{ label: string; measured: Measured[] }> {
  return withSession(kind, { threads: 0 }, async (session) => {
    const measured: Measured[] = [];
    for (const [i, dofn] of dofns.entries()) {
      const id = `udf${i}`;
      session.register(chainDescriptor({ id, kind, url: session.url, dofn, input: KV_DOUBLE }));
      measured.push(
        await medianBundle(session, id, input, {
          reps: sized(profile, 3, 5),
          warmup: input,
          // apache-beam 2.49's worker came out 175 elements short here (8,994,750 of
          // 9,000,000 bytes, quick profile): only Firefly's output is checked.
          expectOutputBytes: kind === "beam" ? undefined : input.bytes,
        }),
      );
    }
    return { label: session.label, measured };
  });
}

export async function run(profile: Profile): Promise<BenchResult> {
  const input = encodeChunks(KV_DOUBLE, doubles(sized(profile, 300_000, 1_000_000)));
  const stages = await measureInProcess(input, profile);
  const beam = await measure(
    "beam",
    UDFS.map((u) => u.element),
    input,
    profile,
  );
  const element = await measure(
    "firefly",
    UDFS.map((u) => u.element),
    input,
    profile,
  );
  const batch = await measure(
    "firefly",
    UDFS.map((u) => u.batch),
    input,
    profile,
  );
  const floor = await measure("echo", [SCALE], input, profile);
  const rows: Row[] = [];
  UDFS.forEach((udf, i) => {
    const stageVariant = `${input.elements.toLocaleString("en-US")} kv(string, double), ${udf.name}, the stage in process`;
    const stage = row(
      "batches",
      stageVariant,
      { label: "Firefly in process processBatch", ...stages[i]![1]! },
      { label: "Firefly in process process", ...stages[i]![0]! },
    );
    stage.target = { text: "≥ 5x per element", met: (stage.ratio ?? 0) >= 5 };
    rows.push(stage);
    const perElement = { label: `${element.label} process`, ...element.measured[i]! };
    const batched = { label: `${batch.label} processBatch`, ...batch.measured[i]! };
    const peer = { label: `${beam.label} process`, ...beam.measured[i]! };
    const variant = `${perElement.elements.toLocaleString("en-US")} kv(string, double), ${udf.name}`;
    const vsElement = row("batches", variant, batched, perElement);
    const transport = { label: floor.label, ...floor.measured[0]! };
    rows.push(
      vsElement,
      row("batches", variant, batched, peer),
      row("batches", variant, perElement, peer),
      row("batches", variant, batched, transport),
    );
  });
  // Last: the coding rows leave this process a heap of 300,000 decoded elements.
  rows.unshift(...codingRows(input, profile));
  return result(rows);
}
