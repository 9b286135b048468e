import { Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline(); // options from the command line: --runner, --threads, --output, ...

p.create(["the quick brown fox", "jumps over", "the lazy dog"])
  .flatMap((line) => line.split(" "), { coder: "string" })
  .filter((word) => word.length > 3)
  .map((word, ctx) => word.toUpperCase() + ctx.config.suffix, {
    config: { suffix: "!" }, // values a function needs go in config: it is shipped as source
    coder: "string",
  })
  .writeText(p.options.output ?? "out/basics");

await p.run();
