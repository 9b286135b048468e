/** Serializes a `RowSchema` as a `Schema` proto (the payload of `beam:coder:row:v1`). */
import type { AtomicTypeName, RowFieldType, RowSchema } from "../../../coders/index.js";
import { schemaApi } from "../../../proto/index.js";

const ATOMIC: Record<AtomicTypeName, number> = {
  BYTE: 1,
  INT16: 2,
  INT32: 3,
  INT64: 4,
  FLOAT: 5,
  DOUBLE: 6,
  STRING: 7,
  BOOLEAN: 8,
  BYTES: 9,
};

function fieldType(t: RowFieldType): schemaApi.FieldType {
  const nullable = t.nullable === true;
  switch (t.kind) {
    case "atomic":
      return new schemaApi.FieldType({ nullable, atomic_type: ATOMIC[t.atomic] });
    case "array":
      return new schemaApi.FieldType({
        nullable,
        array_type: new schemaApi.ArrayType({ element_type: fieldType(t.element) }),
      });
    case "iterable":
      return new schemaApi.FieldType({
        nullable,
        iterable_type: new schemaApi.IterableType({ element_type: fieldType(t.element) }),
      });
    case "map":
      return new schemaApi.FieldType({
        nullable,
        map_type: new schemaApi.MapType({
          key_type: fieldType(t.key),
          value_type: fieldType(t.value),
        }),
      });
    case "row":
      return new schemaApi.FieldType({
        nullable,
        row_type: new schemaApi.RowType({ schema: schemaProto(t.schema) }),
      });
    case "logical":
      return new schemaApi.FieldType({
        nullable,
        logical_type: new schemaApi.LogicalType({
          urn: t.urn,
          payload: t.payload ?? new Uint8Array(0),
          ...(t.representation ? { representation: fieldType(t.representation) } : {}),
        }),
      });
  }
}

/** The `Schema` proto message of a schema. */
export function schemaProto(schema: RowSchema): schemaApi.Schema {
  return new schemaApi.Schema({
    id: schema.id ?? "00000000-0000-0000-0000-000000000000",
    encoding_positions_set: schema.encodingPositionsSet === true,
    fields: schema.fields.map(
      (f) =>
        new schemaApi.Field({
          name: f.name,
          type: fieldType(f.type),
          encoding_position: f.encodingPosition ?? 0,
        }),
    ),
  });
}

/** The serialized `Schema` proto of a schema. */
export function schemaPayload(schema: RowSchema): Uint8Array {
  return schemaProto(schema).serializeBinary();
}
