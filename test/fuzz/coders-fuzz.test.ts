/** The `coders` fuzz target with a small, fixed-seed count (the full run is `npm run fuzz`). */
import assert from "node:assert/strict";
import { it } from "node:test";
import { run } from "./coders-target.js";

const CASES = Number(process.env.FIREFLY_FUZZ_CASES ?? 1500);

it(`every coder decodes ${CASES} random and mutated inputs to values or CoderErrors`, () => {
  const report = run({ cases: CASES, seed: 42 });
  assert.deepStrictEqual(report.findings, []);
  assert.ok(report.counts.length >= 30);
  for (const c of report.counts) {
    assert.equal(c.cases, CASES, c.name);
    assert.equal(c.crashes, 0, c.name);
    assert.ok(c.decoded > 0 && c.rejected > 0, `${c.name} both decodes and rejects some inputs`);
  }
});
