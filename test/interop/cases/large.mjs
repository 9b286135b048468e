// 200,000 elements made on the workers, grouped and combined per key (the
// shapes every runner moves in volume): counts, sums and a GroupByKey.
import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const numbers = p
  .create(
    Array.from({ length: 20 }, (_, i) => i),
    { coder: "varint" },
  )
  .flatMap((seed) => Array.from({ length: 10_000 }, (_, i) => seed * 10_000 + i), {
    name: "Expand",
    coder: "varint",
  })
  .map((n) => ({ key: `k${n % 97}`, value: n }), { name: "Key", coder: kv("string", "varint") });

const sums = numbers
  .combinePerKey("sum", { name: "Sum" })
  .map((e) => `sum ${e.key} ${e.value}`, { name: "FormatSum", coder: "string" });
const groups = numbers
  .groupByKey({ name: "Group" })
  .map((g) => `group ${g.key} ${g.value.length} ${Math.max(...g.value)}`, {
    name: "FormatGroup",
    coder: "string",
  });
p.flatten([sums, groups]).writeText(p.options.output ?? "out/interop-large");

await p.run();
