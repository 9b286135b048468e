// A splittable DoFn (offset-range restrictions): the runner pairs each
// element with its restriction, splits and sizes it, and resumes the
// checkpoints the DoFn hands back; every number must come out exactly once.
import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
p.create([
  { from: 0, to: 2000 },
  { from: 10000, to: 10500 },
])
  .parDo(
    {
      initialRestriction(e) {
        return { start: BigInt(e.from), stop: BigInt(e.to) };
      },
      splitRestriction(e, r) {
        const parts = [];
        for (let s = r.start; s < r.stop; s += 250n)
          parts.push({ start: s, stop: s + 250n < r.stop ? s + 250n : r.stop });
        return parts;
      },
      process(e, ctx) {
        const out = [];
        for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
          out.push(Number(i));
          if (out.length === 100) {
            ctx.resumeAfter(0);
            break;
          }
        }
        return out;
      },
    },
    { name: "Range", coder: "varint" },
  )
  .map((n) => ({ key: `b${n % 13}`, value: n }), { name: "Key", coder: kv("string", "varint") })
  .groupByKey({ name: "Group" })
  .map(
    (g) =>
      `${g.key} count=${g.value.length} sum=${g.value.reduce((a, b) => a + b, 0)} distinct=${new Set(g.value).size}`,
    { name: "Format", coder: "string" },
  )
  .writeText(p.options.output ?? "out/interop-splittable");

await p.run();
