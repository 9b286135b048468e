/**
 * Coders: Firefly against apache-beam 2.49's TypeScript coders, in one run,
 * on the same values. Encode = a batch of elements into one reused buffer
 * (as a data-plane sink does); decode = a batch from one chunk (Firefly's
 * `StreamDecoder`, Beam's protobufjs `Reader` loop, as their data sources do).
 * Firefly runs with its compiled coders (the default); for reference, each
 * cycle also measures its interpreted coders (`compile: false`).
 * For the windowed KV and the iterable of varints it also measures the
 * floor: hand-written code for exactly those values (`coders-floor.ts`,
 * `varintsFloorDecode`); apache-beam's time over the floor's is the most any
 * JavaScript coder could show in that run.
 *
 * Each operation is measured on its own (warm-up, then the median of its
 * rounds): interleaving the operations round by round was tried and rejected, as
 * the garbage of one operation was then collected during another's rounds
 * (apache-beam's decode allocates far more), which skewed both sides by up
 * to 2x. But the speed of memory-bound code drifts by as much within a run on
 * these shared machines (a pure ALU loop stays within 3%), so the
 * measurements are repeated in cycles, and the speed-up reported is the
 * median of the cycles' speed-ups: each compares measurements taken seconds
 * apart. The warm-up rounds of each measurement absorb the collection of the
 * previous one's garbage.
 */
import { isDeepStrictEqual } from "node:util";
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
import { measure, median, type Profile } from "../measure.js";
import { floorDecode, floorEncode, sink } from "./coders-floor.js";
import type { BenchResult } from "../main.js";

interface Workload {
  name: string;
  spec: CoderSpec;
  values: unknown[];
  /** Hand-written code for exactly this workload: the floor (see coders-floor.ts). */
  floor?: {
    encode(values: unknown[], out: Buffer): number;
    decode(bytes: Buffer): number;
    /** The last element decoded (default: coders-floor.ts's `sink`). */
    last?: () => unknown;
  };
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
      floor: { encode: floorEncode, decode: floorDecode },
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
      floor: { encode: varintsFloorEncode, decode: varintsFloorDecode, last: () => varintsSink },
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
  /** Firefly with interpreted coders (`compile: false`). */
  interpretedNs: number;
  beamNs: number;
  ratio: number;
  ratioRange: [number, number];
  /** The workload's floor (NaN when it has none) and apache-beam's time over it. */
  floorNs: number;
  floorRatio: number;
}

type Impl = "firefly" | "beam" | "interpreted" | "floor";

/** One cycle: ns/element of each implementation's encode and decode, measured one after the other. */
type Cycle = Record<`${Impl}${"Encode" | "Decode"}`, number>;

const CYCLE_OPS: (keyof Cycle)[] = [
  "fireflyEncode",
  "beamEncode",
  "fireflyDecode",
  "beamDecode",
  "interpretedEncode",
  "interpretedDecode",
  "floorEncode",
  "floorDecode",
];

/**
 * Splits a profile's rounds over cycles (at least 3 rounds each): quick runs
 * 3 cycles, full runs 7.
 */
function perCycle(profile: Profile): Profile & { cycles: number } {
  const cycles = profile.name === "full" ? 7 : 3;
  return {
    ...profile,
    cycles,
    warmupRounds: Math.min(profile.warmupRounds, 2),
    rounds: Math.max(3, Math.ceil(profile.rounds / cycles)),
  };
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

/** Runs every workload with both implementations, one operation at a time. */
export function run(profile: Profile): BenchResult {
  const rows: Row[] = [];
  const prepared = workloads().map((w) => {
    const coder = coderFromSpec(w.spec);
    const beam = beamCoder(w.spec);
    const beamValues = w.values.map((v) => toBeamValue(w.spec, v));
    const enc = fireflyEncoder(coder, w.values);
    const bytes = enc.bytes();
    if (Buffer.compare(bytes, beamBatch(beam, beamValues)) !== 0)
      throw new Error(`${w.name}: Firefly and apache-beam encode differently`);
    return { w, coder, beam, beamValues, enc, bytes };
  });
  const cycleProfile = perCycle(profile);
  for (const { w, coder, beam, beamValues, enc, bytes } of prepared) {
    const n = w.values.length;
    const interpreted = coderFromSpec(w.spec, { compile: false });
    const ops: Partial<Record<keyof Cycle, () => void>> = {
      fireflyEncode: enc.op,
      beamEncode: () => {
        const writer = beamWriter();
        for (let i = 0; i < beamValues.length; i++) beam.encode(beamValues[i], writer, NESTED);
        writer.finish();
      },
      fireflyDecode: () => fireflyDecode(coder, bytes, n),
      beamDecode: () => {
        const reader = beamReader(bytes);
        let count = 0;
        while (reader.pos < reader.len) {
          beam.decode(reader, NESTED);
          count++;
        }
        if (count !== n) throw new Error("apache-beam decoded a wrong number of elements");
      },
      interpretedEncode: fireflyEncoder(interpreted, w.values).op,
      interpretedDecode: () => fireflyDecode(interpreted, bytes, n),
      ...floorOps(w, bytes),
    };
    const cycles: Cycle[] = [];
    for (let c = 0; c < cycleProfile.cycles; c++) {
      // One operation at a time (each pays for its own garbage): see the header.
      const cycle = {} as Cycle;
      for (const op of CYCLE_OPS) {
        const f = ops[op];
        cycle[op] = f === undefined ? NaN : measure(f, n, cycleProfile).nsPerUnit;
      }
      cycles.push(cycle);
    }
    for (const op of ["encode", "decode", "encode+decode"] as const) {
      const at = (impl: Impl) => cycles.map((c) => timeOf(c, impl, op));
      const [firefly, beamNs, floor] = [at("firefly"), at("beam"), at("floor")];
      const ratios = beamNs.map((t, i) => t / firefly[i]!);
      const floorRatios = beamNs.map((t, i) => t / floor[i]!);
      rows.push({
        workload: w.name,
        op,
        fireflyNs: median(firefly),
        interpretedNs: median(at("interpreted")),
        beamNs: median(beamNs),
        ratio: median(ratios),
        ratioRange: [Math.min(...ratios), Math.max(...ratios)],
        floorNs: median(floor),
        floorRatio: median(floorRatios),
      });
    }
  }
  return {
    table: table(rows),
    data: {
      batch: BATCH,
      cycles: cycleProfile.cycles,
      unit: "ns/element (median over cycles of each cycle's median round)",
      ratio:
        "median over cycles of the cycle's apache-beam/Firefly ratio; ratioRange: lowest and highest cycle",
      rows,
    },
  };
}

/** ns/element of one implementation in a cycle, for an operation. */
function timeOf(c: Cycle, impl: Impl, op: Row["op"]): number {
  const enc = c[`${impl}Encode`];
  const dec = c[`${impl}Decode`];
  return op === "encode" ? enc : op === "decode" ? dec : enc + dec;
}

/** The workload's floor operations, checked against Firefly's bytes and values first. */
function floorOps(
  w: Workload,
  bytes: Uint8Array,
): Partial<Record<"floorEncode" | "floorDecode", () => void>> {
  const floor = w.floor;
  if (floor === undefined) return {};
  const out = Buffer.alloc(bytes.length + 64);
  const input = Buffer.from(bytes);
  const written = floor.encode(w.values, out);
  if (Buffer.compare(out.subarray(0, written), bytes) !== 0)
    throw new Error(`${w.name}: the floor encodes differently`);
  const last = floor.last ?? (() => sink);
  if (floor.decode(input) !== w.values.length || !isDeepStrictEqual(last(), w.values.at(-1)))
    throw new Error(`${w.name}: the floor decodes differently`);
  return {
    floorEncode: () => floor.encode(w.values, out),
    floorDecode: () => floor.decode(input),
  };
}

/**
 * The floor of the iterable workload: counted arrays of non-negative varints
 * below 2^35, written by hand (no checks, no errors, no streaming).
 */
function varintsFloorEncode(values: readonly unknown[], out: Buffer): number {
  let p = 0;
  for (let i = 0; i < values.length; i++) {
    const a = values[i] as number[];
    const n = a.length;
    out[p] = n >>> 24;
    out[p + 1] = n >>> 16;
    out[p + 2] = n >>> 8;
    out[p + 3] = n;
    p += 4;
    for (let j = 0; j < n; j++) {
      let x = a[j]!;
      while (x >= 0x80) {
        out[p++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      out[p++] = x;
    }
  }
  return p;
}

let varintsSink: unknown;

/**
 * Decodes every iterable of `bytes`; returns the count. The fastest
 * JavaScript found for this shape: each varint read as a 4-byte word, its
 * length from the lowest clear top bit, no branches on the length (on these
 * mixed lengths a byte-by-byte loop mispredicts: 2x slower in the loop alone,
 * 1.2–1.4x with the arrays; finding the ends in a first pass was slower).
 */
function varintsFloorDecode(bytes: Buffer): number {
  const b = bytes;
  const end = b.length;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  let count = 0;
  while (p < end) {
    const n = view.getInt32(p);
    p += 4;
    const items = new Array<number>(n);
    let i = 0;
    for (; i < n && p + 5 <= end; i++) {
      const w = view.getInt32(p, true);
      const stops = ~w & 0x80808080;
      if (stops === 0) {
        const v =
          (w & 0x7f) | ((w >>> 1) & 0x3f80) | ((w >>> 2) & 0x1fc000) | ((w >>> 3) & 0xfe00000);
        items[i] = v + b[p + 4]! * 268435456;
        p += 5;
        continue;
      }
      const last = stops & -stops;
      const x = w & ((last << 1) - 1);
      items[i] =
        (x & 0x7f) | ((x >>> 1) & 0x3f80) | ((x >>> 2) & 0x1fc000) | ((x >>> 3) & 0xfe00000);
      p += (32 - Math.clz32(last)) >> 3;
    }
    for (; i < n; i++) {
      let x = b[p++]!;
      let v = x & 0x7f;
      for (let shift = 7; x >= 0x80; shift += 7) {
        x = b[p++]!;
        v += (x & 0x7f) * 2 ** shift;
      }
      items[i] = v;
    }
    varintsSink = items;
    count++;
  }
  return count;
}

function fireflyDecode(coder: Coder<unknown>, bytes: Uint8Array, n: number): void {
  const d = new StreamDecoder(coder);
  d.push(bytes);
  let count = 0;
  while (d.next() !== undefined) count++;
  if (count !== n) throw new Error("decoded a wrong number of elements");
}

function table(rows: Row[]): string {
  const lines = [
    `| workload | op | Firefly ns/elem | Firefly interpreted | apache-beam ns/elem | speed-up (cycles' range) | JS floor ns/elem (apache-beam ÷ floor) |`,
    `| --- | --- | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${r.op} | ${r.fireflyNs.toFixed(1)} | ${r.interpretedNs.toFixed(1)} | ${r.beamNs.toFixed(1)} | ${r.ratio.toFixed(1)}x (${r.ratioRange[0].toFixed(1)}–${r.ratioRange[1].toFixed(1)}) | ${Number.isNaN(r.floorNs) ? "—" : `${r.floorNs.toFixed(1)} (${r.floorRatio.toFixed(1)}x)`} |`,
    ),
  ];
  return lines.join("\n");
}
