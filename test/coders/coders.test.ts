/** Per-coder rules: contexts, the value model, panes, iterables, timers, rows and logical types. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BytesCoder,
  coderFromSpec,
  CoderError,
  GLOBAL_WINDOW,
  GLOBAL_WINDOWS,
  GlobalWindowCoder,
  intervalWindow,
  IntervalWindowCoder,
  IterableCoder,
  KvCoder,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  NO_FIRING,
  ON_TIME_AND_ONLY_FIRING,
  RowCoder,
  StringUtf8Coder,
  TimerCoder,
  VarIntCoder,
  WindowedValueCoder,
  type Coder,
  type PaneInfo,
  type RowSchema,
  type WindowedValue,
} from "../../coders/index.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));

describe("contexts", () => {
  it("bytes and strings carry a length only when nested", () => {
    assert.equal(hex(new BytesCoder().encode(utf8("ab"), "nested")), "026162");
    assert.equal(hex(new BytesCoder().encode(utf8("ab"), "outer")), "6162");
    assert.equal(hex(new StringUtf8Coder().encode("ab", "outer")), "6162");
    assert.equal(new StringUtf8Coder().decode(utf8("ab"), "outer"), "ab");
  });

  it("kv nests the key and gives its context to the value", () => {
    const kv = new KvCoder(new BytesCoder(), new BytesCoder());
    assert.equal(hex(kv.encode({ key: utf8("k"), value: utf8("v") }, "outer")), "016b76");
    assert.equal(hex(kv.encode({ key: utf8("k"), value: utf8("v") }, "nested")), "016b0176");
  });

  it("windowed values give their context to the value only", () => {
    const wv = new WindowedValueCoder(new BytesCoder(), new GlobalWindowCoder());
    const v = { value: utf8("v"), timestamp: 0n, windows: GLOBAL_WINDOWS, pane: NO_FIRING };
    assert.equal(hex(wv.encode(v, "outer")), "8000000000000000000000010f76");
    assert.equal(hex(wv.encode(v, "nested")), "8000000000000000000000010f0176");
  });

  it("length prefixes, iterables, timers and rows are the same in both contexts", () => {
    const specs = [
      { urn: "beam:coder:length_prefix:v1", components: [{ urn: "beam:coder:bytes:v1" }] },
      { urn: "beam:coder:iterable:v1", components: [{ urn: "beam:coder:bytes:v1" }] },
    ];
    const values = [utf8("abc"), [utf8("a"), utf8("")]];
    specs.forEach((spec, i) => {
      const c = coderFromSpec(spec);
      assert.equal(hex(c.encode(values[i], "outer")), hex(c.encode(values[i], "nested")));
    });
  });

  it("nullable gives its context to the value", () => {
    const c = coderFromSpec({
      urn: "beam:coder:nullable:v1",
      components: [{ urn: "beam:coder:bytes:v1" }],
    });
    assert.equal(hex(c.encode(utf8("a"), "outer")), "0161");
    assert.equal(hex(c.encode(utf8("a"), "nested")), "010161");
    assert.equal(hex(c.encode(null)), "00");
    assert.equal(c.decode(Uint8Array.of(0)), null);
  });
});

describe("value model", () => {
  it("varints decode to numbers when safe and to bigints otherwise; encoders take both", () => {
    const c = new VarIntCoder();
    assert.equal(c.decode(c.encode(2 ** 53 - 1)), 2 ** 53 - 1);
    assert.equal(c.decode(c.encode(2n ** 53n)), 2n ** 53n);
    assert.equal(c.decode(c.encode(-1n)), -1);
    assert.equal(c.decode(c.encode(-(2n ** 63n))), -(2n ** 63n));
    assert.equal(hex(c.encode(5n)), hex(c.encode(5)));
    assert.throws(
      () => c.encode(1.5),
      (e: unknown) => e instanceof CoderError && e.operation === "encode",
    );
    assert.throws(() => c.encode(2n ** 63n), CoderError);
  });

  it("the global window is a shared frozen singleton with the global max timestamp", () => {
    const wv = new WindowedValueCoder(new VarIntCoder(), new GlobalWindowCoder());
    const decoded = wv.decode(
      wv.encode({ value: 1, timestamp: MIN_TIMESTAMP, windows: [GLOBAL_WINDOW], pane: NO_FIRING }),
    );
    assert.equal(decoded.windows, GLOBAL_WINDOWS);
    assert.equal(decoded.windows[0], GLOBAL_WINDOW);
    assert.equal(decoded.pane, NO_FIRING);
    assert.equal(decoded.timestamp, MIN_TIMESTAMP);
    assert.equal(GLOBAL_WINDOW.maxTimestamp, 9223371950454775n);
    assert.ok(
      Object.isFrozen(GLOBAL_WINDOW) &&
        Object.isFrozen(GLOBAL_WINDOWS) &&
        Object.isFrozen(NO_FIRING),
    );
  });

  it("timestamp sentinels and int64 extremes round-trip in windowed values and windows", () => {
    const wv = new WindowedValueCoder(new VarIntCoder(), new IntervalWindowCoder());
    for (const ts of [MIN_TIMESTAMP, MAX_TIMESTAMP, -(2n ** 63n), 2n ** 63n - 1n]) {
      const v: WindowedValue<number | bigint> = {
        value: 2n ** 63n - 1n,
        timestamp: ts,
        windows: [intervalWindow(MIN_TIMESTAMP, MAX_TIMESTAMP), intervalWindow(ts, ts)],
        pane: ON_TIME_AND_ONLY_FIRING,
      };
      assert.deepStrictEqual(wv.decode(wv.encode(v)), v);
    }
  });

  it("accepts number timestamps when encoding", () => {
    const wv = new WindowedValueCoder(new VarIntCoder(), new GlobalWindowCoder());
    const fromNumber = wv.encode({
      value: 1,
      timestamp: 5 as unknown as bigint,
      windows: GLOBAL_WINDOWS,
      pane: NO_FIRING,
    });
    assert.equal(
      hex(fromNumber),
      hex(wv.encode({ value: 1, timestamp: 5n, windows: GLOBAL_WINDOWS, pane: NO_FIRING })),
    );
  });
});

describe("pane info", () => {
  const wv = new WindowedValueCoder(new VarIntCoder(), new GlobalWindowCoder());
  const paneBytes = (pane: PaneInfo): string =>
    hex(wv.encode({ value: 0, timestamp: 0n, windows: [], pane })).slice(24, -2);
  it("encodes as Beam's PaneInfoCoder does", () => {
    assert.equal(paneBytes(NO_FIRING), "0f");
    assert.equal(paneBytes(ON_TIME_AND_ONLY_FIRING), "07");
    assert.equal(
      paneBytes({ isFirst: true, isLast: false, timing: "EARLY", index: 0, onTimeIndex: -1 }),
      "1100",
    );
    assert.equal(
      paneBytes({ isFirst: false, isLast: false, timing: "EARLY", index: 3, onTimeIndex: -1 }),
      "1003",
    );
    assert.equal(
      paneBytes({ isFirst: false, isLast: true, timing: "ON_TIME", index: 30, onTimeIndex: 40 }),
      "261e28",
    );
    assert.equal(
      paneBytes({ isFirst: false, isLast: false, timing: "LATE", index: 5, onTimeIndex: 5 }),
      "1805",
    );
  });
  it("decodes all three encodings with every field", () => {
    for (const pane of [
      { isFirst: false, isLast: false, timing: "EARLY", index: 3, onTimeIndex: -1 },
      { isFirst: false, isLast: true, timing: "ON_TIME", index: 30, onTimeIndex: 40 },
      { isFirst: true, isLast: false, timing: "LATE", index: 7, onTimeIndex: 7 },
    ] as PaneInfo[]) {
      assert.deepStrictEqual(
        wv.decode(wv.encode({ value: 0, timestamp: 0n, windows: [], pane })).pane,
        pane,
      );
    }
  });
  it("rejects unknown encoding tags and timings", () => {
    assert.throws(
      () => wv.decode(Buffer.from("800000000000000000000000" + "3f00", "hex")),
      CoderError,
    );
    assert.throws(
      () =>
        wv.encode({
          value: 0,
          timestamp: 0n,
          windows: [],
          pane: { ...NO_FIRING, timing: "SOON" as "EARLY" },
        }),
      CoderError,
    );
  });
});

describe("iterables", () => {
  const c = new IterableCoder(new VarIntCoder());
  it("encode arrays with a count and other iterables in blocks", () => {
    assert.equal(hex(c.encode([1, 2])), "000000020102");
    assert.equal(hex(c.encode(new Set([1, 2]) as unknown as number[])), "ffffffff02010200");
    function* gen(): Generator<number> {
      for (let i = 0; i < 2500; i++) yield i % 100;
    }
    const blocks = c.encode(gen() as unknown as number[]);
    assert.deepStrictEqual(c.decode(blocks), [...gen()]);
  });
  it("rejects counts below -1 and bad block counts", () => {
    assert.throws(() => c.decode(Buffer.from("fffffffe", "hex")), CoderError);
    assert.throws(() => c.decode(Buffer.from("ffffffff7e", "hex")), CoderError);
  });
  it("caps counts against the input before allocating", () => {
    assert.throws(() => c.decode(Buffer.from("7fffffff00", "hex")), /truncated/);
    const globals = new IterableCoder(new GlobalWindowCoder());
    assert.throws(() => globals.decode(Buffer.from("7fffffff", "hex")), /maxZeroSizeElements/);
    assert.equal(
      globals.decode(Buffer.from("00000400", "hex"), "nested", { maxZeroSizeElements: 1024 })
        .length,
      1024,
    );
    assert.throws(
      () => globals.decode(Buffer.from("00000401", "hex"), "nested", { maxZeroSizeElements: 1024 }),
      CoderError,
    );
  });
  it("a state token without a state reader is a clear CoderError", () => {
    assert.throws(
      () => c.decode(Buffer.from("ffffffff0101" + "ffffffffffffffffff01" + "0161", "hex")),
      /state reader/,
    );
  });
});

describe("timers", () => {
  const c = new TimerCoder(new StringUtf8Coder(), new GlobalWindowCoder());
  it("round-trip set and cleared timers", () => {
    const set = {
      userKey: "k",
      dynamicTimerTag: "tag",
      windows: GLOBAL_WINDOWS,
      clearBit: false as const,
      fireTimestamp: MAX_TIMESTAMP,
      holdTimestamp: MIN_TIMESTAMP,
      pane: NO_FIRING,
    };
    assert.deepStrictEqual(c.decode(c.encode(set)), set);
    const cleared = {
      userKey: "k",
      dynamicTimerTag: "",
      windows: GLOBAL_WINDOWS,
      clearBit: true as const,
    };
    assert.deepStrictEqual(c.decode(c.encode(cleared)), cleared);
    assert.throws(() => c.decode(Buffer.from("016b0000000001" + "02", "hex")), /clear bit/);
  });
});

describe("rows", () => {
  const schema: RowSchema = {
    fields: [
      { name: "b", type: { kind: "atomic", atomic: "BYTE" } },
      { name: "s", type: { kind: "atomic", atomic: "INT16" } },
      { name: "i", type: { kind: "atomic", atomic: "INT32", nullable: true } },
      { name: "f", type: { kind: "atomic", atomic: "FLOAT" } },
      {
        name: "m",
        type: {
          kind: "map",
          key: { kind: "atomic", atomic: "STRING" },
          value: { kind: "atomic", atomic: "INT64" },
        },
      },
    ],
  };
  const row = new RowCoder(schema);
  it("round-trips every atomic width", () => {
    const v = { b: -128, s: -32768, i: -1, f: 1.5, m: new Map([["x", 2n ** 62n]]) };
    assert.deepStrictEqual(row.decode(row.encode(v)), v);
  });
  it("writes negative INT32 as Java does (5 bytes) and reads Python's 10-byte form too", () => {
    const i32: Coder<Record<string, unknown>> = new RowCoder({
      fields: [{ name: "i", type: { kind: "atomic", atomic: "INT32" } }],
    });
    assert.equal(hex(i32.encode({ i: -1 })), "0100ffffffff0f");
    assert.deepStrictEqual(i32.decode(Buffer.from("0100ffffffffffffffffff01", "hex")), { i: -1 });
    assert.throws(() => i32.decode(Buffer.from("0100ffffffff1f", "hex")), CoderError);
  });
  it("accepts plain objects for maps and decimal strings", () => {
    const c = new RowCoder({
      fields: [
        {
          name: "m",
          type: {
            kind: "map",
            key: { kind: "atomic", atomic: "STRING" },
            value: { kind: "atomic", atomic: "BOOLEAN" },
          },
        },
        {
          name: "d",
          type: {
            kind: "logical",
            urn: "beam:logical_type:decimal:v1",
            representation: { kind: "atomic", atomic: "BYTES" },
          },
        },
      ],
    });
    const decoded = c.decode(c.encode({ m: { a: true }, d: "-100.123" }));
    assert.deepStrictEqual(decoded, {
      m: new Map([["a", true]]),
      d: { unscaled: -100123n, scale: 3 },
    });
  });
  it("fills fields missing from an older encoding with null and rejects extra fields", () => {
    const two = new RowCoder({
      fields: [
        { name: "a", type: { kind: "atomic", atomic: "BOOLEAN" } },
        { name: "b", type: { kind: "atomic", atomic: "BOOLEAN", nullable: true } },
      ],
    });
    assert.deepStrictEqual(two.decode(Buffer.from("010001", "hex")), { a: true, b: null });
    assert.throws(() => two.decode(Buffer.from("0300010101", "hex")), /at most 2 fields/);
  });
  it("rejects null in a non-nullable field and non-objects", () => {
    assert.throws(
      () => row.encode({ b: null } as unknown as Record<string, unknown>),
      /non-nullable field "b"/,
    );
    assert.throws(() => row.encode(5 as unknown as Record<string, unknown>), CoderError);
  });
  it("encodes in encoding-position order with null bits by field index", () => {
    const c = new RowCoder({
      encodingPositionsSet: true,
      fields: [
        { name: "x", type: { kind: "atomic", atomic: "STRING" }, encodingPosition: 1 },
        {
          name: "y",
          type: { kind: "atomic", atomic: "BOOLEAN", nullable: true },
          encodingPosition: 2,
        },
        { name: "z", type: { kind: "atomic", atomic: "INT32" }, encodingPosition: 0 },
      ],
    });
    assert.equal(hex(c.encode({ x: "a", y: null, z: 5 })), "030102" + "05" + "0161");
    assert.deepStrictEqual(c.decode(c.encode({ x: "a", y: null, z: 5 })), {
      x: "a",
      y: null,
      z: 5,
    });
    assert.throws(
      () =>
        new RowCoder({
          encodingPositionsSet: true,
          fields: [{ name: "x", type: { kind: "atomic", atomic: "STRING" }, encodingPosition: 3 }],
        }),
      TypeError,
    );
  });
  it("micros_instant is bigint micros, millis_instant bigint millis", () => {
    const rep: RowSchema = {
      fields: [
        { name: "seconds", type: { kind: "atomic", atomic: "INT64" } },
        { name: "micros", type: { kind: "atomic", atomic: "INT64" } },
      ],
    };
    const c = new RowCoder({
      fields: [
        {
          name: "u",
          type: {
            kind: "logical",
            urn: "beam:logical_type:micros_instant:v1",
            representation: { kind: "row", schema: rep },
          },
        },
        {
          name: "m",
          type: {
            kind: "logical",
            urn: "beam:logical_type:millis_instant:v1",
            representation: { kind: "atomic", atomic: "INT64" },
          },
        },
      ],
    });
    for (const u of [-1n, 0n, 1597328054123456n, -1597328054123456n]) {
      assert.deepStrictEqual(c.decode(c.encode({ u, m: u })), { u, m: u });
    }
    // -1 micros is seconds -1, micros 999999 (Java's Instant representation).
    assert.equal(
      hex(c.encode({ u: -1n, m: 0n })),
      "0200" + "0200" + "ffffffffffffffffff01" + "bf843d" + "8000000000000000",
    );
  });
});
