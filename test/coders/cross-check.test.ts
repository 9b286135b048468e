/**
 * Cross-check against Apache Beam's TypeScript coders (apache-beam 2.49):
 * wherever both implement a coder, random values encode to the same bytes,
 * and Firefly decodes Beam's bytes back to the value.
 *
 * Beam's TypeScript SDK limits the domain: its varint coder is int32-only,
 * its row coder has no BYTE/INT16/FLOAT/DOUBLE/map/logical support and
 * writes negative INT32 fields in the 10-byte form (Java writes 5 bytes), its
 * pane coder is int32-only, so
 * those are left out here (the conformance vectors cover them).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  coderFromSpec,
  GLOBAL_WINDOW,
  type CoderSpec,
  type Context,
  type RowFieldType,
  type RowSchema,
} from "../../coders/index.js";
import { beamCoder, beamEncode, toBeamValue } from "./support/beam-coders.js";
import {
  paneValue,
  rowValue,
  timestampValue,
  utf8String,
  bytesValue,
} from "./support/arbitraries.js";
import { schemaPayload } from "./support/schema-proto.js";

const RUNS = Number(process.env.FIREFLY_PROPERTY_RUNS ?? 300);

interface Spec extends CoderSpec {
  readonly components?: readonly Spec[];
  readonly schema?: RowSchema;
}

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
/** Beam's TypeScript pane coder writes indices with protobufjs int32. */
const int32Pane = paneValue.map((p) => ({ ...p, index: p.index % 2 ** 31 }));

const rowType: fc.Arbitrary<RowFieldType> = fc.letrec<{ t: RowFieldType }>((tie) => ({
  t: fc.oneof(
    { depthSize: "small", maxDepth: 2 },
    fc
      .tuple(fc.constantFrom("INT32", "INT64", "STRING", "BOOLEAN", "BYTES" as const), fc.boolean())
      .map(([atomic, nullable]): RowFieldType => ({ kind: "atomic", atomic, nullable })),
    fc
      .tuple(tie("t"), fc.boolean())
      .map(([element, nullable]): RowFieldType => ({ kind: "array", element, nullable })),
    fc
      .tuple(fc.array(tie("t"), { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([types, nullable]): RowFieldType => ({
        kind: "row",
        nullable,
        schema: { fields: types.map((type, i) => ({ name: `n${i}`, type })) },
      })),
  ),
})).t;

const rowSchema = fc
  .array(rowType, { minLength: 1, maxLength: 10 })
  .map((types): RowSchema => ({ fields: types.map((type, i) => ({ name: `f${i}`, type })) }));

const spec: fc.Arbitrary<Spec> = fc.letrec<{ s: Spec }>((tie) => ({
  s: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    fc.constantFrom<Spec>(
      { urn: "beam:coder:bytes:v1" },
      { urn: "beam:coder:string_utf8:v1" },
      { urn: "beam:coder:varint:v1" },
      { urn: "beam:coder:bool:v1" },
      { urn: "beam:coder:double:v1" },
      { urn: "beam:coder:interval_window:v1" },
    ),
    fc.tuple(tie("s"), tie("s")).map(([k, v]) => ({ urn: "beam:coder:kv:v1", components: [k, v] })),
    tie("s").map((e) => ({ urn: "beam:coder:iterable:v1", components: [e] })),
    tie("s").map((e) => ({ urn: "beam:coder:nullable:v1", components: [e] })),
    tie("s").map((e) => ({ urn: "beam:coder:length_prefix:v1", components: [e] })),
    fc
      .tuple(
        tie("s"),
        fc.constantFrom<Spec>(
          { urn: "beam:coder:global_window:v1" },
          { urn: "beam:coder:interval_window:v1" },
        ),
      )
      .map(([v, w]) => ({ urn: "beam:coder:windowed_value:v1", components: [v, w] })),
    rowSchema.map((schema) => ({
      urn: "beam:coder:row:v1",
      payload: schemaPayload(schema),
      schema,
    })),
  ),
})).s;

/** Beam-TS-compatible values: int32 varints, non-negative INT32/INT64 row fields. */
function value(s: Spec): fc.Arbitrary<unknown> {
  const c = (s.components ?? []).map(value);
  switch (s.urn) {
    case "beam:coder:bytes:v1":
      return bytesValue;
    case "beam:coder:string_utf8:v1":
      return utf8String;
    case "beam:coder:varint:v1":
      return int32;
    case "beam:coder:bool:v1":
      return fc.boolean();
    case "beam:coder:double:v1":
      return fc.double();
    case "beam:coder:interval_window:v1":
      return fc
        .tuple(
          fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
          fc.bigInt({ min: 0n, max: 2n ** 40n }),
        )
        .map(([end, span]) => ({ start: end - span, end, maxTimestamp: end - 1n }));
    case "beam:coder:global_window:v1":
      return fc.constant(GLOBAL_WINDOW);
    case "beam:coder:kv:v1":
      return fc.tuple(c[0]!, c[1]!).map(([key, v]) => ({ key, value: v }));
    case "beam:coder:iterable:v1":
      return fc.array(c[0]!, { maxLength: 5 });
    case "beam:coder:nullable:v1":
      return fc.option(c[0]!, { nil: null });
    case "beam:coder:length_prefix:v1":
      return c[0]!;
    case "beam:coder:windowed_value:v1":
      return fc
        .tuple(c[0]!, timestampValue, fc.array(c[1]!, { maxLength: 3 }), int32Pane)
        .map(([v, timestamp, windows, pane]) => ({ value: v, timestamp, windows, pane }));
    case "beam:coder:row:v1":
      return rowValue(s.schema!).map((row) => clampRow(s.schema!, row));
    default:
      throw new Error(s.urn);
  }
}

/** Beam's row coder writes INT32/INT64 with protobufjs int32: keep them non-negative int32. */
function clampInts(t: RowFieldType, v: unknown): unknown {
  if (v === null) return v;
  switch (t.kind) {
    case "atomic":
      return t.atomic === "INT32" || t.atomic === "INT64"
        ? Number(BigInt.asUintN(31, BigInt(v as number)))
        : v;
    case "array":
      return (v as unknown[]).map((e) => clampInts(t.element, e));
    case "row":
      return clampRow(t.schema, v as Record<string, unknown>);
    default:
      return v;
  }
}

function clampRow(schema: RowSchema, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) out[f.name] = clampInts(f.type, row[f.name]);
  return out;
}

describe("cross-check with apache-beam 2.49 coders", () => {
  for (const context of ["nested", "outer"] as Context[]) {
    it(`encodes to the same bytes (${context})`, () => {
      fc.assert(
        fc.property(
          spec.chain((s) => fc.tuple(fc.constant(s), value(s))),
          ([s, v]) => {
            const ours = coderFromSpec(s).encode(v, context);
            const theirs = beamEncode(beamCoder(s), toBeamValue(s, v), context);
            assert.equal(Buffer.from(ours).toString("hex"), Buffer.from(theirs).toString("hex"));
            assert.deepStrictEqual(coderFromSpec(s).decode(theirs, context), v);
          },
        ),
        { numRuns: RUNS },
      );
    });
  }
});
