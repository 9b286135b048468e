/**
 * fast-check arbitraries: random coder specs (every standard coder, nested
 * compositions, random row schemas) and random values of the value model
 * for a spec.
 */
import fc from "fast-check";
import {
  ATOMIC_TYPE_NAMES,
  BytesCoder,
  coderFromSpec,
  GLOBAL_WINDOW,
  GLOBAL_WINDOW_MAX_TIMESTAMP,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  WindowedValueCoder,
  type BoundedWindow,
  type Coder,
  type CoderSpec,
  type PaneInfo,
  type RowFieldType,
  type RowSchema,
} from "../../../coders/index.js";
import { INT64_MAX, INT64_MIN } from "../../../coders/int64.js";
import { schemaPayload } from "./schema-proto.js";

/** A spec with what the test needs to generate its values. */
export interface TestSpec extends CoderSpec {
  readonly components?: readonly TestSpec[];
  /** param_windowed_value: the constant parts its payload encodes. */
  readonly params?: { timestamp: bigint; windows: readonly BoundedWindow[]; pane: PaneInfo };
  /** row: the schema its payload encodes. */
  readonly schema?: RowSchema;
}

/** `fc.record` with an ordinary prototype (the decoders build plain objects). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model).map((o) => ({ ...o }) as T);
}

/** A URN no SDK implements (only valid inside a length prefix). */
export const UNKNOWN_URN = "test:coder:unknown:v1";

/** An int64 in the value model: number when safe, else bigint. */
export function normalizeInt(v: bigint): number | bigint {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

export const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });

/** Integers that exercise every varint length, as the value model holds them. */
export const varintValue: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.integer({ min: -1000, max: 100000 }),
  fc.integer(),
  fc.maxSafeInteger(),
  int64.map(normalizeInt),
  fc.constantFrom<number | bigint>(
    0,
    -1,
    127,
    128,
    2 ** 31 - 1,
    2 ** 32,
    2 ** 53 - 1,
    -(2 ** 53) + 1,
    INT64_MIN,
    INT64_MAX,
    2n ** 53n,
  ),
);

export const timestampValue: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }),
  fc.constantFrom(MIN_TIMESTAMP, MAX_TIMESTAMP, GLOBAL_WINDOW_MAX_TIMESTAMP, 0n, -1n),
  int64,
);

/** Panes as Beam makes them (UNKNOWN panes have no indices; EARLY ones have on-time index -1). */
export const paneValue: fc.Arbitrary<PaneInfo> = fc
  .record({
    isFirst: fc.boolean(),
    isLast: fc.boolean(),
    timing: fc.constantFrom("EARLY", "ON_TIME", "LATE", "UNKNOWN" as const),
    index: fc.oneof(fc.constant(0), fc.nat(), fc.maxSafeNat()),
    onTimeIndex: fc.oneof(fc.constant(0), fc.nat()),
  })
  .map((p): PaneInfo => {
    if (p.timing === "UNKNOWN") return { ...p, index: 0, onTimeIndex: 0 };
    if (p.timing === "EARLY") return { ...p, onTimeIndex: -1 };
    return { ...p };
  });

export const utf8String = fc.oneof(
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 60 }),
  fc.string({ unit: "binary", minLength: 40, maxLength: 200 }),
);
export const bytesValue = fc.oneof(
  fc.uint8Array({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 300 }),
);

const leafSpecs: fc.Arbitrary<TestSpec> = fc.constantFrom<TestSpec>(
  { urn: "beam:coder:bytes:v1" },
  { urn: "beam:coder:string_utf8:v1" },
  { urn: "beam:coder:varint:v1" },
  { urn: "beam:coder:bool:v1" },
  { urn: "beam:coder:double:v1" },
  { urn: "beam:coder:interval_window:v1" },
  { urn: "beam:coder:global_window:v1" },
);

/** Window coder specs. */
export const windowSpec: fc.Arbitrary<TestSpec> = fc.constantFrom<TestSpec>(
  { urn: "beam:coder:global_window:v1" },
  { urn: "beam:coder:interval_window:v1" },
  { urn: "beam:coder:custom_window:v1", components: [{ urn: "beam:coder:interval_window:v1" }] },
  {
    urn: "beam:coder:custom_window:v1",
    components: [{ urn: "beam:coder:length_prefix:v1", components: [{ urn: UNKNOWN_URN }] }],
  },
);

const atomicTypes = fc.constantFrom(...ATOMIC_TYPE_NAMES);

const microsRepresentation: RowFieldType = {
  kind: "row",
  schema: {
    fields: [
      { name: "seconds", type: { kind: "atomic", atomic: "INT64" } },
      { name: "micros", type: { kind: "atomic", atomic: "INT64" } },
    ],
  },
};

const logicalTypes = fc.constantFrom<RowFieldType>(
  {
    kind: "logical",
    urn: "beam:logical_type:millis_instant:v1",
    representation: { kind: "atomic", atomic: "INT64" },
  },
  {
    kind: "logical",
    urn: "beam:logical_type:micros_instant:v1",
    representation: microsRepresentation,
  },
  {
    kind: "logical",
    urn: "beam:logical_type:decimal:v1",
    representation: { kind: "atomic", atomic: "BYTES" },
  },
  {
    kind: "logical",
    urn: "beam:logical_type:fixed_bytes:v1",
    representation: { kind: "atomic", atomic: "BYTES" },
  },
  {
    kind: "logical",
    urn: "beam:logical_type:var_char:v1",
    representation: { kind: "atomic", atomic: "STRING" },
  },
);

function withNullable(t: fc.Arbitrary<RowFieldType>): fc.Arbitrary<RowFieldType> {
  return fc.tuple(t, fc.boolean()).map(([type, nullable]) => ({ ...type, nullable }));
}

/** Random schemas: every atomic type, arrays, iterables, maps, nested rows, logical types, encoding positions. */
export function schemaArb(maxDepth = 2): fc.Arbitrary<RowSchema> {
  const { schema } = fc.letrec<{ type: RowFieldType; schema: RowSchema }>((tie) => ({
    type: fc.oneof(
      { depthSize: "small", maxDepth },
      withNullable(atomicTypes.map((atomic): RowFieldType => ({ kind: "atomic", atomic }))),
      withNullable(logicalTypes),
      withNullable(tie("type").map((element): RowFieldType => ({ kind: "array", element }))),
      withNullable(tie("type").map((element): RowFieldType => ({ kind: "iterable", element }))),
      withNullable(
        fc
          .tuple(fc.constantFrom("STRING", "INT32", "INT64", "BOOLEAN" as const), tie("type"))
          .map(([atomic, value]): RowFieldType => ({
            kind: "map",
            key: { kind: "atomic", atomic },
            value,
          })),
      ),
      withNullable(tie("schema").map((s): RowFieldType => ({ kind: "row", schema: s }))),
    ),
    schema: fc
      .tuple(
        fc.array(tie("type"), { maxLength: 10 }),
        fc.boolean(),
        fc.array(fc.double(), { minLength: 10, maxLength: 10 }),
      )
      .map(([types, positioned, keys]) => {
        const order = types.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
        return {
          fields: types.map((type, i) => ({
            name: `f${i}`,
            type,
            encodingPosition: positioned ? order.indexOf(i) : 0,
          })),
          encodingPositionsSet: positioned,
        };
      }),
  }));
  return schema;
}

/** Random coder specs, nested up to `maxDepth`. */
export function specArb(maxDepth = 3): fc.Arbitrary<TestSpec> {
  const { spec } = fc.letrec<{ spec: TestSpec }>((tie) => ({
    spec: fc.oneof(
      { depthSize: "small", maxDepth },
      leafSpecs,
      fc
        .tuple(tie("spec"), tie("spec"))
        .map(([k, v]) => ({ urn: "beam:coder:kv:v1", components: [k, v] })),
      tie("spec").map((e) => ({ urn: "beam:coder:iterable:v1", components: [e] })),
      tie("spec").map((e) => ({ urn: "beam:coder:state_backed_iterable:v1", components: [e] })),
      tie("spec").map((e) => ({ urn: "beam:coder:nullable:v1", components: [e] })),
      tie("spec").map((e) => ({ urn: "beam:coder:length_prefix:v1", components: [e] })),
      fc.constant<TestSpec>({
        urn: "beam:coder:length_prefix:v1",
        components: [{ urn: UNKNOWN_URN }],
      }),
      tie("spec").map((k) => ({ urn: "beam:coder:sharded_key:v1", components: [k] })),
      fc
        .tuple(tie("spec"), windowSpec)
        .map(([v, w]) => ({ urn: "beam:coder:windowed_value:v1", components: [v, w] })),
      fc
        .tuple(tie("spec"), windowSpec)
        .chain(([v, w]) =>
          windowsValue(w).chain((windows) =>
            record({ timestamp: timestampValue, pane: paneValue }).map(({ timestamp, pane }) =>
              paramSpec(v, w, { timestamp, windows, pane }),
            ),
          ),
        ),
      fc
        .tuple(tie("spec"), windowSpec)
        .map(([k, w]) => ({ urn: "beam:coder:timer:v1", components: [k, w] })),
      windowSpec,
      schemaArb(2).map((schema) => ({
        urn: "beam:coder:row:v1",
        payload: schemaPayload(schema),
        schema,
      })),
    ),
  }));
  return spec;
}

function paramSpec(v: TestSpec, w: TestSpec, params: NonNullable<TestSpec["params"]>): TestSpec {
  const windowCoder = coderFromSpec(w) as Coder<BoundedWindow>;
  const full = new WindowedValueCoder(new BytesCoder(), windowCoder);
  const payload = full.encode({ value: new Uint8Array(0), ...params }, "nested");
  // The decoded constants are what the coder hands out.
  const decoded = full.decode(payload, "nested");
  return {
    urn: "beam:coder:param_windowed_value:v1",
    payload,
    components: [v, w],
    params: { timestamp: decoded.timestamp, windows: decoded.windows, pane: decoded.pane },
  };
}

function windowsValue(w: TestSpec): fc.Arbitrary<BoundedWindow[]> {
  return w.urn === "beam:coder:global_window:v1"
    ? fc.constantFrom([GLOBAL_WINDOW], [], [GLOBAL_WINDOW, GLOBAL_WINDOW])
    : fc.array(valueArb(w) as fc.Arbitrary<BoundedWindow>, { maxLength: 3 });
}

/** Random values of the value model for a spec. */
export function valueArb(spec: TestSpec): fc.Arbitrary<unknown> {
  const c = (spec.components ?? []).map(valueArb);
  switch (spec.urn) {
    case "beam:coder:bytes:v1":
    case UNKNOWN_URN:
      return bytesValue;
    case "beam:coder:string_utf8:v1":
      return utf8String;
    case "beam:coder:varint:v1":
      return varintValue;
    case "beam:coder:bool:v1":
      return fc.boolean();
    case "beam:coder:double:v1":
      return fc.double();
    case "beam:coder:interval_window:v1":
      return fc
        .tuple(int64, int64)
        .map(([end, span]) => ({ start: end - span, end, maxTimestamp: end - 1n }));
    case "beam:coder:global_window:v1":
      return fc.constant(GLOBAL_WINDOW);
    case "beam:coder:custom_window:v1":
      return record({ maxTimestamp: int64, window: c[0]! });
    case "beam:coder:kv:v1":
      return record({ key: c[0]!, value: c[1]! });
    case "beam:coder:iterable:v1":
    case "beam:coder:state_backed_iterable:v1":
      return fc.array(c[0]!, { maxLength: 6 });
    case "beam:coder:nullable:v1":
      return fc.option(c[0]!, { nil: null });
    case "beam:coder:length_prefix:v1":
      return c[0]!;
    case "beam:coder:sharded_key:v1":
      return record({ shardId: bytesValue, key: c[0]! });
    case "beam:coder:windowed_value:v1":
      return record({
        value: c[0]!,
        timestamp: timestampValue,
        windows: windowsValue(spec.components![1]!),
        pane: paneValue,
      });
    case "beam:coder:param_windowed_value:v1":
      return c[0]!.map((value) => ({ value, ...spec.params! }));
    case "beam:coder:timer:v1": {
      const base = {
        userKey: c[0]!,
        dynamicTimerTag: utf8String,
        windows: windowsValue(spec.components![1]!),
      };
      return fc.oneof(
        record({ ...base, clearBit: fc.constant(true as const) }),
        record({
          ...base,
          clearBit: fc.constant(false as const),
          fireTimestamp: timestampValue,
          holdTimestamp: timestampValue,
          pane: paneValue,
        }),
      );
    }
    case "beam:coder:row:v1":
      return rowValue(spec.schema!);
    default:
      throw new Error(`no value arbitrary for ${spec.urn}`);
  }
}

/** Random rows of a schema. */
export function rowValue(schema: RowSchema): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of schema.fields) fields[f.name] = fieldValue(f.type);
  return record(fields);
}

function fieldValue(t: RowFieldType): fc.Arbitrary<unknown> {
  const v = nonNullFieldValue(t);
  return t.nullable ? fc.option(v, { nil: null }) : v;
}

function nonNullFieldValue(t: RowFieldType): fc.Arbitrary<unknown> {
  switch (t.kind) {
    case "atomic":
      switch (t.atomic) {
        case "BYTE":
          return fc.integer({ min: -128, max: 127 });
        case "INT16":
          return fc.integer({ min: -32768, max: 32767 });
        case "INT32":
          return fc.integer();
        case "INT64":
          return varintValue;
        case "FLOAT":
          return fc.float();
        case "DOUBLE":
          return fc.double();
        case "STRING":
          return utf8String;
        case "BOOLEAN":
          return fc.boolean();
        case "BYTES":
          return bytesValue;
      }
      break;
    case "array":
    case "iterable":
      return fc.array(fieldValue(t.element), { maxLength: 4 });
    case "map":
      return fc
        .uniqueArray(fc.tuple(nonNullFieldValue(t.key), fieldValue(t.value)), {
          selector: (e) => e[0],
          maxLength: 4,
        })
        .map((entries) => new Map(entries));
    case "row":
      return rowValue(t.schema);
    case "logical":
      switch (t.urn) {
        case "beam:logical_type:millis_instant:v1":
          return int64;
        case "beam:logical_type:micros_instant:v1":
          return fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n });
        case "beam:logical_type:decimal:v1":
          return record({
            unscaled: fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
            scale: fc.integer(),
          });
        default:
          return nonNullFieldValue(t.representation!);
      }
  }
}
