/**
 * Configuration rows of cross-language transforms: a Beam schema inferred
 * from plain values and the values encoded with Beam's row coder
 * (`beam:coder:row:v1`), as an `ExternalConfigurationPayload` — the payload
 * Python's `beam:transforms:python:fully_qualified_named` and Java's
 * registered external transforms (Kafka, JDBC, ... IOs) read.
 *
 * Field types are inferred from the values: strings → STRING, safe integers
 * and bigints → INT64, other numbers → DOUBLE, booleans → BOOLEAN,
 * Uint8Arrays → BYTES, arrays → ARRAY of their elements' type, plain objects
 * → a nested ROW, {@link pythonCallable} → Beam's `python_callable` logical
 * type; {@link typed} gives a type explicitly (e.g. a nullable field or an
 * INT32 that Java expects).
 */
import { createHash } from "node:crypto";
import { RowCoder } from "../../coders/row.js";
import { toSchemaProto, type RowFieldType, type RowSchema } from "../../coders/row-schema.js";
import { externalApi } from "../../proto/index.js";

export const PYTHON_CALLABLE_URN = "beam:logical_type:python_callable:v1";

/** Python source text of a callable (`"lambda x: x * 2"`, a `def`), run by Python's SDK. */
export class PythonCallable {
  constructor(readonly source: string) {
    if (typeof source !== "string" || source.trim() === "")
      throw new TypeError("pythonCallable(source): source must be non-empty Python source text");
  }
}

/** A Python callable given by its source text (Beam's `PythonCallableSource`). */
export const pythonCallable = (source: string): PythonCallable => new PythonCallable(source);

/** A configuration value with an explicit field type (when inference would pick another). */
export class TypedValue {
  constructor(
    readonly value: unknown,
    readonly type: RowFieldType,
  ) {}
}

/** A value with an explicit Beam field type: `typed(null, {kind: "atomic", atomic: "STRING", nullable: true})`. */
export const typed = (value: unknown, type: RowFieldType): TypedValue =>
  new TypedValue(value, type);

const PYTHON_CALLABLE_TYPE: RowFieldType = {
  kind: "logical",
  urn: PYTHON_CALLABLE_URN,
  representation: { kind: "atomic", atomic: "STRING" },
};

/** A configuration value's field type and the value the row coder encodes. */
interface Field {
  type: RowFieldType;
  value: unknown;
}

type Inference = [test: (v: unknown) => boolean, field: (v: unknown, where: string) => Field];

const atomic = (name: "STRING" | "INT64" | "DOUBLE" | "BOOLEAN" | "BYTES") => (v: unknown) => ({
  type: { kind: "atomic", atomic: name } as RowFieldType,
  value: v,
});

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

/** Inference rules, first match wins. */
const inferences: Inference[] = [
  [(v) => v instanceof TypedValue, (v) => ({ ...(v as TypedValue) })],
  [
    (v) => v instanceof PythonCallable,
    (v) => ({ type: PYTHON_CALLABLE_TYPE, value: (v as PythonCallable).source }),
  ],
  [(v) => typeof v === "string", atomic("STRING")],
  [(v) => typeof v === "bigint" || Number.isSafeInteger(v), atomic("INT64")],
  [(v) => typeof v === "number", atomic("DOUBLE")],
  [(v) => typeof v === "boolean", atomic("BOOLEAN")],
  [(v) => v instanceof Uint8Array, atomic("BYTES")],
  [Array.isArray, (v, where) => arrayField(v as unknown[], where)],
  [
    isPlainObject,
    (v, where) => {
      const { schema, row } = configRow(v as Record<string, unknown>, where);
      return { type: { kind: "row", schema }, value: row };
    },
  ],
];

function fieldOf(value: unknown, where: string): Field {
  const rule = inferences.find(([test]) => test(value));
  if (!rule)
    throw new TypeError(
      `${where}: cannot infer a Beam schema type for ${value === null ? "null" : typeof value} ${String(value)}; give it with typed(value, type)`,
    );
  return rule[1](value, where);
}

function arrayField(values: unknown[], where: string): Field {
  if (values.length === 0)
    throw new TypeError(
      `${where}: the element type of an empty array cannot be inferred; give it with typed([], {kind: "array", element: ...})`,
    );
  const fields = values.map((v, i) => fieldOf(v, `${where}[${i}]`));
  const first = JSON.stringify(withoutIds(fields[0].type));
  fields.forEach((f, i) => {
    if (JSON.stringify(withoutIds(f.type)) !== first)
      throw new TypeError(`${where}[${i}] has another type than ${where}[0]; arrays hold one type`);
  });
  return { type: { kind: "array", element: fields[0].type }, value: fields.map((f) => f.value) };
}

/** A field type without schema ids (to compare types). */
function withoutIds(t: RowFieldType): unknown {
  return JSON.parse(JSON.stringify(t, (k, v: unknown) => (k === "id" ? undefined : v)));
}

/** A stable id for a schema (Beam wants one; Python caches its row types by id). */
function schemaId(fields: readonly { name: string; type: RowFieldType }[]): string {
  const hex = createHash("sha256")
    .update(JSON.stringify(fields.map((f) => [f.name, withoutIds(f.type)])))
    .digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The schema of the values (field order = key order) and the row to encode. */
export function configRow(
  values: Record<string, unknown>,
  where = "config",
): { schema: RowSchema; row: Record<string, unknown> } {
  if (!isPlainObject(values)) throw new TypeError(`${where}: a configuration is a plain object`);
  const fields = Object.entries(values).map(([name, v]) => ({
    name,
    ...fieldOf(v, `${where}.${name}`),
  }));
  const schema: RowSchema = {
    id: schemaId(fields),
    fields: fields.map(({ name, type }) => ({ name, type })),
  };
  return { schema, row: Object.fromEntries(fields.map((f) => [f.name, f.value])) };
}

/** The values as an `ExternalConfigurationPayload` (schema + row-encoded values), serialized. */
export function externalConfigurationPayload(
  values: Record<string, unknown>,
  where = "config",
): Uint8Array {
  const { schema, row } = configRow(values, where);
  return new externalApi.ExternalConfigurationPayload({
    schema: toSchemaProto(schema),
    payload: new RowCoder(schema).encode(row, "outer"),
  }).serializeBinary();
}
