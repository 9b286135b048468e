/**
 * Fuzz target `coders`: every standard coder (and nested compositions, and
 * the conformance specs) decodes random bytes and mutations of valid
 * encodings: one-shot in both contexts and streamed in random chunks. Every
 * input must give values or a `CoderError`; streamed elements must equal a
 * sequential decode; a decoded value must re-encode (or be rejected with a
 * `CoderError`) and decode again.
 */
import * as fs from "node:fs";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import {
  ByteReader,
  ByteUnderflow,
  DEFAULT_MAX_ZERO_SIZE_ELEMENTS,
  coderFromSpec,
  CoderError,
  ParamWindowedValueCoder,
  parseSchemaProto,
  StreamDecoder,
  type Coder,
  type CoderSpec,
  type Context,
  type DecodeOptions,
  type StateBackedIterableReader,
} from "../../coders/index.js";
import { specArb, valueArb, UNKNOWN_URN, type TestSpec } from "../coders/support/arbitraries.js";
import { loadConformanceCases, STANDARD_CODERS_YAML } from "../coders/support/conformance-cases.js";
import { Rng } from "./prng.js";
import type { FuzzCount, FuzzFinding, FuzzReport, FuzzRunOptions } from "./registry.js";

const S = (urn: string, ...components: TestSpec[]): TestSpec => ({
  urn: `beam:coder:${urn}:v1`,
  components,
});
const bytes = S("bytes");
const str = S("string_utf8");
const varint = S("varint");
const gw = S("global_window");
const iw = S("interval_window");

/** The coders fuzzed, by name. */
export function fuzzSpecs(): { name: string; spec: TestSpec }[] {
  const specs: { name: string; spec: TestSpec }[] = [
    { name: "bytes", spec: bytes },
    { name: "string_utf8", spec: str },
    { name: "varint", spec: varint },
    { name: "bool", spec: S("bool") },
    { name: "double", spec: S("double") },
    { name: "interval_window", spec: iw },
    { name: "global_window", spec: gw },
    { name: "kv(string,varint)", spec: S("kv", str, varint) },
    { name: "iterable(varint)", spec: S("iterable", varint) },
    { name: "iterable(bytes)", spec: S("iterable", bytes) },
    { name: "iterable(global_window)", spec: S("iterable", gw) },
    { name: "iterable(iterable(global_window))", spec: S("iterable", S("iterable", gw)) },
    { name: "state_backed_iterable(varint)", spec: S("state_backed_iterable", varint) },
    { name: "nullable(bytes)", spec: S("nullable", bytes) },
    { name: "length_prefix(kv(bytes,varint))", spec: S("length_prefix", S("kv", bytes, varint)) },
    { name: "length_prefix(unknown)", spec: S("length_prefix", { urn: UNKNOWN_URN }) },
    {
      name: "windowed_value(kv(string,varint),global)",
      spec: S("windowed_value", S("kv", str, varint), gw),
    },
    {
      name: "windowed_value(iterable(bytes),interval)",
      spec: S("windowed_value", S("iterable", bytes), iw),
    },
    { name: "timer(string,global)", spec: S("timer", str, gw) },
    { name: "timer(bytes,interval)", spec: S("timer", bytes, iw) },
    { name: "custom_window(interval)", spec: S("custom_window", iw) },
    {
      name: "custom_window(length_prefix(unknown))",
      spec: S("custom_window", S("length_prefix", { urn: UNKNOWN_URN })),
    },
    { name: "sharded_key(string)", spec: S("sharded_key", str) },
    {
      name: "kv(iterable(kv(string,nullable(double))),windowed_value(bool,interval))",
      spec: S(
        "kv",
        S("iterable", S("kv", str, S("nullable", S("double")))),
        S("windowed_value", S("bool"), iw),
      ),
    },
  ];
  fc.sample(specArb(3), { numRuns: 6, seed: 20250101 }).forEach((spec, i) =>
    specs.push({ name: `random nested #${i} ${spec.urn.split(":")[2]}`, spec }),
  );
  if (fs.existsSync(STANDARD_CODERS_YAML)) {
    for (const c of loadConformanceCases()) {
      if (
        c.spec.urn === "beam:coder:row:v1" ||
        c.spec.urn === "beam:coder:param_windowed_value:v1"
      ) {
        specs.push({ name: `conformance ${c.name}`, spec: complete(c.spec) });
      }
    }
  }
  return specs;
}

/** Adds what the value arbitraries need (row schemas, param windowed value constants). */
function complete(spec: CoderSpec): TestSpec {
  const components = (spec.components ?? []).map(complete);
  if (spec.urn === "beam:coder:row:v1")
    return { ...spec, components, schema: parseSchemaProto(spec.payload!) };
  if (spec.urn === "beam:coder:param_windowed_value:v1") {
    const coder = coderFromSpec(spec) as ParamWindowedValueCoder<unknown>;
    return { ...spec, components, params: { ...coder.params } };
  }
  return { ...spec, components };
}

/** A state reader serving random pages (tokens decode to something or fail typed). */
function randomStateReader(rng: Rng): StateBackedIterableReader {
  return { readPage: async () => ({ data: rng.bytes(rng.int(8)) }) };
}

const FORGED: readonly Uint8Array[] = [
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07),
  Uint8Array.of(0x7f, 0xff, 0xff, 0xff),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x00, 0x10, 0x00, 0x00),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80),
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
];

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** One input: random bytes, or a mutation of a valid encoding. */
function nextInput(rng: Rng, corpus: readonly Uint8Array[]): Uint8Array {
  const base = corpus.length > 0 ? rng.pick(corpus) : new Uint8Array(0);
  switch (rng.int(8)) {
    case 0:
      return rng.bytes(rng.chance(0.9) ? rng.int(24) : rng.int(300));
    case 1: {
      const out = Uint8Array.from(base);
      for (let k = 1 + rng.int(3); k > 0 && out.length > 0; k--)
        out[rng.int(out.length)] = rng.u32() & 0xff;
      return out;
    }
    case 2:
      return base.subarray(0, rng.int(base.length + 1));
    case 3: {
      const at = rng.int(base.length + 1);
      return concat(base.subarray(0, at), rng.bytes(1 + rng.int(4)), base.subarray(at));
    }
    case 4: {
      const at = rng.int(base.length + 1);
      return concat(
        base.subarray(0, at),
        base.subarray(Math.min(base.length, at + 1 + rng.int(4))),
      );
    }
    case 5: {
      const at = rng.int(base.length + 1);
      const forged = rng.pick(FORGED);
      return concat(
        base.subarray(0, at),
        forged,
        base.subarray(Math.min(base.length, at + forged.length)),
      );
    }
    case 6:
      return concat(base, rng.pick(corpus.length > 0 ? corpus : [base]));
    default:
      return Uint8Array.from(base);
  }
}

type Outcome = { ok: true; values: unknown[] } | { ok: false; error: CoderError };

/** The reference: decode elements one after another from one reader. */
function sequentialDecode(
  coder: Coder<unknown>,
  input: Uint8Array,
  limits: DecodeOptions,
): Outcome {
  const r = new ByteReader(input, limits);
  const values: unknown[] = [];
  try {
    while (r.pos < r.end) {
      const at = r.pos;
      r.zeroSizeBudget = limits.maxZeroSizeElements ?? DEFAULT_MAX_ZERO_SIZE_ELEMENTS;
      values.push(coder.decodeFrom(r, "nested"));
      if (r.pos === at)
        return { ok: false, error: new CoderError({ urn: coder.urn, expected: "progress" }) };
    }
  } catch (err) {
    if (err instanceof ByteUnderflow)
      return { ok: false, error: new CoderError({ urn: coder.urn, expected: "more" }) };
    if (err instanceof CoderError) return { ok: false, error: err };
    throw err;
  }
  return { ok: true, values };
}

function streamDecode(
  coder: Coder<unknown>,
  input: Uint8Array,
  rng: Rng,
  limits: DecodeOptions,
): Outcome {
  const decoder = new StreamDecoder(coder, { ...limits, maxElementBytes: 1 << 16 });
  const values: unknown[] = [];
  try {
    let at = 0;
    while (at < input.length) {
      const n = rng.chance(0.3) ? 1 : 1 + rng.int(input.length);
      decoder.push(input.subarray(at, at + n));
      at += n;
      for (let v = decoder.next(); v !== undefined; v = decoder.next()) values.push(v);
    }
    decoder.finish();
  } catch (err) {
    if (err instanceof CoderError) return { ok: false, error: err };
    throw err;
  }
  return { ok: true, values };
}

/** Runs the target: `options.cases` inputs per coder. */
export function run(options: FuzzRunOptions): FuzzReport {
  const counts: FuzzCount[] = [];
  const findings: FuzzFinding[] = [];
  const specs = fuzzSpecs();
  specs.forEach(({ name, spec }, index) => {
    const rng = new Rng(options.seed * 7919 + index);
    const coder = coderFromSpec(spec);
    const stateReader = randomStateReader(rng);
    // A small budget of zero-size elements keeps forged counts of global windows cheap.
    const limits = { stateReader, maxZeroSizeElements: 4096 };
    const corpus = fc
      .sample(valueArb(spec), { numRuns: 32, seed: options.seed + index })
      .flatMap((v) => [coder.encode(v, "nested"), coder.encode(v, "outer")]);
    const count: FuzzCount = { name, cases: 0, decoded: 0, rejected: 0, crashes: 0 };
    for (let i = 0; i < options.cases; i++) {
      const input = nextInput(rng, corpus);
      count.cases++;
      let label = "";
      try {
        for (const context of ["nested", "outer"] as Context[]) {
          label = `decode ${context}`;
          options.onCase?.(`${name}: ${label}`, input);
          let value: unknown;
          try {
            value = coder.decode(input, context, limits);
            count.decoded++;
          } catch (err) {
            if (!(err instanceof CoderError)) throw err;
            if (err.name !== "CoderError" || typeof err.urn !== "string")
              throw new Error("malformed CoderError", { cause: err });
            count.rejected++;
            continue;
          }
          label = `re-encode ${context}`;
          let again: Uint8Array;
          try {
            again = coder.encode(value, context);
          } catch (err) {
            if (err instanceof CoderError) continue;
            throw err;
          }
          coder.decode(again, context, limits);
        }
        if (coder.minSize > 0) {
          label = "stream";
          options.onCase?.(`${name}: ${label}`, input);
          const expected = sequentialDecode(coder, input, limits);
          const got = streamDecode(coder, input, rng, limits);
          if (
            expected.ok !== got.ok ||
            (expected.ok && got.ok && !isDeepStrictEqual(expected.values, got.values))
          ) {
            throw new Error(
              `stream decode differs from sequential decode (stream ok=${got.ok}, sequential ok=${expected.ok})`,
            );
          }
        }
      } catch (err) {
        count.crashes++;
        if (findings.length < 20) {
          findings.push({
            unit: name,
            label,
            inputHex: Buffer.from(input).toString("hex"),
            error:
              err instanceof Error
                ? `${err.name}: ${err.message}\n${err.stack ?? ""}`
                : String(err),
          });
        }
      }
    }
    counts.push(count);
  });
  return { counts, findings };
}
