/**
 * Measures the local runner on a GroupByKey of N elements (not a test):
 *   node dist/test/runner/support/gbk-throughput.js [N=1000000] [threads=0] [memoryMb=256]
 */
import { runPipeline } from "../../../src/runner/index.js";
import { kv, STR, TestPipeline, VARINT } from "./test-pipeline.js";

const n = Number(process.argv[2] ?? 1_000_000);
const threads = Number(process.argv[3] ?? 0);
const memoryMb = Number(process.argv[4] ?? 256);
const p = new TestPipeline();
const seeds = p.reshuffle(
  "Spread",
  p.create(
    "Seeds",
    Array.from({ length: 16 }, (_, i) => i),
    VARINT,
  ),
);
const pairs = p.pardo(
  "Explode",
  seeds,
  {
    source:
      "export default function* (s, ctx) { for (let i = s; i < ctx.config.n; i += 16) yield { key: 'key' + (i % 10000), value: i }; }",
    config: { n },
  },
  kv(STR, VARINT),
);
const grouped = p.groupByKey("Group", pairs);
p.pardo("Count", grouped, { source: "export default (kv) => [kv.value.length]" }, VARINT);
const result = await runPipeline(p.build(), {
  threads,
  memoryBudgetBytes: memoryMb * 1024 * 1024,
});
const group = result.stages.find((s) => s.name === "Group");
console.log(
  JSON.stringify({
    state: result.state,
    elements: n,
    threads,
    memoryMb,
    seconds: +(result.durationMs / 1000).toFixed(2),
    elementsPerSecond: Math.round(n / (result.durationMs / 1000)),
    groupIn: group?.inputElements,
    groupOut: group?.outputElements,
    note: group?.note,
    error: result.error?.message,
  }),
);
