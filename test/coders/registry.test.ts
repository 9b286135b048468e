/** The coder registry: specs, `Components` protos, caching, unknown URNs, length-prefix pass-through. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BaseCoder,
  coderFromProto,
  coderFromSpec,
  CoderError,
  isCoderRegistered,
  registerCoder,
  registeredCoderUrns,
  type ByteReader,
  type ByteWriter,
} from "../../coders/index.js";
import { pipelineApi } from "../../proto/index.js";

function components(
  coders: Record<string, { urn: string; components?: string[]; payload?: Uint8Array }>,
): pipelineApi.Components {
  const map = new Map<string, pipelineApi.Coder>();
  for (const [id, c] of Object.entries(coders)) {
    map.set(
      id,
      new pipelineApi.Coder({
        spec: new pipelineApi.FunctionSpec({ urn: c.urn, payload: c.payload ?? new Uint8Array(0) }),
        component_coder_ids: c.components ?? [],
      }),
    );
  }
  return new pipelineApi.Components({ coders: map });
}

describe("coderFromSpec", () => {
  it("names an unknown URN", () => {
    assert.throws(
      () =>
        coderFromSpec({
          urn: "beam:coder:kv:v1",
          components: [{ urn: "x:unknown" }, { urn: "beam:coder:bytes:v1" }],
        }),
      (e: unknown) =>
        e instanceof CoderError &&
        e.urn === "x:unknown" &&
        e.operation === "build" &&
        /unknown URN/.test(e.message),
    );
  });
  it("passes an unknown coder inside a length prefix through as opaque bytes", () => {
    const c = coderFromSpec({
      urn: "beam:coder:length_prefix:v1",
      components: [{ urn: "x:unknown" }],
    });
    assert.deepStrictEqual(c.decode(Uint8Array.of(2, 7, 8)), Uint8Array.of(7, 8));
    assert.deepStrictEqual(c.encode(Uint8Array.of(7, 8)), Uint8Array.of(2, 7, 8));
    assert.equal(c.components[0]!.urn, "x:unknown");
  });
  it("rejects wrong component counts", () => {
    assert.throws(
      () =>
        coderFromSpec({ urn: "beam:coder:kv:v1", components: [{ urn: "beam:coder:bytes:v1" }] }),
      CoderError,
    );
  });
  it("rejects a malformed row schema payload", () => {
    assert.throws(
      () => coderFromSpec({ urn: "beam:coder:row:v1", payload: Uint8Array.of(0x0a, 0xff) }),
      (e: unknown) => e instanceof CoderError && e.operation === "build",
    );
  });
  it("registers every standard URN", () => {
    for (const urn of [
      "bytes",
      "string_utf8",
      "kv",
      "bool",
      "varint",
      "double",
      "iterable",
      "timer",
      "interval_window",
      "length_prefix",
      "global_window",
      "windowed_value",
      "param_windowed_value",
      "state_backed_iterable",
      "custom_window",
      "row",
      "sharded_key",
      "nullable",
    ]) {
      assert.ok(isCoderRegistered(`beam:coder:${urn}:v1`), urn);
    }
    assert.ok(registeredCoderUrns().includes("beam:coder:row:v1"));
  });
  it("takes plugins through registerCoder", () => {
    class Upper extends BaseCoder<string> {
      readonly urn = "test:coder:upper:v1";
      readonly minSize = 1;
      encodeTo(v: string, w: ByteWriter): void {
        w.writeUtf8LengthPrefixed(v.toUpperCase());
      }
      decodeFrom(r: ByteReader): string {
        return r.readUtf8(r.readLength(this));
      }
    }
    registerCoder("test:coder:upper:v1", ({ coderId }) => new Upper([], coderId));
    const c = coderFromSpec<string>({ urn: "test:coder:upper:v1" });
    assert.equal(c.decode(c.encode("abc")), "ABC");
  });
});

describe("coderFromProto", () => {
  const comps = components({
    wv: { urn: "beam:coder:windowed_value:v1", components: ["kv", "gw"] },
    kv: { urn: "beam:coder:kv:v1", components: ["str", "lp"] },
    str: { urn: "beam:coder:string_utf8:v1" },
    lp: { urn: "beam:coder:length_prefix:v1", components: ["custom"] },
    custom: { urn: "java:my:coder" },
    gw: { urn: "beam:coder:global_window:v1" },
    bad: { urn: "beam:coder:kv:v1", components: ["str", "custom"] },
    loop: { urn: "beam:coder:iterable:v1", components: ["loop"] },
    dangling: { urn: "beam:coder:iterable:v1", components: ["nope"] },
  });

  it("builds from generated Components, with coder ids", () => {
    const c = coderFromProto("wv", comps);
    assert.equal(c.urn, "beam:coder:windowed_value:v1");
    assert.equal(c.coderId, "wv");
    assert.equal(c.components[0]!.coderId, "kv");
    assert.equal(c.components[0]!.components[1]!.components[0]!.urn, "java:my:coder");
  });

  it("works on deserialized protos (jspb maps)", () => {
    const roundTripped = pipelineApi.Components.deserializeBinary(comps.serializeBinary());
    const c = coderFromProto("wv", roundTripped);
    const v = {
      value: { key: "k", value: Uint8Array.of(1) },
      timestamp: 0n,
      windows: [],
      pane: { isFirst: true, isLast: true, timing: "UNKNOWN" as const, index: 0, onTimeIndex: 0 },
    };
    assert.deepStrictEqual(c.decode(c.encode(v)), v);
  });

  it("caches per components object and id", () => {
    assert.equal(coderFromProto("wv", comps), coderFromProto("wv", comps));
    assert.equal(
      coderFromProto("str", comps),
      coderFromProto("wv", comps).components[0]!.components[0],
    );
    assert.notEqual(
      coderFromProto("wv", comps),
      coderFromProto("wv", components({ wv: { urn: "beam:coder:bytes:v1" } })),
    );
  });

  it("names the coder id of an unknown URN outside a length prefix", () => {
    assert.throws(
      () => coderFromProto("bad", comps),
      (e: unknown) =>
        e instanceof CoderError &&
        e.coderId === "custom" &&
        e.urn === "java:my:coder" &&
        /"custom"/.test(e.message),
    );
  });

  it("reports cycles and dangling ids", () => {
    assert.throws(() => coderFromProto("loop", comps), /cycle/);
    assert.throws(
      () => coderFromProto("dangling", comps),
      (e: unknown) => e instanceof CoderError && e.coderId === "nope",
    );
    assert.throws(() => coderFromProto("missing", comps), /no such coder/);
  });

  it("puts the coder id into decode errors", () => {
    assert.throws(
      () => coderFromProto("str", comps).decode(Uint8Array.of(5, 1)),
      (e: unknown) =>
        e instanceof CoderError && e.coderId === "str" && /coder "str"/.test(e.message),
    );
  });
});
