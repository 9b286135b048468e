/**
 * Coders: Firefly against apache-beam 2.49's TypeScript coders, in one run,
 * on the same values. Encode = a batch of elements into one reused buffer
 * (as a data-plane sink does); decode = a batch from one chunk (Firefly's
 * `StreamDecoder`, Beam's protobufjs `Reader` loop, as their data sources do).
 */
import {
  coderFromSpec,
  ByteWriter,
  GLOBAL_WINDOWS,
  NO_FIRING,
  StreamDecoder,
  type Coder,
  type CoderSpec,
  type RowSchema,
} from "../../coders/index.js";
import {
  beamCoder,
  beamContext,
  beamEncode,
  beamReader,
  beamWriter,
  toBeamValue,
  type BeamCoder,
} from "../../test/coders/support/beam-coders.js";
import { schemaPayload } from "../../test/coders/support/schema-proto.js";
import { Rng } from "../../test/fuzz/prng.js";
import { measure, type Profile } from "../measure.js";
import type { BenchResult } from "../main.js";

interface Workload {
  name: string;
  spec: CoderSpec;
  values: unknown[];
}

const BATCH = 1000;
const NESTED = beamContext("nested");

function ascii(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + rng.int(26));
  return s;
}

const rowSchema: RowSchema = {
  fields: [
    { name: "id", type: { kind: "atomic", atomic: "INT64" } },
    { name: "name", type: { kind: "atomic", atomic: "STRING" } },
    { name: "count", type: { kind: "atomic", atomic: "INT32" } },
    { name: "active", type: { kind: "atomic", atomic: "BOOLEAN" } },
    { name: "payload", type: { kind: "atomic", atomic: "BYTES" } },
    { name: "tags", type: { kind: "array", element: { kind: "atomic", atomic: "STRING" } } },
    { name: "note", type: { kind: "atomic", atomic: "STRING", nullable: true } },
    { name: "score", type: { kind: "atomic", atomic: "INT64" } },
  ],
};

function workloads(): Workload[] {
  const rng = new Rng(7);
  const many = <T>(f: () => T): T[] => Array.from({ length: BATCH }, f);
  return [
    {
      name: "windowed_value(kv(string_utf8,varint),global_window), 20-byte keys",
      spec: {
        urn: "beam:coder:windowed_value:v1",
        components: [
          {
            urn: "beam:coder:kv:v1",
            components: [{ urn: "beam:coder:string_utf8:v1" }, { urn: "beam:coder:varint:v1" }],
          },
          { urn: "beam:coder:global_window:v1" },
        ],
      },
      values: many(() => ({
        value: { key: ascii(rng, 20), value: rng.int(1 << 30) },
        timestamp: 1700000000000n + BigInt(rng.int(1000)),
        windows: GLOBAL_WINDOWS,
        pane: NO_FIRING,
      })),
    },
    {
      name: "bytes, 1 KiB",
      spec: { urn: "beam:coder:bytes:v1" },
      values: many(() => rng.bytes(1024)),
    },
    {
      name: "iterable of 100 varints",
      spec: { urn: "beam:coder:iterable:v1", components: [{ urn: "beam:coder:varint:v1" }] },
      values: many(() => Array.from({ length: 100 }, () => rng.int(1 << (1 + rng.int(30))))),
    },
    {
      name: "row with 8 mixed fields",
      spec: { urn: "beam:coder:row:v1", payload: schemaPayload(rowSchema) },
      values: many(() => ({
        id: rng.int(1 << 30),
        name: ascii(rng, 12),
        count: rng.int(1000),
        active: rng.chance(0.5),
        payload: rng.bytes(16),
        tags: [ascii(rng, 5), ascii(rng, 7)],
        note: rng.chance(0.5) ? null : ascii(rng, 10),
        score: rng.int(1 << 20),
      })),
    },
  ];
}

interface Row {
  workload: string;
  op: "encode" | "decode" | "encode+decode";
  fireflyNs: number;
  beamNs: number;
  ratio: number;
}

function fireflyEncoder(
  coder: Coder<unknown>,
  values: unknown[],
): { op: () => void; bytes: () => Uint8Array } {
  const writer = new ByteWriter(64 * 1024);
  const op = (): void => {
    writer.reset();
    for (let i = 0; i < values.length; i++) coder.encodeTo(values[i], writer, "nested");
  };
  return { op, bytes: () => (op(), writer.toBytes()) };
}

function beamBatch(coder: BeamCoder, values: unknown[]): Uint8Array {
  return Buffer.concat(values.map((v) => beamEncode(coder, v, "nested")));
}

/** Runs every workload with both implementations. */
export function run(profile: Profile): BenchResult {
  const rows: Row[] = [];
  for (const w of workloads()) {
    const coder = coderFromSpec(w.spec);
    const beam = beamCoder(w.spec);
    const beamValues = w.values.map((v) => toBeamValue(w.spec, v));

    const enc = fireflyEncoder(coder, w.values);
    const ours = enc.bytes();
    const theirs = beamBatch(beam, beamValues);
    if (Buffer.compare(ours, theirs) !== 0)
      throw new Error(`${w.name}: Firefly and apache-beam encode differently`);

    const fireflyEncode = measure(enc.op, w.values.length, profile).nsPerUnit;
    const beamEncodeNs = measure(
      () => {
        const writer = beamWriter();
        for (let i = 0; i < beamValues.length; i++) beam.encode(beamValues[i], writer, NESTED);
        writer.finish();
      },
      w.values.length,
      profile,
    ).nsPerUnit;
    const fireflyDecode = measure(
      () => {
        const d = new StreamDecoder(coder);
        d.push(ours);
        let n = 0;
        while (d.next() !== undefined) n++;
        if (n !== w.values.length) throw new Error("decoded a wrong number of elements");
      },
      w.values.length,
      profile,
    ).nsPerUnit;
    const beamDecodeNs = measure(
      () => {
        const reader = beamReader(theirs);
        let n = 0;
        while (reader.pos < reader.len) {
          beam.decode(reader, NESTED);
          n++;
        }
        if (n !== w.values.length)
          throw new Error("apache-beam decoded a wrong number of elements");
      },
      w.values.length,
      profile,
    ).nsPerUnit;
    rows.push({
      workload: w.name,
      op: "encode",
      fireflyNs: fireflyEncode,
      beamNs: beamEncodeNs,
      ratio: beamEncodeNs / fireflyEncode,
    });
    rows.push({
      workload: w.name,
      op: "decode",
      fireflyNs: fireflyDecode,
      beamNs: beamDecodeNs,
      ratio: beamDecodeNs / fireflyDecode,
    });
    const f = fireflyEncode + fireflyDecode;
    const b = beamEncodeNs + beamDecodeNs;
    rows.push({ workload: w.name, op: "encode+decode", fireflyNs: f, beamNs: b, ratio: b / f });
  }
  return {
    table: table(rows),
    data: { batch: BATCH, unit: "ns/element (median of rounds)", rows },
  };
}

function table(rows: Row[]): string {
  const lines = [
    `| workload | op | Firefly ns/elem | apache-beam ns/elem | speed-up |`,
    `| --- | --- | ---: | ---: | ---: |`,
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.op} | ${r.fireflyNs.toFixed(1)} | ${r.beamNs.toFixed(1)} | ${r.ratio.toFixed(1)}x |`,
    ),
  ];
  return lines.join("\n");
}
