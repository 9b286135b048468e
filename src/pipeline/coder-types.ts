/**
 * Coders as the pipeline builder declares them: a short name (`"string"`,
 * `"varint"`, `"double"`, `"bytes"`, `"bool"`, `"json"`), a composite built
 * with `kv`, `iterable`, `nullable`, a schema row of atomic fields built with
 * `row`, or any Beam coder spec `{urn, components, payload}`. Values whose coder is not declared use `"json"`
 * (`firefly:coder:json:v1`, see coders/json.ts); `create` infers its coder
 * from the values.
 */
import { createHash } from "node:crypto";
import {
  BOOL_URN,
  BYTES_URN,
  DOUBLE_URN,
  GLOBAL_WINDOW_URN,
  INTERVAL_WINDOW_URN,
  ITERABLE_URN,
  JSON_URN,
  KV_URN,
  NULLABLE_URN,
  STRING_UTF8_URN,
  TIMER_URN,
  VARINT_URN,
  ROW_URN,
  ATOMIC_TYPE_NAMES,
  coderFromSpec,
  isCoderRegistered,
  type AtomicTypeName,
  type CoderSpec,
} from "../../coders/index.js";
import { toSchemaProto } from "../../coders/row-schema.js";

export type CoderName = "string" | "varint" | "double" | "bytes" | "bool" | "json";

/** A coder spec with its URN and component specs (and a payload, e.g. for rows). */
export interface CoderProtoSpec {
  readonly urn: string;
  readonly components?: readonly CoderType[];
  readonly payload?: Uint8Array;
}

/** What a transform's `coder` option accepts. */
export type CoderType = CoderName | CoderProtoSpec;

const NAMED: Record<CoderName, string> = {
  string: STRING_UTF8_URN,
  varint: VARINT_URN,
  double: DOUBLE_URN,
  bytes: BYTES_URN,
  bool: BOOL_URN,
  json: JSON_URN,
};

/** The coder of values whose type is not declared. */
export const DEFAULT_CODER: CoderProtoSpec = { urn: JSON_URN };
export const GLOBAL_WINDOW_CODER: CoderProtoSpec = { urn: GLOBAL_WINDOW_URN };
export const INTERVAL_WINDOW_CODER: CoderProtoSpec = { urn: INTERVAL_WINDOW_URN };

export const kv = (key: CoderType, value: CoderType): CoderProtoSpec => ({
  urn: KV_URN,
  components: [normalizeCoder(key), normalizeCoder(value)],
});
export const iterable = (element: CoderType): CoderProtoSpec => ({
  urn: ITERABLE_URN,
  components: [normalizeCoder(element)],
});
export const nullable = (element: CoderType): CoderProtoSpec => ({
  urn: NULLABLE_URN,
  components: [normalizeCoder(element)],
});
export const timerCoder = (key: CoderType, window: CoderType): CoderProtoSpec => ({
  urn: TIMER_URN,
  components: [normalizeCoder(key), normalizeCoder(window)],
});

/** A field of `row`: an atomic schema type, with `?` after it when the field may be null. */
export type RowFieldTypeName = AtomicTypeName | `${AtomicTypeName}?`;

/**
 * A schema row coder (`beam:coder:row:v1`) of atomic fields, in the order
 * given: `row({ sensor: "STRING", reading: "DOUBLE", note: "STRING?" })`.
 * Values are plain objects by field name (`null` for null fields). The
 * schema's id is derived from its fields, so equal schemas get equal ids.
 */
export function row(fields: Readonly<Record<string, RowFieldTypeName>>): CoderProtoSpec {
  const schemaFields = Object.entries(fields).map(([name, type]) => {
    const nullable = typeof type === "string" && type.endsWith("?");
    const atomic = (nullable ? type.slice(0, -1) : type) as AtomicTypeName;
    if (!ATOMIC_TYPE_NAMES.includes(atomic))
      throw new TypeError(
        `row field ${JSON.stringify(name)}: ${JSON.stringify(type)} is not an atomic type (${ATOMIC_TYPE_NAMES.join(", ")}, each optionally followed by "?")`,
      );
    return { name, type: { kind: "atomic" as const, atomic, nullable } };
  });
  if (schemaFields.length === 0) throw new TypeError("row: a schema needs at least one field");
  const digest = createHash("sha256").update(JSON.stringify(schemaFields)).digest("hex");
  const id = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
  return {
    urn: ROW_URN,
    payload: toSchemaProto({ id, fields: schemaFields }).serializeBinary(),
  };
}

/** The full spec of a coder type (names resolved, components normalized); validates it. */
export function normalizeCoder(type: CoderType, where = "coder"): CoderProtoSpec {
  if (typeof type === "string") {
    const urn = NAMED[type];
    if (!urn)
      throw new TypeError(
        `${where}: unknown coder name ${JSON.stringify(type)} (names: ${Object.keys(NAMED).join(", ")}; or kv(k, v), iterable(e), nullable(e), {urn, components})`,
      );
    return { urn };
  }
  if (type === null || typeof type !== "object" || typeof type.urn !== "string" || !type.urn) {
    throw new TypeError(
      `${where}: a coder is a name (${Object.keys(NAMED).join(", ")}) or {urn, components?, payload?}, got ${String(type)}`,
    );
  }
  const components = (type.components ?? []).map((c, i) =>
    normalizeCoder(c, `${where} component ${i}`),
  );
  return { urn: type.urn, components, payload: type.payload };
}

function toCoderSpec(spec: CoderProtoSpec): CoderSpec {
  return {
    urn: spec.urn,
    payload: spec.payload,
    components: (spec.components ?? []).map((c) => toCoderSpec(c as CoderProtoSpec)),
  };
}

/**
 * Checks that Firefly can build the coder (URNs registered, components right),
 * so a bad declaration fails at construction, not in the worker.
 */
export function checkCoder(spec: CoderProtoSpec, where: string): void {
  const unknown = (s: CoderProtoSpec): string | undefined =>
    isCoderRegistered(s.urn)
      ? (s.components ?? []).map((c) => unknown(c as CoderProtoSpec)).find((u) => u)
      : s.urn;
  const missing = unknown(spec);
  if (missing)
    throw new TypeError(`${where}: coder URN ${JSON.stringify(missing)} is not implemented`);
  try {
    coderFromSpec(toCoderSpec(spec));
  } catch (err) {
    throw new TypeError(`${where}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** Encodes each value with the coder: a value the coder cannot take fails here, naming it. */
export function checkValues(spec: CoderProtoSpec, values: readonly unknown[], where: string): void {
  const coder = coderFromSpec(toCoderSpec(spec));
  values.forEach((value, i) => {
    try {
      coder.encode(value, "nested");
    } catch (err) {
      throw new TypeError(
        `${where}: value ${i} cannot be encoded with ${spec.urn}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  });
}

const isKvValue = (v: unknown): v is { key: unknown; value: unknown } =>
  v !== null &&
  typeof v === "object" &&
  !Array.isArray(v) &&
  Object.keys(v).length === 2 &&
  "key" in v &&
  "value" in v;

/**
 * The coder of a list of values: strings → string, booleans → bool, safe
 * integers or bigints → varint, numbers → double, Uint8Arrays → bytes,
 * `{key, value}` objects → kv of the inferred key and value coders; anything
 * else (mixed kinds, other objects, an empty list) → json.
 */
export function inferCoder(values: readonly unknown[]): CoderProtoSpec {
  if (values.length === 0) return DEFAULT_CODER;
  const all = (test: (v: unknown) => boolean) => values.every(test);
  if (all((v) => typeof v === "string")) return { urn: STRING_UTF8_URN };
  if (all((v) => typeof v === "boolean")) return { urn: BOOL_URN };
  if (all((v) => Number.isSafeInteger(v) || typeof v === "bigint")) return { urn: VARINT_URN };
  if (all((v) => typeof v === "number")) return { urn: DOUBLE_URN };
  if (all((v) => v instanceof Uint8Array)) return { urn: BYTES_URN };
  if (all(isKvValue)) {
    const kvs = values as { key: unknown; value: unknown }[];
    return kv(inferCoder(kvs.map((e) => e.key)), inferCoder(kvs.map((e) => e.value)));
  }
  return DEFAULT_CODER;
}

export const isKvCoder = (spec: CoderProtoSpec): boolean =>
  spec.urn === KV_URN && (spec.components?.length ?? 0) === 2;

/** The key and value coders of a KV coder. */
export function kvComponents(spec: CoderProtoSpec): [CoderProtoSpec, CoderProtoSpec] {
  const [k, v] = spec.components ?? [];
  return [k as CoderProtoSpec, v as CoderProtoSpec];
}
