/**
 * Total decoding: any bytes give values or a typed `CoderError` (never
 * another exception, never `undefined`), one-shot and streamed, and forged
 * lengths and counts fail fast instead of allocating.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  coderFromSpec,
  CoderError,
  StreamDecoder,
  type Coder,
  type Context,
} from "../../coders/index.js";
import { specArb, valueArb } from "./support/arbitraries.js";
import { mutate, mutation } from "./support/mutations.js";

const RUNS = Number(process.env.FIREFLY_PROPERTY_RUNS ?? 300);
const LIMITS = { maxZeroSizeElements: 4096 };

function decodesOrRejects(coder: Coder<unknown>, bytes: Uint8Array, context: Context): void {
  try {
    assert.notEqual(coder.decode(bytes, context, LIMITS), undefined);
  } catch (err) {
    if (!(err instanceof CoderError)) throw err;
    assert.equal(err.name, "CoderError");
    assert.ok(
      err.offset === undefined || (err.offset >= 0 && err.offset <= bytes.length + 10),
      `offset ${err.offset}`,
    );
  }
}

function streamsOrRejects(coder: Coder<unknown>, bytes: Uint8Array, chunk: number): void {
  const d = new StreamDecoder(coder, { ...LIMITS, maxElementBytes: 1 << 16 });
  try {
    for (let i = 0; i < bytes.length; i += chunk) {
      d.push(bytes.subarray(i, i + chunk));
      while (d.next() !== undefined);
    }
    d.finish();
  } catch (err) {
    if (!(err instanceof CoderError)) throw err;
  }
}

describe("total decoding", () => {
  it("random bytes decode to values or CoderErrors (both contexts, streamed)", () => {
    fc.assert(
      fc.property(
        specArb(3),
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 1, max: 16 }),
        (spec, bytes, chunk) => {
          const coder = coderFromSpec(spec);
          decodesOrRejects(coder, bytes, "nested");
          decodesOrRejects(coder, bytes, "outer");
          if (coder.minSize > 0) streamsOrRejects(coder, bytes, chunk);
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it("mutated valid encodings decode to values or CoderErrors", () => {
    fc.assert(
      fc.property(
        specArb(3).chain((s) => fc.tuple(fc.constant(s), valueArb(s))),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 16 }),
        ([spec, value], mutations, chunk) => {
          const coder = coderFromSpec(spec);
          for (const context of ["nested", "outer"] as Context[]) {
            let bytes = coder.encode(value, context);
            for (const m of mutations) bytes = mutate(bytes, m);
            decodesOrRejects(coder, bytes, context);
            if (context === "nested" && coder.minSize > 0) streamsOrRejects(coder, bytes, chunk);
          }
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });

  it("forged lengths and counts fail fast without allocating", () => {
    const cases: [string, string][] = [
      ["beam:coder:bytes:v1", "ffffffff07"],
      ["beam:coder:string_utf8:v1", "ffffffff07616263"],
    ];
    for (const [urn, hex] of cases) {
      const started = process.hrtime.bigint();
      assert.throws(() => coderFromSpec({ urn }).decode(Buffer.from(hex, "hex")), /truncated/);
      assert.ok(process.hrtime.bigint() - started < 50_000_000n);
    }
    const iterable = coderFromSpec({
      urn: "beam:coder:iterable:v1",
      components: [{ urn: "beam:coder:varint:v1" }],
    });
    assert.throws(() => iterable.decode(Buffer.from("7fffffff", "hex")), /truncated/);
    const blocks = coderFromSpec({
      urn: "beam:coder:iterable:v1",
      components: [{ urn: "beam:coder:double:v1" }],
    });
    assert.throws(() => blocks.decode(Buffer.from("ffffffffffffffff07", "hex")), /truncated/);
    const windows = coderFromSpec({
      urn: "beam:coder:windowed_value:v1",
      components: [{ urn: "beam:coder:bytes:v1" }, { urn: "beam:coder:global_window:v1" }],
    });
    assert.throws(() => windows.decode(Buffer.from("80000000000000007fffffff", "hex")), CoderError);
  });
});
