// Vectorized DoFns: features over a generated numeric dataset, computed on
// Apache Arrow columns (README "Vectorized DoFns").
//   npx firefly run examples/numeric-features.mjs [--output=PREFIX] [--rows=N]
// 4 sensors; reading i is sensor-(i % 4) with value (i % 100) / 4. A batch step
// scales every reading (value * 2 + 1) and a second one clips it to [0, 40]
// (consecutive batch steps pass Arrow batches); then per sensor: sum, mean, max.
import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const output = p.options.output ?? "out/numeric-features";
const rows = Number(p.options.get("rows") ?? 100_000);

const readings = p
  .generateSequence({ from: 0, to: rows, name: "Indices" })
  .map((i) => ({ key: `sensor-${i % 4}`, value: (i % 100) / 4 }), {
    name: "Readings",
    coder: kv("string", "double"),
  })
  .reshuffle(); // a stage boundary: the next stage decodes its input straight into columns

const features = readings
  .mapBatches(
    (batch) => {
      const value = batch.getChild("value").toArray();
      const scaled = new Float64Array(value.length);
      for (let i = 0; i < value.length; i++) scaled[i] = value[i] * 2 + 1;
      return { key: batch.getChild("key"), value: scaled };
    },
    { name: "Scale", batchSize: 2048 },
  )
  .mapBatches(
    (batch) => {
      const value = batch.getChild("value").toArray();
      const clipped = value.map((v) => Math.min(40, Math.max(0, v)));
      return { key: batch.getChild("key"), value: clipped };
    },
    { name: "Clip" },
  );

for (const stat of ["sum", "mean", "max"]) {
  features
    .combinePerKey(stat, { name: `Per sensor ${stat}` })
    .map((e, ctx) => `${e.key} ${ctx.config.stat} ${e.value}`, {
      name: `Format ${stat}`,
      coder: "string",
      config: { stat },
    })
    .writeText(`${output}-${stat}`, { name: `Write ${stat}` });
}

await p.run();
