// Beam Python's Map with a callable given as source text; the output coder is
// requested (output_coder_requests), else Python would pick its pickled coder.
import { Pipeline, pythonCallable, pythonTransform } from "firefly-beam/pipeline";

const p = new Pipeline();
const expansionService = String(p.options.get("expansion_service") ?? "localhost:8097");
p.create([1, 2, 3, 4, 5], { coder: "varint" })
  .apply(
    pythonTransform("apache_beam.Map", {
      args: [pythonCallable("lambda x, offset: x * x + offset")],
      kwargs: { offset: 1000 },
      outputCoder: "varint",
      expansionService,
    }),
  )
  .map((n) => `square+1000: ${n}`, { coder: "string" })
  .writeText(p.options.output ?? "out/xlang-map");

await p.run();
