import { Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();

const { long, short } = p.create(["apple", "kiwi", "banana", "fig"]).parDo(
  {
    setup(config) {
      this.limit = config.limit; // once per DoFn instance
    },
    process(word, ctx) {
      ctx.metrics.counter("words").inc();
      ctx.output(word, word.length > this.limit ? "long" : "short"); // a tagged output
    },
  },
  {
    name: "SplitByLength",
    config: { limit: 4 },
    outputs: { long: { coder: "string" }, short: { coder: "string" } },
  },
);

p.flatten([
  long.map((word) => `long: ${word}`, { coder: "string" }),
  short.map((word) => `short: ${word}`, { coder: "string" }),
]).writeText(p.options.output ?? "out/dofn");

await p.run();
