/**
 * The `instructions` fuzz target with a fixed seed and a small count (the
 * full run is `npm run fuzz -- instructions`): a live worker, inline and with
 * a thread pool, answers every random or mutated instruction in bound and
 * never dies.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { run } from "./instructions-target.js";

const CASES = Number(process.env.FIREFLY_FUZZ_INSTRUCTION_CASES ?? 40);

it(`a live worker answers ${CASES} random and mutated cases per unit (inline and threads=2) and never dies`, async () => {
  const report = await run({ cases: CASES, seed: 7 });
  assert.deepStrictEqual(report.findings, []);
  assert.equal(report.counts.length, 10);
  for (const c of report.counts) {
    assert.equal(c.cases, CASES, c.name);
    assert.equal(c.crashes, 0, c.name);
    assert.ok(c.decoded + c.rejected >= CASES, `${c.name}: every case was answered`);
    assert.ok(c.rejected > 0, `${c.name} provokes some error responses`);
  }
});
