import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const prices = p.create(
  [
    { key: "tea", value: 3.5 },
    { key: "pen", value: 1.25 },
    { key: "tea", value: 2 },
  ],
  { coder: kv("string", "double") },
);

prices
  .reshuffle() // a stage boundary: the next stage decodes its input straight into columns
  .mapBatches(
    // batch: an Apache Arrow Table, columns "key" (dictionary-encoded) and "value" (Float64)
    (batch, ctx) => {
      const value = batch.getChild("value").toArray(); // a Float64Array, no copy
      const withTax = new Float64Array(value.length);
      for (let i = 0; i < value.length; i++) withTax[i] = value[i] * ctx.config.rate;
      return { key: batch.getChild("key"), value: withTax }; // columns by name: a batch
    },
    { config: { rate: 1.2 }, batchSize: 1024 },
  )
  .map((e) => `${e.key}: ${e.value.toFixed(2)}`, { coder: "string" })
  .writeText(p.options.output ?? "out/batches");

await p.run();
