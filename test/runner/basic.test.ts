import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { runPipeline } from "../../src/runner/index.js";
import {
  kv,
  readJsonLines,
  sortedStrings,
  STR,
  tempFile,
  TestPipeline,
  VARINT,
} from "./support/test-pipeline.js";

const words = ["a", "b", "a", "c", "b", "a"];

function wordCount(file: string): TestPipeline {
  const p = new TestPipeline();
  const created = p.create("Create", words, STR);
  const pairs = p.pardo(
    "Pair",
    created,
    { source: "export default (w) => [{ key: w, value: 1 }]" },
    kv(STR, VARINT),
  );
  const grouped = p.groupByKey("Group", pairs);
  const counted = p.pardo(
    "Count",
    grouped,
    { source: "export default (kv) => [{ key: kv.key, value: kv.value.length }]" },
    kv(STR, VARINT),
  );
  p.writeJsonLines("Write", counted, file);
  return p;
}

describe("local runner: basics", () => {
  after(() => undefined);

  it("runs impulse → ParDo → GroupByKey → ParDo with exact results (inline worker)", async () => {
    const file = tempFile("counts.jsonl");
    const result = await runPipeline(wordCount(file).build(), { threads: 0 });
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    assert.deepEqual(
      sortedStrings(readJsonLines(file)),
      sortedStrings([
        { key: "a", value: 3 },
        { key: "b", value: 2 },
        { key: "c", value: 1 },
      ]),
    );
    const kinds = result.stages.map((s) => s.kind);
    assert.deepEqual(kinds, [
      "beam:transform:impulse:v1",
      "stage",
      "beam:transform:group_by_key:v1",
      "stage",
    ]);
    const group = result.stages[2];
    assert.equal(group.inputElements, 6);
    assert.equal(group.outputElements, 3);
  });
});
