// A DoFn that throws on one element: the job must fail with the user's message.
import { Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
p.create([1, 2, 3, 4], { coder: "varint" })
  .map(
    function parse(x) {
      if (x === 3) throw new Error(`bad record ${x}`);
      return x * 10;
    },
    { coder: "varint" },
  )
  .map((x) => String(x), { coder: "string" })
  .writeText(p.options.output ?? "out/interop-throwing");

await p.run();
