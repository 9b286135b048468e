/**
 * Columnar decode and encode against the per-element coders: for generated
 * windowed values of kv(string|bytes|varint|double|bool, …) and plain atomic
 * values, decoding the per-element bytes into columns gives the values the
 * per-element coder decodes, and encoding those columns gives back exactly
 * the per-element bytes, in any cut of the stream and any batch size.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  ByteWriter,
  coderFromSpec,
  GLOBAL_WINDOWS,
  GlobalWindowCoder,
  intervalWindow,
  RowCoder,
  WindowedValueCoder,
  StreamDecoder,
  NO_FIRING,
  type Coder,
  type CoderSpec,
  type WindowedValue,
} from "../../coders/index.js";
import {
  BATCH_FULL,
  batchFromValues,
  batchValues,
  ColumnarDecoder,
  ColumnarEncoder,
  INCOMPLETE,
  type ElementBatch,
} from "../../coders/columnar/index.js";

const RUNS = Number(process.env.FIREFLY_PROPERTY_RUNS ?? 200);

const ATOMS: Record<string, [CoderSpec, fc.Arbitrary<unknown>]> = {
  string: [{ urn: "beam:coder:string_utf8:v1" }, fc.constantFrom("a", "bb", "", "ключ", "a")],
  bytes: [{ urn: "beam:coder:bytes:v1" }, fc.uint8Array({ maxLength: 20 })],
  varint: [
    { urn: "beam:coder:varint:v1" },
    fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.maxSafeInteger(),
      fc
        .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        .filter((b) => !Number.isSafeInteger(Number(b))),
    ),
  ],
  double: [{ urn: "beam:coder:double:v1" }, fc.double()],
  bool: [{ urn: "beam:coder:bool:v1" }, fc.boolean()],
};

const GLOBAL = { urn: "beam:coder:global_window:v1" };
const INTERVAL = { urn: "beam:coder:interval_window:v1" };

function windowed(value: CoderSpec, window: CoderSpec): Coder<WindowedValue<unknown>> {
  return coderFromSpec({
    urn: "beam:coder:windowed_value:v1",
    components: [value, window],
  }) as Coder<WindowedValue<unknown>>;
}

const timestamps = fc.oneof(
  fc.constant(-9223372036854775n),
  fc.bigInt({ min: -(2n ** 50n), max: 2n ** 50n }),
);

/** Elements in runs of equal windows (global, or two interval windows). */
function elements(value: fc.Arbitrary<unknown>, interval: boolean) {
  const windows = interval
    ? fc.constantFrom([intervalWindow(0n, 10n)], [intervalWindow(10n, 20n)])
    : fc.constant(GLOBAL_WINDOWS);
  return fc.array(
    fc
      .record({ value, timestamp: timestamps, windows })
      .map(
        ({ value, timestamp, windows }) =>
          ({ value, timestamp, windows, pane: NO_FIRING }) as WindowedValue<unknown>,
      ),
    { maxLength: 60 },
  );
}

function encodeEach(coder: Coder<WindowedValue<unknown>>, values: WindowedValue<unknown>[]) {
  const w = new ByteWriter();
  for (const v of values) coder.encodeTo(v, w, "nested");
  return w.toBytes();
}

/** Decodes `bytes` fed in two cuts, as a data source gets them. */
function decodeInCuts(decoder: ColumnarDecoder, bytes: Uint8Array, cut: number): ElementBatch[] {
  const batches: ElementBatch[] = [];
  let carry = bytes.subarray(0, cut);
  const feed = (b: Uint8Array): Uint8Array => {
    let p = 0;
    for (;;) {
      if (p === b.length) return b.subarray(p);
      const status = decoder.decode(b, p, b.length);
      p = decoder.position;
      if (status === INCOMPLETE) return b.subarray(p);
      assert.equal(status, BATCH_FULL);
      batches.push(decoder.take() as ElementBatch);
    }
  };
  carry = feed(carry);
  const rest = new Uint8Array(carry.length + bytes.length - cut);
  rest.set(carry);
  rest.set(bytes.subarray(cut), carry.length);
  assert.equal(feed(rest).length, 0);
  const last = decoder.take();
  if (last) batches.push(last);
  return batches;
}

function check(valueSpec: CoderSpec, arb: fc.Arbitrary<unknown>, interval: boolean): void {
  const windowSpec = interval ? INTERVAL : GLOBAL;
  const coder = windowed(valueSpec, windowSpec);
  fc.assert(
    fc.property(
      elements(arb, interval),
      fc.integer({ min: 1, max: 17 }),
      fc.nat(),
      (values, maxElements, cutSeed) => {
        const bytes = encodeEach(coder, values);
        const expected = decodeEach(coder, bytes);
        const decoder = ColumnarDecoder.forCoder(coder, { maxElements, maxBytes: 1 << 20 });
        assert.ok(decoder, "the coder decodes into columns");
        const batches = decodeInCuts(
          decoder,
          bytes,
          bytes.length === 0 ? 0 : cutSeed % bytes.length,
        );
        const actual: WindowedValue<unknown>[] = [];
        for (const batch of batches) {
          assert.ok(batch.table.numRows <= maxElements);
          for (const [value, timestamp] of batchValues(batch))
            actual.push({ value, timestamp, windows: batch.windows, pane: batch.pane });
        }
        assert.deepEqual(actual, expected);
        const encoder = ColumnarEncoder.forCoder(coder)!;
        const w = new ByteWriter();
        for (const batch of batches) encoder.encodeAll(batch, w);
        assert.deepEqual(w.toBytes(), bytes);
      },
    ),
    { numRuns: RUNS },
  );
}

function decodeEach(coder: Coder<WindowedValue<unknown>>, bytes: Uint8Array) {
  const decoder = new StreamDecoder(coder);
  decoder.push(bytes);
  const out: WindowedValue<unknown>[] = [];
  for (let e = decoder.next(); e !== undefined; e = decoder.next()) out.push(e);
  decoder.finish();
  return out;
}

describe("columnar decode and encode match the per-element coders", () => {
  for (const [name, [spec, arb]] of Object.entries(ATOMS)) {
    it(`plain ${name} values`, () => check(spec, arb, false));
    it(`kv(${name}, double) in interval windows`, () =>
      check(
        { urn: "beam:coder:kv:v1", components: [spec, ATOMS.double![0]] },
        fc.record({ key: arb, value: ATOMS.double![1] }),
        true,
      ));
    for (const [vname, [vspec, varb]] of Object.entries(ATOMS)) {
      if (vname === "double") continue;
      it(`kv(${name}, ${vname})`, () =>
        check(
          { urn: "beam:coder:kv:v1", components: [spec, vspec] },
          fc.record({ key: arb, value: varb }),
          false,
        ));
    }
  }

  it("keys repeated in a batch are dictionary-encoded", () => {
    const coder = windowed(
      { urn: "beam:coder:kv:v1", components: [ATOMS.string![0], ATOMS.double![0]] },
      GLOBAL,
    );
    const values = ["x", "y", "x", "x", "y"].map((key, i) => ({
      value: { key, value: i },
      timestamp: 0n,
      windows: GLOBAL_WINDOWS,
      pane: NO_FIRING,
    }));
    const [batch] = ColumnarDecoder.forCoder(coder, {
      maxElements: 100,
      maxBytes: 1 << 20,
    })!.decodeAll(encodeEach(coder, values));
    const key = batch!.table.getChild("key")!;
    assert.equal(String(key.type), "Dictionary<Int32, Utf8>");
    assert.equal(key.data[0]!.dictionary!.length, 2);
    assert.deepEqual([...(key.data[0]!.values as Int32Array)], [0, 1, 0, 0, 1]);
  });

  it("a batch ends at its byte bound", () => {
    const coder = windowed(ATOMS.double![0], GLOBAL);
    const values = Array.from({ length: 10 }, (_, i) => ({
      value: i,
      timestamp: 0n,
      windows: GLOBAL_WINDOWS,
      pane: NO_FIRING,
    }));
    // Each element is 8 + 4 + 1 + 8 = 21 bytes: a 50-byte bound closes batches at 3 rows.
    const batches = ColumnarDecoder.forCoder(coder, { maxElements: 100, maxBytes: 50 })!.decodeAll(
      encodeEach(coder, values),
    );
    assert.deepEqual(
      batches.map((b) => b.table.numRows),
      [3, 3, 3, 1],
    );
  });

  it("rows from decoded values: one column per schema field, encoded back to the per-element bytes", () => {
    const row = new RowCoder({
      fields: [
        { name: "name", type: { kind: "atomic", atomic: "STRING" } },
        { name: "score", type: { kind: "atomic", atomic: "DOUBLE" } },
      ],
    });
    const values = [
      { name: "ana", score: 1.5 },
      { name: "ben", score: -2 },
    ];
    const batch = batchFromValues(values, [5n, 6n], GLOBAL_WINDOWS, NO_FIRING, row);
    assert.deepEqual(
      batch.table.schema.fields.map((f) => f.name),
      ["name", "score"],
    );
    assert.deepEqual([...(batch.table.getChild("score")!.toArray() as Float64Array)], [1.5, -2]);
    const coder = new WindowedValueCoder(row, new GlobalWindowCoder());
    const w = new ByteWriter();
    ColumnarEncoder.forCoder(coder)!.encodeAll(batch, w);
    const expected = encodeEach(
      coder,
      values.map((value, i) => ({
        value,
        timestamp: BigInt(5 + i),
        windows: GLOBAL_WINDOWS,
        pane: NO_FIRING,
      })),
    );
    assert.deepEqual(w.toBytes(), expected);
  });

  it("rows of every atomic field type, nullable or not, in any encoding order", () => {
    const types: [string, fc.Arbitrary<unknown>][] = [
      ["BYTE", fc.integer({ min: -128, max: 127 })],
      ["INT16", fc.integer({ min: -32768, max: 32767 })],
      ["INT32", fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })],
      ["INT64", ATOMS.varint![1]],
      ["FLOAT", fc.float()],
      ["DOUBLE", fc.double()],
      ["STRING", ATOMS.string![1]],
      ["BOOLEAN", fc.boolean()],
      ["BYTES", ATOMS.bytes![1]],
    ];
    const schemas = fc
      .record({
        nullable: fc.array(fc.boolean(), { minLength: types.length, maxLength: types.length }),
        order: fc.shuffledSubarray(
          types.map((_, i) => i),
          { minLength: types.length },
        ),
        positions: fc.boolean(),
      })
      .map(({ nullable, order, positions }) => ({
        encodingPositionsSet: positions,
        fields: types.map(([atomic], i) => ({
          name: `f${i}`,
          type: { kind: "atomic" as const, atomic: atomic as "BYTE", nullable: nullable[i] },
          encodingPosition: order[i],
        })),
      }));
    fc.assert(
      fc.property(
        schemas.chain((schema) =>
          fc.record({
            schema: fc.constant(schema),
            rows: fc.array(
              fc.record(
                Object.fromEntries(
                  types.map(([, arb], i) => [
                    `f${i}`,
                    schema.fields[i]!.type.nullable ? fc.option(arb, { nil: null }) : arb,
                  ]),
                ),
              ),
              { maxLength: 30 },
            ),
          }),
        ),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        ({ schema, rows }, maxElements, cutSeed) => {
          const coder = new WindowedValueCoder(new RowCoder(schema), new GlobalWindowCoder());
          const values = rows.map((value, i) => ({
            value,
            timestamp: BigInt(i),
            windows: GLOBAL_WINDOWS,
            pane: NO_FIRING,
          }));
          const bytes = encodeEach(coder, values);
          const decoder = ColumnarDecoder.forCoder(coder, { maxElements, maxBytes: 1 << 20 });
          assert.ok(decoder, "rows of atomic fields decode into columns");
          const batches = decodeInCuts(decoder, bytes, bytes.length && cutSeed % bytes.length);
          const actual = batches.flatMap((b) => [...batchValues(b)].map(([v]) => v));
          assert.deepEqual(
            actual,
            decodeEach(coder, bytes).map((e) => e.value),
          );
          const w = new ByteWriter();
          for (const batch of batches) ColumnarEncoder.forCoder(coder)!.encodeAll(batch, w);
          assert.deepEqual(w.toBytes(), bytes);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a row field written in Python's 10-byte int32 form decodes into the column", () => {
    const schema = {
      fields: [{ name: "n", type: { kind: "atomic" as const, atomic: "INT32" as const } }],
    };
    const coder = new WindowedValueCoder(new RowCoder(schema), new GlobalWindowCoder());
    // timestamp, 1 global window, pane, then the row: 1 field, no nulls, -5 sign-extended.
    const bytes = Uint8Array.from([
      0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x0f, 1, 0, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0x01,
    ]);
    assert.deepEqual(decodeEach(coder, bytes)[0]!.value, { n: -5 });
    const [batch] = ColumnarDecoder.forCoder(coder, {
      maxElements: 4,
      maxBytes: 1 << 20,
    })!.decodeAll(bytes);
    assert.deepEqual(
      [...batchValues(batch!)].map(([v]) => v),
      [{ n: -5 }],
    );
  });

  it("a row with more fields than the schema is an error naming the row coder", () => {
    const schema = {
      fields: [{ name: "n", type: { kind: "atomic" as const, atomic: "INT32" as const } }],
    };
    const coder = new WindowedValueCoder(new RowCoder(schema), new GlobalWindowCoder());
    const bytes = Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x0f, 2, 0, 1, 1]);
    const decoder = ColumnarDecoder.forCoder(coder, { maxElements: 4, maxBytes: 1 << 20 })!;
    assert.throws(() => decoder.decodeAll(bytes), /beam:coder:row:v1.*at most 1 fields/s);
  });

  it("other coders are not columnar", () => {
    assert.equal(
      ColumnarDecoder.forCoder(windowed({ urn: "firefly:coder:json:v1" }, GLOBAL), {
        maxElements: 1,
        maxBytes: 1,
      }),
      undefined,
    );
  });
});
