/** toSchemaProto: the inverse of parseSchemaProto, for every kind of field type. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RowCoder } from "../../coders/row.js";
import { parseSchemaProto, toSchemaProto, type RowSchema } from "../../coders/row-schema.js";

test("a schema survives toSchemaProto → bytes → parseSchemaProto, and rows encode with both", () => {
  const inner: RowSchema = {
    id: "inner-id",
    fields: [{ name: "s", type: { kind: "atomic", atomic: "STRING", nullable: true } }],
  };
  const schema: RowSchema = {
    id: "outer-id",
    fields: [
      { name: "i", type: { kind: "atomic", atomic: "INT64" } },
      { name: "a", type: { kind: "array", element: { kind: "atomic", atomic: "DOUBLE" } } },
      { name: "it", type: { kind: "iterable", element: { kind: "atomic", atomic: "BOOLEAN" } } },
      {
        name: "m",
        type: {
          kind: "map",
          key: { kind: "atomic", atomic: "STRING" },
          value: { kind: "atomic", atomic: "BYTES" },
        },
      },
      { name: "r", type: { kind: "row", schema: inner } },
      {
        name: "l",
        type: {
          kind: "logical",
          urn: "beam:logical_type:python_callable:v1",
          payload: new Uint8Array([1]),
          representation: { kind: "atomic", atomic: "STRING" },
        },
      },
    ],
  };
  const parsed = parseSchemaProto(toSchemaProto(schema).serializeBinary());
  assert.equal(parsed.id, "outer-id");
  assert.deepEqual(
    parsed.fields.map((f) => [f.name, f.type.kind, f.encodingPosition]),
    schema.fields.map((f, i) => [f.name, f.type.kind, i]),
  );
  const r = parsed.fields[4]!.type;
  assert.equal(r.kind === "row" && r.schema.fields[0]!.type.nullable, true);
  const l = parsed.fields[5]!.type;
  assert.equal(l.kind === "logical" && l.urn, "beam:logical_type:python_callable:v1");
  const value = {
    i: 5,
    a: [0.5],
    it: [true],
    m: new Map([["k", new Uint8Array([2])]]),
    r: { s: null },
    l: "lambda x: x",
  };
  const bytes = new RowCoder(schema).encode(value, "outer");
  assert.deepEqual(new RowCoder(parsed).encode(value, "outer"), bytes);
  assert.deepEqual(new RowCoder(parsed).decode(bytes, "outer"), value);
});
