// Batch DoFns (Arrow columns) under another runner: 20,000 kv(string, double)
// and kv(string, varint) elements through mapBatches steps and a processBatch
// DoFn, then combined per key by the runner. Batches never reach the wire:
// the runner sees the per-element coders' bytes.
import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const readings = p
  .create(
    Array.from({ length: 20 }, (_, i) => i),
    { coder: "varint" },
  )
  .flatMap((seed) => Array.from({ length: 1000 }, (_, i) => seed * 1000 + i), {
    name: "Expand",
    coder: "varint",
  })
  .map((n) => ({ key: `k${n % 13}`, value: n / 8 }), {
    name: "Key",
    coder: kv("string", "double"),
  })
  .reshuffle();

const scaled = readings.mapBatches(
  (batch) => {
    const v = batch.getChild("value").toArray();
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i] * 2 + 1;
    return { key: batch.getChild("key"), value: out };
  },
  { name: "Scale", batchSize: 500 },
);
const sums = scaled
  .combinePerKey("sum", { name: "Sum" })
  .map((e) => `sum ${e.key} ${e.value}`, { name: "FormatSum", coder: "string" });

const counts = readings
  .mapBatches(
    (batch) => ({ key: batch.getChild("key"), value: new BigInt64Array(batch.numRows).fill(1n) }),
    { name: "Ones", coder: kv("string", "varint") },
  )
  .parDo(
    {
      processBatch(batch) {
        let total = 0n;
        for (const v of batch.getChild("value")) total += v;
        return [{ key: "rows", value: Number(total) }];
      },
    },
    { name: "CountRows", coder: kv("string", "varint") },
  )
  .combinePerKey("sum", { name: "Total" })
  .map((e) => `${e.key} ${e.value}`, { name: "FormatTotal", coder: "string" });

p.flatten([sums, counts]).writeText(p.options.output ?? "out/interop-batches");

await p.run();
