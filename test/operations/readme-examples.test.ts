/**
 * The code blocks of the README's "Writing DoFns" section are real: each is
 * loaded as a `source` module exactly as a runner would ship it, and run
 * through the ParDo and combine operations.
 */
import { readFileSync } from "node:fs";
import { test } from "node:test";
import assert from "node:assert/strict";
import { COMBINE_GROUPED_VALUES_URN } from "../../operations/combine/combine-grouped-values.js";
import type { MetricsContainer } from "../../operations/metrics/metrics-container.js";
import { pipelineApi } from "../../proto/index.js";
import { iterable, kv, STR, VARINT } from "../support/descriptors.js";
import { repoRoot } from "../support/paths.js";
import { json, setUpOperation, wv } from "./support.js";

function readmeBlocks(section: string): string[] {
  const readme = readFileSync(`${repoRoot}/README.md`, "utf8");
  const start = readme.indexOf(`## ${section}`);
  assert.ok(start >= 0, `README has a section "${section}"`);
  const end = readme.indexOf("\n## ", start + 3);
  const text = readme.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const blocks = readmeBlocks("Writing DoFns");
const blockExporting = (name: string) => {
  const block = blocks.find((b) => b.includes(`export const ${name}`));
  assert.ok(block, `a README block exports ${name}`);
  return block;
};

test("the README's countWords DoFn emits a KV per long-enough word and counts lines", async () => {
  const t = await setUpOperation({
    urn: "beam:transform:pardo:v1",
    payload: new pipelineApi.ParDoPayload({
      do_fn: new pipelineApi.FunctionSpec({
        urn: "firefly:dofn:v1",
        payload: json({
          source: blockExporting("countWords"),
          export: "countWords",
          config: { minLength: 3 },
        }),
      }),
    }).serializeBinary(),
    inputs: { in: STR },
    outputs: { out: kv(STR, VARINT) },
  });
  await t.runBundle([wv("the cat sat"), wv("a dog")]);
  assert.deepEqual(t.out().values, [
    { key: "the", value: 1 },
    { key: "cat", value: 1 },
    { key: "sat", value: 1 },
    { key: "dog", value: 1 },
  ]);
  const metrics = (t.op as unknown as { metrics: MetricsContainer }).metrics;
  assert.equal([...metrics.counters.values()].find((c) => c.name === "lines")?.value, 2);
});

test("the README's longestWord CombineFn combines grouped values", async () => {
  const t = await setUpOperation({
    urn: COMBINE_GROUPED_VALUES_URN,
    payload: new pipelineApi.CombinePayload({
      combine_fn: new pipelineApi.FunctionSpec({
        urn: "firefly:combinefn:v1",
        payload: json({ source: blockExporting("longestWord"), export: "longestWord" }),
      }),
      accumulator_coder_id: "string",
    }).serializeBinary(),
    inputs: { in: kv(STR, iterable(STR)) },
    outputs: { out: kv(STR, STR) },
  });
  await t.runBundle([wv({ key: "k", value: ["fig", "banana", "kiwi"] })]);
  assert.deepEqual(t.out().values, [{ key: "k", value: "banana" }]);
});
