/**
 * The package's public entry points resolve by name (self-reference through
 * package.json "exports", as an installed package would) and export their API.
 */
import { test } from "node:test";
import assert from "node:assert/strict";

test("firefly-beam exports the embedding API", async () => {
  const api = (await import("firefly-beam")) as Record<string, unknown>;
  for (const name of ["FnHarness", "registerOperation", "registerCoder", "runPipeline"]) {
    assert.equal(typeof api[name], "function", name);
  }
  const urns = (api.registeredOperationUrns as () => string[])();
  assert.ok(urns.includes("beam:transform:pardo:v1"), "importing it registers the operations");
});

test("firefly-beam/coders and firefly-beam/pipeline resolve", async () => {
  const coders = (await import("firefly-beam/coders")) as Record<string, unknown>;
  assert.equal(typeof coders.coderFromSpec, "function");
  const pipeline = (await import("firefly-beam/pipeline")) as Record<string, unknown>;
  assert.equal(typeof pipeline.Pipeline, "function");
});
