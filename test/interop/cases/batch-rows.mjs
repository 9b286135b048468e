// Schema rows in batches under another runner: 6,000 rows of atomic fields
// (a nullable one among them) cross a reshuffle, so the next stage's data
// source decodes the rows straight into Arrow columns (one per field, nulls
// as Arrow nulls). One batch DoFn computes a column from two others and
// passes the rows on as rows (with the nullable column); another makes KVs
// that go straight to a GroupByKey, so the sink encodes them from the
// columns. The runner sees only the coders' bytes. (Values are quarters:
// sums are exact in any order.)
import { kv, Pipeline, row } from "firefly-beam/pipeline";

const READING = row({ sensor: "STRING", reading: "DOUBLE", count: "INT32", note: "STRING?" });
const SCALED = row({ sensor: "STRING", scaled: "DOUBLE", note: "STRING?" });

const p = new Pipeline();
const readings = p
  .create(
    Array.from({ length: 6 }, (_, i) => i),
    { coder: "varint" },
  )
  .flatMap(
    (seed) =>
      Array.from({ length: 1000 }, (_, i) => {
        const n = seed * 1000 + i;
        return {
          sensor: `s${n % 7}`,
          reading: n / 4,
          count: (n % 5) - 2,
          note: n % 3 === 0 ? null : `n${n % 11}`,
        };
      }),
    { name: "Readings", coder: READING },
  )
  .reshuffle();

const sums = readings
  .mapBatches(
    (batch) => {
      const reading = batch.getChild("reading").toArray();
      const count = batch.getChild("count").toArray();
      const scaled = new Float64Array(reading.length);
      for (let i = 0; i < reading.length; i++) scaled[i] = reading[i] * count[i];
      return { sensor: batch.getChild("sensor"), scaled, note: batch.getChild("note") };
    },
    { name: "Scale", coder: SCALED, batchSize: 700 },
  )
  .map((r) => ({ key: `${r.sensor}/${r.note === null ? "-" : "note"}`, value: r.scaled }), {
    name: "Key",
    coder: kv("string", "double"),
  })
  .combinePerKey("sum", { name: "Sum" })
  .map((e) => `sum ${e.key} ${e.value}`, { name: "Format", coder: "string" });

const grouped = readings
  .mapBatches(
    (batch) => ({ key: batch.getChild("sensor"), value: batch.getChild("reading").toArray() }),
    { name: "ToKv", coder: kv("string", "double") },
  )
  .groupByKey()
  .map(
    (e) => {
      let total = 0;
      let n = 0;
      for (const v of e.value) {
        total += v;
        n++;
      }
      return `grouped ${e.key} ${n} ${total}`;
    },
    { name: "FormatGroups", coder: "string" },
  );

p.flatten([sums, grouped]).writeText(p.options.output ?? "out/interop-batch-rows");

await p.run();
