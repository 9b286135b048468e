// Word count with Python steps: Firefly splits lines into words, Beam Python's
// Count.PerElement counts them and a Python Map (a lambda, shipped as source)
// formats each count; Firefly writes the lines. Needs Beam Python's expansion
// service (--expansion_service) and a portable runner that runs both SDKs
// (README "Cross-language transforms"); the local runner refuses the Python steps.
import { Pipeline, pythonCallable, pythonTransform } from "firefly-beam/pipeline";

const p = new Pipeline();
const expansionService = String(p.options.get("expansion_service") ?? "localhost:8097");

p.create(["the quick brown fox", "jumps over", "the lazy dog"])
  .flatMap((line) => line.split(" "), { coder: "string" })
  .apply(pythonTransform("apache_beam.transforms.combiners.Count.PerElement", { expansionService }))
  .apply(
    pythonTransform("apache_beam.Map", {
      args: [pythonCallable("lambda kv: '%s: %d' % kv")],
      outputCoder: "string", // asked for (output_coder_requests): Python would pickle otherwise
      expansionService,
    }),
  )
  .writeText(p.options.output ?? "out/xlang-wordcount");

await p.run();
