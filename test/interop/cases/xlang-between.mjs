// A Python transform between two Firefly ParDos: Firefly lower-cases words,
// Beam Python's Count.PerElement counts them (expanded by the expansion service
// at --expansion_service), Firefly formats the counts.
import { Pipeline, pythonTransform } from "firefly-beam/pipeline";

const p = new Pipeline();
const expansionService = String(p.options.get("expansion_service") ?? "localhost:8097");
p.create(["The", "quick", "fox", "the", "lazy", "dog", "THE", "fox"])
  .map((word) => word.toLowerCase(), { coder: "string" })
  .apply(pythonTransform("apache_beam.transforms.combiners.Count.PerElement", { expansionService }))
  .map((kv) => `${kv.key}: ${kv.value}`, { coder: "string" })
  .writeText(p.options.output ?? "out/xlang-between");

await p.run();
