import assert from "node:assert/strict";
import { test } from "node:test";
import { coderFromSpec, CoderError, JSON_URN, RowCoder } from "../../coders/index.js";
import { inferCoder, iterable, kv, nullable, Pipeline, row } from "../../src/pipeline/index.js";
import { assertWellFormed, outputCoder } from "./support.js";

test("the json default coder round-trips JSON values and refuses values JSON would lose", () => {
  const coder = coderFromSpec({ urn: JSON_URN });
  for (const value of [{ a: [1, "x", null, true] }, "s", 1.5, -3, null, [], {}]) {
    assert.deepEqual(coder.decode(coder.encode(value, "nested"), "nested"), value);
    assert.deepEqual(coder.decode(coder.encode(value, "outer"), "outer"), value);
  }
  assert.deepEqual([...coder.encode({ a: 1 }, "nested")], [7, ...Buffer.from('{"a":1}')]);
  for (const bad of [1n, undefined, () => 1, NaN, { x: Infinity }, { big: 2n }]) {
    assert.throws(() => coder.encode(bad as never), CoderError);
  }
  assert.throws(() => coder.decode(new Uint8Array([2, 0x7b, 0x7b])), /JSON text/);
});

test("coders inferred from values", () => {
  type Spec = { urn: string; components?: readonly unknown[] };
  const urns = (spec: Spec): string =>
    spec.urn +
    (spec.components?.length ? `(${spec.components.map((c) => urns(c as Spec)).join(",")})` : "");
  const shape = (values: unknown[]) => urns(inferCoder(values));
  assert.equal(inferCoder(["a"]).urn, "beam:coder:string_utf8:v1");
  assert.equal(inferCoder([1, 2n]).urn, "beam:coder:varint:v1");
  assert.equal(inferCoder([1, 2.5]).urn, "beam:coder:double:v1");
  assert.equal(inferCoder([true]).urn, "beam:coder:bool:v1");
  assert.equal(inferCoder([new Uint8Array()]).urn, "beam:coder:bytes:v1");
  assert.equal(shape([{ key: "a", value: [1] }]), urns(kv("string", "json")));
  assert.equal(inferCoder(["a", 1]).urn, JSON_URN);
  assert.equal(inferCoder([]).urn, JSON_URN);
  assert.equal(inferCoder([{ key: 1, value: 2, extra: 3 }]).urn, JSON_URN);
});

test("explicit coders: names, composites and Beam specs; unknown ones are errors at construction", () => {
  const p = new Pipeline({});
  const a = p.create(["x"]);
  a.map((x) => [x], { name: "Iter", coder: iterable("string") });
  a.map((x) => ({ key: x, value: null }), { name: "Kv", coder: kv("string", nullable("double")) });
  a.map((x) => x, {
    name: "Spec",
    coder: { urn: "beam:coder:kv:v1", components: ["bytes", { urn: "beam:coder:bool:v1" }] },
  });
  assert.throws(() => a.map((x) => x, { coder: "strng" as never }), /unknown coder name "strng"/);
  assert.throws(
    () => a.map((x) => x, { coder: { urn: "beam:coder:nope:v1" } }),
    /coder URN "beam:coder:nope:v1" is not implemented/,
  );
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.equal(outputCoder(proto, "Iter"), "iterable(string_utf8)");
  assert.equal(outputCoder(proto, "Kv"), "kv(string_utf8,nullable(double))");
  assert.equal(outputCoder(proto, "Spec"), "kv(bytes,bool)");
});

test("row(fields) is a schema row coder of atomic fields; equal schemas get equal ids", () => {
  const rowCoder = (fields: Parameters<typeof row>[0]): RowCoder => {
    const spec = row(fields);
    return coderFromSpec({ urn: spec.urn, payload: spec.payload }) as RowCoder;
  };
  const coder = rowCoder({ name: "STRING", score: "DOUBLE", note: "STRING?" });
  assert.deepEqual(
    coder.schema.fields.map((f) => [f.name, f.type]),
    [
      ["name", { kind: "atomic", atomic: "STRING", nullable: false }],
      ["score", { kind: "atomic", atomic: "DOUBLE", nullable: false }],
      ["note", { kind: "atomic", atomic: "STRING", nullable: true }],
    ],
  );
  const value = { name: "ana", score: 1.5, note: null };
  assert.deepEqual(coder.decode(coder.encode(value, "nested"), "nested"), value);
  assert.equal(
    coder.schema.id,
    rowCoder({ name: "STRING", score: "DOUBLE", note: "STRING?" }).schema.id,
  );
  assert.notEqual(coder.schema.id, rowCoder({ name: "STRING" }).schema.id);
  assert.throws(
    () => row({ n: "INTEGER" as never }),
    /row field "n": "INTEGER" is not an atomic type/,
  );
  assert.throws(() => row({}), /at least one field/);
});
