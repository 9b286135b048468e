/**
 * Property tests: random values of random (nested) coders round-trip in
 * both contexts, one by one and as a chunked stream.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ByteWriter, coderFromSpec, StreamDecoder, type Context } from "../../coders/index.js";
import { specArb, valueArb, type TestSpec } from "./support/arbitraries.js";

const RUNS = Number(process.env.FIREFLY_PROPERTY_RUNS ?? 300);

const specWithValues = (maxLength: number): fc.Arbitrary<[TestSpec, unknown[]]> =>
  specArb(3).chain((spec) =>
    fc.tuple(fc.constant(spec), fc.array(valueArb(spec), { minLength: 1, maxLength })),
  );

describe("round trip", () => {
  for (const context of ["nested", "outer"] as Context[]) {
    it(`decode(encode(v)) equals v (${context})`, () => {
      fc.assert(
        fc.property(specWithValues(3), ([spec, values]) => {
          const coder = coderFromSpec(spec);
          for (const v of values) {
            const bytes = coder.encode(v, context);
            assert.deepStrictEqual(coder.decode(bytes, context), v);
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  it("encodeTo into one reused writer gives the same bytes as encode", () => {
    const writer = new ByteWriter(8);
    fc.assert(
      fc.property(specWithValues(5), ([spec, values]) => {
        const coder = coderFromSpec(spec);
        writer.reset();
        const expected: Uint8Array[] = [];
        for (const v of values) {
          expected.push(coder.encode(v, "nested"));
          coder.encodeTo(v, writer, "nested");
        }
        assert.deepStrictEqual(
          new Uint8Array(writer.view()),
          new Uint8Array(Buffer.concat(expected)),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("a stream of elements decodes under any chunking", () => {
    fc.assert(
      fc.property(
        specWithValues(8).filter(([spec]) => coderFromSpec(spec).minSize > 0),
        fc.array(fc.nat(), { maxLength: 12 }),
        ([spec, values], cutSeeds) => {
          const coder = coderFromSpec(spec);
          const writer = new ByteWriter();
          for (const v of values) coder.encodeTo(v, writer, "nested");
          const stream = writer.finish();
          const cuts = [...new Set(cutSeeds.map((s) => s % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const decoder = new StreamDecoder(coder);
          const out: unknown[] = [];
          let prev = 0;
          for (const cut of [...cuts, stream.length]) {
            decoder.push(stream.subarray(prev, cut));
            prev = cut;
            for (let v = decoder.next(); v !== undefined; v = decoder.next()) out.push(v);
          }
          decoder.finish();
          assert.deepStrictEqual(out, values);
          assert.equal(decoder.elementsDecoded, values.length);
          assert.equal(decoder.bufferedBytes, 0);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
