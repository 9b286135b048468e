// A splittable DoFn the runner splits while it runs: one restriction of 6,000
// offsets, claimed slowly (2 ms every 5 claims), with the manual watermark
// estimator; the interop suite asks FnApiRunner to send ProcessBundleSplit
// requests to its bundle (direct_test_splits). Every number must come out
// exactly once, whichever bundle (primary or resumed residual) emits it.
import { kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
p.create([{ from: 0, to: 6000 }])
  .parDo(
    {
      watermarkEstimator: "manual",
      initialRestriction(e) {
        return { start: BigInt(e.from), stop: BigInt(e.to) };
      },
      async process(e, ctx) {
        let n = 0;
        for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
          ctx.output(Number(i));
          ctx.watermark.set(Number(i));
          if (++n % 5 === 0) await new Promise((resolve) => globalThis.setTimeout(resolve, 2));
        }
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
  .writeText(p.options.output ?? "out/interop-splittable-splits");

await p.run();
