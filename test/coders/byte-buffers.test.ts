/** `ByteWriter` and `ByteReader`: varints, fixed-width numbers, UTF-8, length prefixes, ownership. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ByteReader,
  ByteUnderflow,
  ByteWriter,
  CoderError,
  GLOBAL_WINDOW_MAX_TIMESTAMP,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
} from "../../coders/index.js";
import { INT64_IMPLEMENTATIONS as IMPL, int64Of, putInt64 } from "../../coders/int64.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function written(write: (w: ByteWriter) => void, capacity = 1): Uint8Array {
  const w = new ByteWriter(capacity);
  write(w);
  return w.toBytes();
}

describe("ByteWriter", () => {
  it("writes int64s big-endian with either implementation, sign bit flipped on request", () => {
    const edges = [0n, 1n, -1n, 255n, -256n, 2n ** 63n - 1n, -(2n ** 63n), 1700000000000n];
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
        fc.constantFrom(0, 0x80),
        fc.nat(8),
        (v, flip, at) => {
          const expected = new Uint8Array(16);
          new DataView(expected.buffer).setBigInt64(at, v);
          expected[at] ^= flip;
          for (const put of [putInt64, IMPL.put.swapped, IMPL.put.portable]) {
            const out = new Uint8Array(16);
            put(out, at, v, flip);
            assert.equal(hex(out), hex(expected), `${put.name}(${v}, flip ${flip})`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("writes varints as int64 two's complement", () => {
    const cases: [number | bigint, string][] = [
      [0, "00"],
      [1, "01"],
      [127, "7f"],
      [128, "8001"],
      [300, "ac02"],
      [2 ** 31 - 1, "ffffffff07"],
      [2 ** 32, "8080808010"],
      [2 ** 53 - 1, "ffffffffffffff0f"],
      [-1, "ffffffffffffffffff01"],
      [-(2n ** 63n), "80808080808080808001"],
      [2n ** 63n - 1n, "ffffffffffffffff7f"],
    ];
    for (const [v, expected] of cases) {
      assert.equal(hex(written((w) => w.writeVarInt(v))), expected, String(v));
    }
  });

  it("writes the same varint bytes for a number and the equal bigint", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        assert.equal(
          hex(written((w) => w.writeVarInt(n))),
          hex(written((w) => w.writeVarInt(BigInt(n)))),
        );
      }),
    );
  });

  it("rejects varints that are not safe integers or int64 bigints", () => {
    const w = new ByteWriter();
    for (const v of [0.5, Number.NaN, Infinity, 2 ** 53, -(2 ** 60)])
      assert.throws(() => w.writeVarInt(v), RangeError);
    for (const v of [2n ** 63n, -(2n ** 63n) - 1n])
      assert.throws(() => w.writeVarInt(v), RangeError);
  });

  it("writes timestamps with the sign bit flipped, sentinels included", () => {
    assert.equal(hex(written((w) => w.writeTimestamp(0n))), "8000000000000000");
    assert.equal(hex(written((w) => w.writeTimestamp(-1))), "7fffffffffffffff");
    assert.equal(hex(written((w) => w.writeTimestamp(MIN_TIMESTAMP))), "7fdf3b645a1cac09");
    assert.equal(hex(written((w) => w.writeTimestamp(-(2n ** 63n)))), "0000000000000000");
    assert.equal(hex(written((w) => w.writeTimestamp(2n ** 63n - 1n))), "ffffffffffffffff");
    for (const ts of [
      MIN_TIMESTAMP,
      MAX_TIMESTAMP,
      GLOBAL_WINDOW_MAX_TIMESTAMP,
      -(2n ** 63n),
      2n ** 63n - 1n,
      1454293425000n,
    ]) {
      const r = new ByteReader(written((w) => w.writeTimestamp(ts)));
      assert.equal(r.readTimestamp(), ts);
    }
  });

  it("grows by doubling and keeps what was written", () => {
    const w = new ByteWriter(2);
    for (let i = 0; i < 1000; i++) w.writeInt32BE(i);
    const r = new ByteReader(w.toBytes());
    for (let i = 0; i < 1000; i++) assert.equal(r.readInt32BE(), i);
    assert.equal(w.length, 4000);
  });

  it("finish() hands the bytes over without copying and starts a fresh buffer", () => {
    const w = new ByteWriter(16);
    w.writeBytes(Uint8Array.of(1, 2, 3));
    const first = w.finish();
    assert.equal(w.length, 0);
    w.writeBytes(Uint8Array.of(9, 9, 9, 9));
    assert.deepStrictEqual([...first], [1, 2, 3]);
    assert.equal(first.byteOffset, 0, "the view starts its own ArrayBuffer (transferable)");
    assert.notEqual(first.buffer, w.buf.buffer);
  });

  it("reset() reuses the buffer; view() aliases it; toBytes() copies", () => {
    const w = new ByteWriter(8);
    w.writeByte(7);
    const view = w.view();
    const copy = w.toBytes();
    w.reset();
    w.writeByte(8);
    assert.equal(view[0], 8);
    assert.equal(copy[0], 7);
    assert.equal(Object.getPrototypeOf(copy), Uint8Array.prototype);
  });

  it("writes UTF-8 like Buffer does (ASCII fast path, multi-byte, long, lone surrogates)", () => {
    const strings = [
      "",
      "abc",
      "ÿ",
      "光线",
      "a".repeat(64),
      "é".repeat(65),
      "x".repeat(5000) + "€",
      "\ud800",
      "a\udc00b",
      "🙂".repeat(30),
    ];
    for (const s of strings) {
      assert.equal(
        hex(written((w) => w.writeUtf8(s))),
        Buffer.from(s, "utf8").toString("hex"),
        JSON.stringify(s.slice(0, 8)),
      );
    }
  });

  it("length-prefixes UTF-8 across the one-byte boundary", () => {
    for (const s of [
      "a".repeat(42),
      "a".repeat(43),
      "a".repeat(127),
      "a".repeat(128),
      "é".repeat(42),
      "é".repeat(64),
      "€".repeat(42),
    ]) {
      const bytes = Buffer.from(s, "utf8");
      const r = new ByteReader(written((w) => w.writeUtf8LengthPrefixed(s)));
      assert.equal(r.readLength(), bytes.length);
      assert.equal(r.readUtf8(bytes.length), s);
      assert.equal(r.remaining, 0);
    }
  });

  it("fills in reserved length prefixes, moving content when the length needs more bytes", () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 100000]) {
      const w = new ByteWriter(4);
      w.writeByte(0xaa);
      const mark = w.beginLengthPrefix();
      for (let i = 0; i < n; i++) w.writeByte(i & 0xff);
      w.endLengthPrefix(mark);
      w.writeByte(0xbb);
      const r = new ByteReader(w.toBytes());
      assert.equal(r.readByte(), 0xaa);
      assert.equal(r.readLength(), n);
      const content = r.readBytes(n);
      for (let i = 0; i < n; i++) assert.equal(content[i], i & 0xff);
      assert.equal(r.readByte(), 0xbb);
    }
  });

  it("writes and reads 64-bit integers big-endian", () => {
    for (const v of [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1234567890123n]) {
      const bytes = written((w) => w.writeInt64BE(v));
      assert.equal(bytes.length, 8);
      assert.equal(new ByteReader(bytes).readInt64BE(), v);
    }
    assert.equal(hex(written((w) => w.writeInt64BE(-2))), "fffffffffffffffe");
    assert.throws(() => new ByteWriter().writeInt64BE(2n ** 63n), RangeError);
  });

  it("writes doubles, floats and 16-bit integers big-endian", () => {
    assert.equal(hex(written((w) => w.writeDouble(0.1))), "3fb999999999999a");
    assert.equal(hex(written((w) => w.writeDouble(-0))), "8000000000000000");
    assert.equal(hex(written((w) => w.writeFloat(3.1415))), "40490e56");
    assert.equal(hex(written((w) => w.writeInt16BE(-2))), "fffe");
  });
});

describe("ByteReader", () => {
  it("builds int64s from high and low words with either implementation", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const hi = Number(BigInt.asIntN(32, v >> 32n));
        const lo = Number(BigInt.asUintN(32, v));
        for (const of of [int64Of, IMPL.of.swapped, IMPL.of.portable])
          assert.equal(of(hi, lo), v, `${of.name}(${hi}, ${lo})`);
      }),
      { numRuns: 500 },
    );
  });

  it("reads varints as numbers when safe, else bigints", () => {
    const cases: (number | bigint)[] = [
      0,
      1,
      127,
      128,
      2 ** 28 - 1,
      2 ** 28,
      2 ** 31,
      2 ** 35,
      2 ** 53 - 1,
      2n ** 53n,
      -1,
      -(2 ** 53) + 1,
      -(2n ** 53n),
      -(2n ** 63n),
      2n ** 63n - 1n,
    ];
    for (const v of cases) {
      const r = new ByteReader(written((w) => w.writeVarInt(v)));
      const got = r.readVarInt();
      assert.equal(got, v, String(v));
      assert.equal(typeof got, typeof v);
      assert.equal(r.remaining, 0);
    }
  });

  it("round-trips any int64 through a varint", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const got = new ByteReader(written((w) => w.writeVarInt(v))).readVarInt();
        assert.equal(BigInt(got), v);
        assert.equal(
          typeof got,
          Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? "number" : "bigint",
        );
      }),
    );
  });

  it("rejects varints longer than ten bytes or beyond 64 bits", () => {
    assert.throws(
      () => new ByteReader(Uint8Array.from([...Array(10).fill(0xff), 0x01])).readVarInt(),
      CoderError,
    );
    assert.throws(
      () => new ByteReader(Uint8Array.from([...Array(9).fill(0xff), 0x02])).readVarInt(),
      CoderError,
    );
    assert.throws(
      () => new ByteReader(Uint8Array.from(Array(11).fill(0x80))).readVarInt(),
      CoderError,
    );
  });

  it("signals underflow with the length a read needs", () => {
    const r = new ByteReader(Uint8Array.of(0, 0, 0), undefined, 1);
    try {
      r.readInt32BE();
      assert.fail("no underflow");
    } catch (err) {
      assert.ok(err instanceof ByteUnderflow);
      assert.equal(err.needed, 5);
      assert.equal(err.offset, 1);
    }
    const v = new ByteReader(Uint8Array.of(0x80, 0x80));
    assert.throws(
      () => v.readVarInt(),
      (e: unknown) => e instanceof ByteUnderflow && e.needed === 3,
    );
  });

  it("checks lengths before allocating", () => {
    const r = new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07, 1, 2));
    const n = r.readLength();
    assert.equal(n, 2 ** 31 - 1);
    assert.throws(
      () => r.readBytes(n),
      (e: unknown) => e instanceof ByteUnderflow && e.needed === 5 + n,
    );
    assert.throws(
      () => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)).readLength(),
      CoderError,
    );
    assert.throws(() => new ByteReader(written((w) => w.writeVarInt(-1))).readLength(), CoderError);
  });

  it("returns copies, never views of the input", () => {
    const input = Uint8Array.of(3, 1, 2, 3);
    const r = new ByteReader(input);
    const out = r.readLengthPrefixed();
    input[1] = 99;
    assert.deepStrictEqual(out, Uint8Array.of(1, 2, 3));
  });

  it("decodes invalid UTF-8 with replacement characters", () => {
    assert.equal(new ByteReader(Uint8Array.of(0x61, 0xff, 0x62)).readUtf8(3), "a\ufffdb");
  });

  it("reads distinct consecutive timestamps correctly (the bigint cache)", () => {
    const r = new ByteReader(
      written((w) =>
        [5n, 5n, -5n, 5n, MAX_TIMESTAMP, 1n << 60n].forEach((t) => w.writeTimestamp(t)),
      ),
    );
    assert.deepStrictEqual(
      [1, 2, 3, 4, 5, 6].map(() => r.readTimestamp()),
      [5n, 5n, -5n, 5n, MAX_TIMESTAMP, 1n << 60n],
    );
  });
});
