import { Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();

p.create(["1", "2", "three", "4"])
  .map(function parse(text) {
    const n = Number(text);
    if (Number.isNaN(n)) throw new Error(`bad record: ${JSON.stringify(text)}`);
    return n;
  })
  .writeText(p.options.output ?? "out/numbers");

await p.run();
