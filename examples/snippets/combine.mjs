import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const sales = p.create(
  [
    { key: "tea", value: 3 },
    { key: "pen", value: 1 },
    { key: "tea", value: 2 },
    { key: "map", value: 5 },
  ],
  { coder: kv("string", "varint") }, // or leave it out: create infers coders from the values
);

const grouped = sales
  .groupByKey() // {key, value: [values]}
  .map((g) => `${g.key} orders=${g.value.length}`, { coder: "string" });
const sums = sales
  .combinePerKey("sum") // built-ins: sum, count, min, max, mean, top(n)
  .map((e) => `${e.key} sum=${e.value}`, { coder: "string" });
const ranges = sales
  .combinePerKey({
    // a CombineFn: the runner may precombine before the shuffle
    createAccumulator: () => ({ min: Infinity, max: -Infinity }),
    addInput: (acc, x) => ({ min: Math.min(acc.min, x), max: Math.max(acc.max, x) }),
    mergeAccumulators: (accs) => ({
      min: Math.min(...accs.map((a) => a.min)),
      max: Math.max(...accs.map((a) => a.max)),
    }),
    extractOutput: (acc) => `${acc.min}..${acc.max}`,
  })
  .map((e) => `${e.key} range=${e.value}`, { coder: "string" });
const total = sales
  .map((e) => e.value, { coder: "varint" })
  .combineGlobally("sum")
  .map((n) => `total=${n}`, { coder: "string" });

p.flatten([grouped, sums, ranges, total]).writeText(p.options.output ?? "out/combine");

await p.run();
