/**
 * The local runner sending GroupByKey groups as state-backed iterables
 * (pipeline option firefly_state_backed_iterable_threshold): a prefix inline,
 * the rest served through `StateKey.runner` pages. Pipelines give the same
 * output with and without it; DoFns see arrays unless they ask for lazy
 * iteration; combines read the pages.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PipelineOptions } from "../../src/pipeline/options.js";
import {
  localRunnerOptions,
  runPipeline,
  type LocalRunnerOptions,
  type PipelineResult,
} from "../../src/runner/index.js";
import {
  kv,
  readJsonLines,
  sortedStrings,
  STR,
  tempFile,
  TestPipeline,
  VARINT,
} from "./support/test-pipeline.js";

/** 20 groups: "big" with `bigSize` values (4 bytes each: 300,000 take two 1 MiB pages), 19 small ones. */
function keyedValues(p: TestPipeline, bigSize: number): string {
  const impulse = p.impulse("Seed");
  return p.pardo(
    "Values",
    impulse,
    {
      source: `export default function* (_, ctx) {
        for (let i = 0; i < ctx.config.big; i++) yield { key: "big", value: 3000000 + i };
        for (let i = 0; i < 19 * 3; i++) yield { key: "small" + (i % 19), value: i };
      }`,
      config: { big: bigSize },
    },
    kv(STR, VARINT),
  );
}

function groupAndMap(file: string, dofn: string, bigSize = 300_000): TestPipeline {
  const p = new TestPipeline();
  const grouped = p.groupByKey("Group", keyedValues(p, bigSize));
  const described = p.pardo("Describe", grouped, { source: dofn }, kv(STR, STR));
  p.writeJsonLines("Write", described, file);
  return p;
}

const DESCRIBE = `export default (g) => [{ key: g.key, value: g.value.length + ":" + g.value.reduce((a, b) => a + b, 0) + ":" + Array.isArray(g.value) }]`;

async function run(p: TestPipeline, options: LocalRunnerOptions): Promise<PipelineResult> {
  const result = await runPipeline(p.build(), { threads: 0, ...options });
  assert.equal(result.state, "DONE", JSON.stringify(result.error));
  return result;
}

function groupNote(result: PipelineResult, name: string): string {
  return result.stages.find((s) => s.transforms.some((t) => t.endsWith(name)))?.note ?? "";
}

describe("local runner: state-backed iterables", () => {
  it("groupByKey + map gives the same output with a low threshold (large groups read in pages)", async () => {
    const plain = tempFile("plain.jsonl");
    const paged = tempFile("paged.jsonl");
    const before = await run(groupAndMap(plain, DESCRIBE), {});
    const after = await run(groupAndMap(paged, DESCRIBE), {
      stateBackedIterableThreshold: 64,
      threads: 2,
    });
    const expected = readJsonLines(plain);
    assert.equal(expected.length, 20);
    assert.deepEqual(sortedStrings(readJsonLines(paged)), sortedStrings(expected));
    const big = 300_000 * 3_000_000 + (300_000 * 299_999) / 2;
    assert.ok(
      expected.some(
        (e) => JSON.stringify(e) === JSON.stringify({ key: "big", value: `300000:${big}:true` }),
      ),
    );
    assert.equal(groupNote(before, "Group"), "");
    assert.match(groupNote(after, "Group"), /sent 1 group as a state-backed iterable/);
  });

  it("only groups above the threshold are state-backed", async () => {
    const file = tempFile("some.jsonl");
    const result = await run(groupAndMap(file, DESCRIBE, 2000), {
      stateBackedIterableThreshold: 4096,
    });
    assert.match(groupNote(result, "Group"), /sent 1 group as a state-backed iterable/);
    assert.equal(readJsonLines(file).length, 20);
  });

  it("a DoFn with lazyIterables: true iterates a state-backed group and can emit it", async () => {
    const file = tempFile("lazy.jsonl");
    const p = new TestPipeline();
    const grouped = p.groupByKey("Group", keyedValues(p, 50_000));
    const summed = p.pardo(
      "Sum",
      grouped,
      {
        source: `export default {
          lazyIterables: true,
          async *process(g) {
            let n = 0, sum = 0;
            for await (const v of g.value) { n++; sum += v; }
            yield { key: g.key, value: [n, sum, Array.isArray(g.value) ? 1 : 0] };
            if (g.key === "big") yield { key: "emitted", value: g.value };
          },
        }`,
      },
      kv(STR, { urn: "beam:coder:iterable:v1", components: [VARINT] }),
    );
    const lengths = p.pardo(
      "Lengths",
      summed,
      {
        source:
          "export default (e) => [{ key: e.key, value: JSON.stringify(e.value.slice(0, 3)) + '/' + e.value.length }]",
      },
      kv(STR, STR),
    );
    p.writeJsonLines("Write", lengths, file);
    const result = await run(p, { stateBackedIterableThreshold: 100 });
    assert.match(groupNote(result, "Group"), /sent 1 group as a state-backed iterable/);
    const lines = readJsonLines<{ key: string; value: string }>(file);
    const byKey = new Map(lines.map((l) => [l.key, l.value]));
    const bigSum = 50_000 * 3_000_000 + (50_000 * 49_999) / 2;
    assert.equal(byKey.get("big"), `[50000,${bigSum},0]/3`);
    assert.equal(byKey.get("emitted"), "[3000000,3000001,3000002]/50000");
    assert.equal(byKey.get("small0"), "[3,57,1]/3", "a small group comes inline, as an array");
  });

  it("combinePerKey (lifted and not) combines state-backed groups to the same result", async () => {
    const build = (file: string) => {
      const p = new TestPipeline();
      const sums = p.combinePerKey(
        "Sum",
        keyedValues(p, 100_000),
        { builtin: "sum" },
        VARINT,
        VARINT,
      );
      p.writeJsonLines("Write", sums, file);
      return p;
    };
    const plain = tempFile("sums.jsonl");
    await run(build(plain), {});
    const expected = sortedStrings(readJsonLines(plain));
    assert.equal(expected.length, 20);
    for (const liftCombiners of [true, false]) {
      const file = tempFile(`sums-${liftCombiners}.jsonl`);
      const result = await run(build(file), { stateBackedIterableThreshold: 1, liftCombiners });
      assert.deepEqual(
        sortedStrings(readJsonLines(file)),
        expected,
        `liftCombiners: ${liftCombiners}`,
      );
      assert.ok(
        result.stages.some((s) => /as (a )?state-backed iterables?\b/.test(s.note ?? "")),
        `a group was state-backed (liftCombiners: ${liftCombiners})`,
      );
    }
  });

  it("a group read by a runner primitive or as a side input stays inline", async () => {
    const file = tempFile("flattened.jsonl");
    const p = new TestPipeline();
    const grouped = p.groupByKey("Group", keyedValues(p, 1000));
    const flat = p.flatten("Flatten", [grouped]);
    const described = p.pardo("Describe", flat, { source: DESCRIBE }, kv(STR, STR));
    p.writeJsonLines("Write", described, file);
    const result = await run(p, { stateBackedIterableThreshold: 16 });
    assert.equal(groupNote(result, "Group"), "");
    assert.equal(readJsonLines(file).length, 20);
  });

  it("reads the threshold from the pipeline option firefly_state_backed_iterable_threshold", () => {
    const options = localRunnerOptions(
      new PipelineOptions({ firefly_state_backed_iterable_threshold: "4096" }),
    );
    assert.equal(options.stateBackedIterableThreshold, 4096);
    assert.equal(
      localRunnerOptions(new PipelineOptions({})).stateBackedIterableThreshold,
      undefined,
    );
    assert.throws(
      () =>
        localRunnerOptions(new PipelineOptions({ firefly_state_backed_iterable_threshold: "big" })),
      /firefly_state_backed_iterable_threshold must be a non-negative integer/,
    );
  });
});
