// Word count: the lines of a text file → words → `word: count` lines in shards.
//   npx firefly run examples/wordcount.mjs [--input=FILE_OR_GLOB] [--output=PREFIX] [--shards=N]
// Defaults: the corpus shipped in examples/data/, output out/wordcount-0000N-of-0000M.
import { fileURLToPath } from "node:url";
import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline(); // options from the command line
const input = p.options.get("input") ?? fileURLToPath(new URL("data/corpus.txt", import.meta.url));
const output = p.options.output ?? "out/wordcount";
const shards = Number(p.options.get("shards") ?? 3);

/** Shipped to the workers by its source text: a function must be self-contained. */
function splitWords(line) {
  return line
    .toLowerCase()
    .split(/[^a-z']+/)
    .filter((word) => word !== "");
}

p.readText(String(input))
  .flatMap(splitWords, { name: "Words", coder: "string" })
  .map((word) => ({ key: word, value: 1 }), { name: "PairWithOne", coder: kv("string", "varint") })
  .combinePerKey("sum", { name: "Count" })
  .map((e) => `${e.key}: ${e.value}`, { name: "Format", coder: "string" })
  .writeText(output, { shards });

await p.run();
