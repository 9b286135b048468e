// Beam Python's Count.PerElement on Firefly's strings, its KV output written by
// Firefly's writeText (as JSON lines).
import { Pipeline, pythonTransform } from "firefly-beam/pipeline";

const p = new Pipeline();
const expansionService = String(p.options.get("expansion_service") ?? "localhost:8097");
p.create(["a", "b", "a", "c", "a", "b"])
  .apply(pythonTransform("apache_beam.transforms.combiners.Count.PerElement", { expansionService }))
  .writeText(p.options.output ?? "out/xlang-count");

await p.run();
