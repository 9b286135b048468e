/**
 * The fast path of iterables of varints (`IterableCoder.decodeFrom` with a
 * `VarIntCoder`: no resume bookkeeping, varints read a word at a time)
 * against the general path (the same iterable with an element coder that is
 * not a `VarIntCoder`, so every element goes through `decodeFrom`): the same
 * values (numbers and bigints), the same errors and the same underflows, on
 * well-formed, non-canonical, malformed and truncated bytes, one-shot (at
 * any offset of a larger buffer) and streamed in any cut.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  BaseCoder,
  ByteReader,
  ByteWriter,
  coderFromSpec,
  IterableCoder,
  StreamDecoder,
  VARINT_URN,
  VarIntCoder,
  type Coder,
} from "../../coders/index.js";
import { ByteUnderflow } from "../../coders/errors.js";

const RUNS = Number(process.env.FIREFLY_PROPERTY_RUNS ?? 300);

/** A varint coder the iterable does not recognise: its elements take the general path. */
class GeneralVarInt extends BaseCoder<number | bigint> {
  readonly urn = VARINT_URN;
  readonly minSize = 1;
  private readonly inner = new VarIntCoder();
  encodeTo(value: number | bigint, writer: ByteWriter): void {
    this.inner.encodeTo(value, writer);
  }
  decodeFrom(reader: ByteReader): number | bigint {
    return reader.readVarInt(this);
  }
}

const SPEC = { urn: "beam:coder:iterable:v1", components: [{ urn: VARINT_URN }] };
const fast: Coder<unknown>[] = [
  new IterableCoder(new VarIntCoder()) as Coder<unknown>,
  coderFromSpec(SPEC),
  coderFromSpec(SPEC, { compile: false }),
];
const general = new IterableCoder(new GeneralVarInt()) as Coder<unknown>;

type Outcome = { value: unknown; pos: number } | { error: string };

/** Decodes one element at `offset` of `bytes` with a bare reader (underflows not wrapped). */
function decodeAt(coder: Coder<unknown>, bytes: Uint8Array, offset: number): Outcome {
  const reader = new ByteReader(bytes, undefined, offset);
  try {
    return { value: coder.decodeFrom(reader, "nested"), pos: reader.pos };
  } catch (err) {
    if (err instanceof ByteUnderflow) return { error: `underflow ${err.needed} ${err.offset}` };
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

function oneShot(coder: Coder<unknown>, bytes: Uint8Array): Outcome {
  try {
    return { value: coder.decode(bytes), pos: bytes.length };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** Streams `bytes` cut at `cuts`; returns the elements, or the error. */
function streamed(coder: Coder<unknown>, bytes: Uint8Array, cuts: number[]): Outcome {
  const d = new StreamDecoder(coder);
  const out: unknown[] = [];
  try {
    let at = 0;
    for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)]) {
      d.push(bytes.subarray(at, cut));
      at = cut;
      for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
    }
    d.push(bytes.subarray(at));
    for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
    d.finish();
    return { value: out, pos: bytes.length };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** Integers of every varint length (1 to 10 bytes), as numbers and bigints. */
const intArb: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.integer({ min: 0, max: 127 }),
  fc.integer({ min: 0, max: 1 << 14 }),
  fc.integer({ min: 0, max: 2 ** 30 }),
  fc.integer({ min: 0, max: 2 ** 35 - 1 }),
  fc.constantFrom(0, 127, 128, 2 ** 28 - 1, 2 ** 28, 2 ** 30, 2 ** 31, 2 ** 35 - 1, 2 ** 35),
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 31), max: -1 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);

/** One element's bytes: a varint of 1 to 11 bytes, canonical or not, valid or not. */
const rawVarintArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.integer({ min: 0, max: 127 }).map((x) => [x]),
  fc
    .tuple(fc.array(fc.integer({ min: 0, max: 127 }), { maxLength: 10 }), fc.nat(127))
    .map(([body, last]) => [...body.map((x) => x | 0x80), last]),
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 11 }),
);

/** A value as the varint coder decodes it: a number when it is a safe integer. */
function decoded(v: number | bigint): number | bigint {
  return typeof v === "bigint" && v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v;
}

function countPrefixed(count: number, body: number[]): Uint8Array {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(count, 0);
  out.set(body, 4);
  return out;
}

describe("iterable of varints: fast path = general path", () => {
  it("same values as the general path, one-shot and at any offset of a larger buffer", () => {
    fc.assert(
      fc.property(
        fc.array(intArb, { maxLength: 64 }),
        fc.uint8Array({ maxLength: 9 }),
        fc.uint8Array({ maxLength: 9 }),
        (values, before, after) => {
          const bytes = general.encode(values);
          for (const c of fast) assert.deepStrictEqual(c.encode(values), bytes);
          const framed = Buffer.concat([before, bytes, after]);
          const expected = decodeAt(general, framed, before.length);
          assert.ok("value" in expected);
          assert.deepStrictEqual(expected.value, values.map(decoded));
          for (const c of fast) {
            assert.deepStrictEqual(decodeAt(c, framed, before.length), expected);
            assert.deepStrictEqual(oneShot(c, bytes), oneShot(general, bytes));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("same values or errors on raw varint bytes (non-canonical, too long, bits beyond 64), any count", () => {
    fc.assert(
      fc.property(
        fc.array(rawVarintArb, { maxLength: 24 }),
        fc.integer({ min: -2, max: 30 }),
        fc.nat(12),
        (elements, countDelta, cut) => {
          const body = elements.flat();
          const count = Math.max(-2, elements.length + (countDelta % 3) - 1);
          const bytes = countPrefixed(countDelta > 25 ? countDelta : count, body);
          // Whole, and truncated anywhere.
          for (const b of [bytes, bytes.subarray(0, Math.max(0, bytes.length - cut))]) {
            const expected = decodeAt(general, b, 0);
            for (const c of fast) {
              assert.deepStrictEqual(decodeAt(c, b, 0), expected);
              assert.deepStrictEqual(oneShot(c, b), oneShot(general, b));
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("streamed in any cut: the same elements or error as the general path", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(intArb, { maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(2000), { maxLength: 8 }),
        fc.nat(3),
        (iterables, cuts, chop) => {
          const w = new ByteWriter(256);
          for (const v of iterables) general.encodeTo(v, w, "nested");
          const all = w.toBytes();
          const bytes = all.subarray(0, all.length - chop);
          const expected = streamed(general, bytes, cuts);
          if (chop === 0) {
            const value = iterables.map((v) => v.map(decoded));
            assert.deepStrictEqual(expected, { value, pos: bytes.length });
          }
          for (const c of fast) assert.deepStrictEqual(streamed(c, bytes, cuts), expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("byte by byte: every cut of mixed-length varints", () => {
    const values: (number | bigint)[] = [];
    for (let i = 0; i < 200; i++) {
      const bits = i % 37;
      values.push(i % 11 === 10 ? -i : i % 13 === 12 ? -(2n ** 62n) : 2 ** bits + i);
    }
    const bytes = general.encode(values);
    const cuts = Array.from({ length: bytes.length }, (_, i) => i);
    for (const c of fast)
      assert.deepStrictEqual(streamed(c, bytes, cuts), {
        value: [values.map(decoded)],
        pos: bytes.length,
      });
  });
});
