/**
 * Beam's cross-SDK coder vectors: every example of standard_coders.yaml is
 * encoded (unless the section is non-deterministic) and decoded in the
 * context the section names, and decoded from a stream cut at every position.
 * Every section runs with the compiled coders (the default) and again with
 * the interpreted ones (`compile: false`): both must be exact.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  coderFromSpec,
  isCoderRegistered,
  StateBackedIterable,
  StreamDecoder,
  type Coder,
  type DecodeOptions,
} from "../../coders/index.js";
import {
  loadConformanceCases,
  stateReaderFor,
  urnsUsed,
  type ConformanceCase,
} from "./support/conformance-cases.js";

const cases = loadConformanceCases();

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

async function resolve(v: unknown): Promise<unknown> {
  return v instanceof StateBackedIterable ? await v.toArray() : v;
}

function optionsFor(c: ConformanceCase): DecodeOptions {
  return c.state === undefined ? {} : { stateReader: stateReaderFor(c.state) };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

async function decodeChunks(
  coder: Coder<unknown>,
  chunks: Uint8Array[],
  options: DecodeOptions,
): Promise<unknown[]> {
  const decoder = new StreamDecoder(coder, options);
  const out: unknown[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let v = decoder.next(); v !== undefined; v = decoder.next()) out.push(v);
  }
  decoder.finish();
  return Promise.all(out.map(resolve));
}

describe("standard_coders.yaml", () => {
  it("has sections and examples", () => {
    assert.ok(cases.length >= 40, `only ${cases.length} sections`);
  });

  it("uses only URNs Firefly implements", () => {
    for (const urn of urnsUsed(cases))
      assert.ok(isCoderRegistered(urn), `${urn} is not registered`);
    assert.ok(isCoderRegistered("beam:coder:length_prefix:v1"));
  });

  for (const [mode, c] of cases.flatMap((c) => [
    ["compiled", c] as const,
    ["interpreted", c] as const,
  ])) {
    describe(`${c.name} (${mode})`, () => {
      const coder = coderFromSpec(c.spec, { compile: mode === "compiled" });
      for (const context of c.contexts) {
        for (const ex of c.examples) {
          const label = `${context} ${hex(ex.bytes).slice(0, 40)}`;
          if (!c.nonDeterministic) {
            it(`encodes ${label}`, () => {
              assert.equal(hex(coder.encode(ex.value, context)), hex(ex.bytes));
            });
          }
          it(`decodes ${label}`, async () => {
            const decoded = await resolve(coder.decode(ex.bytes, context, optionsFor(c)));
            assert.deepStrictEqual(decoded, ex.value);
          });
        }
      }

      // A stream of zero-byte elements (global windows) cannot be delimited: skip those.
      if (c.contexts.includes("nested") && c.examples.every((e) => e.bytes.length > 0)) {
        const stream = concat(c.examples.map((e) => e.bytes));
        const expected = c.examples.map((e) => e.value);
        it("streams the examples cut at every position", async () => {
          for (let cut = 0; cut <= stream.length; cut++) {
            const got = await decodeChunks(
              coder,
              [stream.subarray(0, cut), stream.subarray(cut)],
              optionsFor(c),
            );
            assert.deepStrictEqual(got, expected, `cut at ${cut}`);
          }
        });
        it("streams the examples in 1-byte chunks", async () => {
          const chunks = Array.from(stream, (_, i) => stream.subarray(i, i + 1));
          assert.deepStrictEqual(await decodeChunks(coder, chunks, optionsFor(c)), expected);
        });
        it("streams the examples cut at every pair of positions", async () => {
          const n = Math.min(stream.length, 64);
          for (let a = 0; a <= n; a++) {
            for (let b = a; b <= n; b += 3) {
              const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
              assert.deepStrictEqual(
                await decodeChunks(coder, chunks, optionsFor(c)),
                expected,
                `cuts ${a}, ${b}`,
              );
            }
          }
        });
        const last = c.examples.at(-1)!.bytes;
        it("reports a truncated stream at finish()", { skip: last.length < 2 }, () => {
          // Nested encodings are self-delimiting: a strict prefix of the last element is incomplete.
          const decoder = new StreamDecoder(coder, optionsFor(c));
          decoder.push(stream.subarray(0, stream.length - 1));
          assert.throws(
            () => {
              while (decoder.next() !== undefined);
              decoder.finish();
            },
            (err: Error) => err.name === "CoderError",
          );
        });
      }
    });
  }
});
