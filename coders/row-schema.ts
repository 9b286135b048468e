/**
 * Beam schemas (the payload of `beam:coder:row:v1`, a `Schema` proto) as
 * plain objects, so row coders can be built from a proto payload or from a
 * schema written in code.
 */
import { schemaApi } from "../proto/index.js";

/** Atomic field types of Beam schemas. */
export type AtomicTypeName =
  "BYTE" | "INT16" | "INT32" | "INT64" | "FLOAT" | "DOUBLE" | "STRING" | "BOOLEAN" | "BYTES";

/** A field type. `nullable` fields may hold `null`. */
export type RowFieldType = { readonly nullable?: boolean } & (
  | { readonly kind: "atomic"; readonly atomic: AtomicTypeName }
  | { readonly kind: "array" | "iterable"; readonly element: RowFieldType }
  | { readonly kind: "map"; readonly key: RowFieldType; readonly value: RowFieldType }
  | { readonly kind: "row"; readonly schema: RowSchema }
  | {
      readonly kind: "logical";
      readonly urn: string;
      readonly payload?: Uint8Array;
      readonly representation?: RowFieldType | undefined;
    }
);

/** A field of a schema. */
export interface RowField {
  readonly name: string;
  readonly type: RowFieldType;
  /** Used only when the schema's `encodingPositionsSet`. */
  readonly encodingPosition?: number;
}

/** A schema: named, typed fields. */
export interface RowSchema {
  readonly id?: string;
  readonly fields: readonly RowField[];
  /** When true, fields are encoded in the order of their `encodingPosition`. */
  readonly encodingPositionsSet?: boolean;
}

const ATOMIC: Record<number, AtomicTypeName> = {
  1: "BYTE",
  2: "INT16",
  3: "INT32",
  4: "INT64",
  5: "FLOAT",
  6: "DOUBLE",
  7: "STRING",
  8: "BOOLEAN",
  9: "BYTES",
};

/** Every atomic schema type, in the order of the proto's enum. */
export const ATOMIC_TYPE_NAMES: readonly AtomicTypeName[] = Object.values(ATOMIC);

/** Parses a serialized `Schema` proto (throws on malformed input). */
export function parseSchemaProto(payload: Uint8Array): RowSchema {
  return fromProtoSchema(schemaApi.Schema.deserializeBinary(payload), 0);
}

const MAX_DEPTH = 100;

function fromProtoSchema(s: schemaApi.Schema, depth: number): RowSchema {
  if (depth > MAX_DEPTH) throw new RangeError(`schema nested deeper than ${MAX_DEPTH} levels`);
  return {
    id: s.id,
    encodingPositionsSet: s.encoding_positions_set,
    fields: s.fields.map((f) => {
      if (!f.has_type) throw new TypeError(`field ${JSON.stringify(f.name)} has no type`);
      return {
        name: f.name,
        type: fromProtoType(f.type, depth + 1),
        encodingPosition: f.encoding_position,
      };
    }),
  };
}

function fromProtoType(t: schemaApi.FieldType, depth: number): RowFieldType {
  if (depth > MAX_DEPTH) throw new RangeError(`schema nested deeper than ${MAX_DEPTH} levels`);
  const nullable = t.nullable;
  const inner = (x: schemaApi.FieldType | undefined, what: string): RowFieldType => {
    if (!x) throw new TypeError(`${what} has no type`);
    return fromProtoType(x, depth + 1);
  };
  switch (t.type_info) {
    case "atomic_type": {
      const atomic = ATOMIC[t.atomic_type];
      if (!atomic) throw new TypeError(`unsupported atomic type ${t.atomic_type}`);
      return { nullable, kind: "atomic", atomic };
    }
    case "array_type":
      return {
        nullable,
        kind: "array",
        element: inner(t.array_type.element_type, "array element"),
      };
    case "iterable_type":
      return {
        nullable,
        kind: "iterable",
        element: inner(t.iterable_type.element_type, "iterable element"),
      };
    case "map_type":
      return {
        nullable,
        kind: "map",
        key: inner(t.map_type.key_type, "map key"),
        value: inner(t.map_type.value_type, "map value"),
      };
    case "row_type":
      if (!t.row_type.has_schema) throw new TypeError("row type has no schema");
      return { nullable, kind: "row", schema: fromProtoSchema(t.row_type.schema, depth + 1) };
    case "logical_type": {
      const lt = t.logical_type;
      return {
        nullable,
        kind: "logical",
        urn: lt.urn,
        payload: lt.payload,
        representation: lt.has_representation
          ? fromProtoType(lt.representation, depth + 1)
          : undefined,
      };
    }
    default:
      throw new TypeError("field type without type info");
  }
}

const ATOMIC_NUMBER = Object.fromEntries(
  Object.entries(ATOMIC).map(([n, name]) => [name, Number(n)]),
) as Record<AtomicTypeName, number>;

/**
 * The `Schema` proto of a schema (the inverse of {@link parseSchemaProto}),
 * e.g. for the configuration rows of cross-language transforms.
 */
export function toSchemaProto(schema: RowSchema): schemaApi.Schema {
  return new schemaApi.Schema({
    id: schema.id ?? "",
    encoding_positions_set: schema.encodingPositionsSet ?? false,
    fields: schema.fields.map(
      (f, i) =>
        new schemaApi.Field({
          name: f.name,
          type: toProtoType(f.type),
          encoding_position: f.encodingPosition ?? i,
        }),
    ),
  });
}

type ProtoTypeBuilder = (
  t: RowFieldType,
) => Partial<ConstructorParameters<typeof schemaApi.FieldType>[0] & object>;

const protoTypeBuilders: Record<RowFieldType["kind"], ProtoTypeBuilder> = {
  atomic: (t) => ({ atomic_type: ATOMIC_NUMBER[(t as { atomic: AtomicTypeName }).atomic] }),
  array: (t) => ({
    array_type: new schemaApi.ArrayType({
      element_type: toProtoType((t as { element: RowFieldType }).element),
    }),
  }),
  iterable: (t) => ({
    iterable_type: new schemaApi.IterableType({
      element_type: toProtoType((t as { element: RowFieldType }).element),
    }),
  }),
  map: (t) => {
    const m = t as { key: RowFieldType; value: RowFieldType };
    return {
      map_type: new schemaApi.MapType({
        key_type: toProtoType(m.key),
        value_type: toProtoType(m.value),
      }),
    };
  },
  row: (t) => ({
    row_type: new schemaApi.RowType({ schema: toSchemaProto((t as { schema: RowSchema }).schema) }),
  }),
  logical: (t) => {
    const l = t as { urn: string; payload?: Uint8Array; representation?: RowFieldType };
    return {
      logical_type: new schemaApi.LogicalType({
        urn: l.urn,
        payload: l.payload ?? new Uint8Array(0),
        representation: l.representation && toProtoType(l.representation),
      }),
    };
  },
};

function toProtoType(t: RowFieldType): schemaApi.FieldType {
  return new schemaApi.FieldType({
    nullable: t.nullable ?? false,
    ...protoTypeBuilders[t.kind](t),
  } as ConstructorParameters<typeof schemaApi.FieldType>[0]);
}
