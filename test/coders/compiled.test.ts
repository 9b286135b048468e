/**
 * Compiled coders (`coders/codegen.ts`) against the interpreted ones: for
 * random specs, values (valid and not) and bytes (valid, mutated, random),
 * both give the same bytes, the same values and the same errors, one-shot
 * and streamed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ByteWriter,
  coderFromSpec,
  GLOBAL_WINDOWS,
  NO_FIRING,
  StreamDecoder,
  type Coder,
  type CoderSpec,
  type Context,
} from "../../coders/index.js";
import { compiledSource } from "../../coders/codegen.js";
import { specArb, valueArb, type TestSpec } from "./support/arbitraries.js";
import { mutate, mutation } from "./support/mutations.js";

const RUNS = Number(process.env.FIREFLY_PROPERTY_RUNS ?? 300);
const CONTEXTS: Context[] = ["nested", "outer"];

type Outcome = { value: unknown } | { error: string };

function outcome(f: () => unknown): Outcome {
  try {
    return { value: f() };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

function pair(spec: CoderSpec): [Coder<unknown>, Coder<unknown>] {
  return [coderFromSpec(spec), coderFromSpec(spec, { compile: false })];
}

function streamed(coder: Coder<unknown>, bytes: Uint8Array, cut: number): Outcome {
  return outcome(() => {
    const d = new StreamDecoder(coder, { maxZeroSizeElements: 4096, maxElementBytes: 1 << 16 });
    const out: unknown[] = [];
    const at = cut % (bytes.length + 1);
    for (const chunk of [bytes.subarray(0, at), bytes.subarray(at)]) {
      d.push(chunk);
      for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
    }
    d.finish();
    return out;
  });
}

const KV = {
  urn: "beam:coder:kv:v1",
  components: [{ urn: "beam:coder:string_utf8:v1" }, { urn: "beam:coder:varint:v1" }],
};
const WINDOWED_KV = {
  urn: "beam:coder:windowed_value:v1",
  components: [KV, { urn: "beam:coder:global_window:v1" }],
};

describe("compiled coders", () => {
  it("are compiled by default, and not with compile: false", () => {
    const source = compiledSource(coderFromSpec(WINDOWED_KV));
    assert.ok(source?.includes("function decode_nested"), "no generated decode");
    assert.ok(source?.includes("function encode_outer"), "no generated encode");
    assert.equal(compiledSource(coderFromSpec(WINDOWED_KV, { compile: false })), undefined);
    // Coders without an inline form stay interpreted.
    assert.equal(compiledSource(coderFromSpec({ urn: "beam:coder:bytes:v1" })), undefined);
  });

  it("carry no text of the spec in the generated source", () => {
    const spec = {
      urn: "beam:coder:length_prefix:v1",
      components: [{ urn: 'x:evil");process.exit(1);//' }],
    };
    const kv = { urn: "beam:coder:kv:v1", components: [spec, { urn: "beam:coder:varint:v1" }] };
    const source = compiledSource(coderFromSpec(kv));
    assert.ok(source !== undefined);
    assert.ok(!source.includes("evil"), source);
  });

  it("take the slow path for every unusual part of a windowed KV", () => {
    const [compiled, interpreted] = pair(WINDOWED_KV);
    const base = {
      value: { key: "k", value: 1 },
      timestamp: 5n,
      windows: GLOBAL_WINDOWS,
      pane: NO_FIRING,
    };
    const values: unknown[] = [
      base,
      { ...base, value: { key: "é".repeat(50), value: -1 } },
      { ...base, value: { key: "x".repeat(300), value: 2 ** 40 } },
      { ...base, value: { key: "k", value: 2n ** 63n - 1n } },
      { ...base, timestamp: 7 },
      { ...base, timestamp: -(2n ** 63n) },
      { ...base, windows: [{ maxTimestamp: 0n }] },
      { ...base, pane: { isFirst: true, isLast: false, timing: "LATE", index: 3, onTimeIndex: 1 } },
      { ...base, timestamp: "soon" },
      { ...base, windows: "all" },
      { ...base, pane: { timing: "NEVER" } },
      { ...base, value: null },
      { ...base, value: { key: 5, value: 1 } },
      { ...base, value: { key: "k", value: 1.5 } },
      { ...base, value: { key: "k", value: 2n ** 64n } },
      null,
      42,
    ];
    for (const v of values) {
      for (const context of CONTEXTS) {
        const a = outcome(() => compiled.encode(v as never, context));
        const b = outcome(() => interpreted.encode(v as never, context));
        assert.deepStrictEqual(
          a,
          b,
          `encode ${String(JSON.stringify(v, (_, x: unknown) => (typeof x === "bigint" ? `${x}n` : x)))}`,
        );
        if ("value" in a) {
          const bytes = a.value as Uint8Array;
          assert.deepStrictEqual(
            outcome(() => compiled.decode(bytes, context)),
            outcome(() => interpreted.decode(bytes, context)),
          );
        }
      }
    }
  });

  for (const context of CONTEXTS) {
    it(`encode the same bytes and raise the same errors (${context})`, () => {
      fc.assert(
        fc.property(
          specArb(3).chain((spec: TestSpec) =>
            fc.tuple(
              fc.constant(spec),
              fc.array(fc.oneof({ weight: 4, arbitrary: valueArb(spec) }, fc.anything()), {
                maxLength: 4,
              }),
            ),
          ),
          ([spec, values]) => {
            const [compiled, interpreted] = pair(spec);
            for (const v of values) {
              assert.deepStrictEqual(
                outcome(() => compiled.encode(v, context)),
                outcome(() => interpreted.encode(v, context)),
              );
            }
          },
        ),
        { numRuns: RUNS },
      );
    });

    it(`decode valid, mutated and random bytes alike (${context})`, () => {
      fc.assert(
        fc.property(
          specArb(3).chain((spec: TestSpec) =>
            fc.tuple(fc.constant(spec), valueArb(spec), fc.array(mutation, { maxLength: 3 })),
          ),
          fc.uint8Array({ maxLength: 64 }),
          ([spec, value, mutations], random) => {
            const [compiled, interpreted] = pair(spec);
            let bytes = interpreted.encode(value, context);
            const inputs = [bytes];
            for (const m of mutations) inputs.push((bytes = mutate(bytes, m)));
            inputs.push(random);
            for (const input of inputs) {
              assert.deepStrictEqual(
                outcome(() => compiled.decode(input, context, { maxZeroSizeElements: 4096 })),
                outcome(() => interpreted.decode(input, context, { maxZeroSizeElements: 4096 })),
              );
            }
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  it("stream mutated element streams alike under any cut", () => {
    fc.assert(
      fc.property(
        specArb(3).chain((spec: TestSpec) =>
          fc.tuple(
            fc.constant(spec),
            fc.array(valueArb(spec), { minLength: 1, maxLength: 5 }),
            fc.array(mutation, { maxLength: 2 }),
          ),
        ),
        fc.nat(),
        ([spec, values, mutations], cut) => {
          const [compiled, interpreted] = pair(spec);
          const writer = new ByteWriter(64);
          for (const v of values) interpreted.encodeTo(v, writer, "nested");
          let bytes: Uint8Array = writer.toBytes();
          for (const m of mutations) bytes = mutate(bytes, m);
          assert.deepStrictEqual(streamed(compiled, bytes, cut), streamed(interpreted, bytes, cut));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
