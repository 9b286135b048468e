import { Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();

p.create([
  { key: "ana", value: "tea" },
  { key: "ben", value: "pen" },
  { key: "ana", value: "map" },
])
  .parDo(
    {
      // State and timers are per key and window: the input must be {key, value}.
      process(order, ctx) {
        ctx.state("seen").add(order.value);
        ctx.timer("done").set(ctx.window.maxTimestamp); // event time: fires at the window's end
      },
      onTimer: {
        async done(timer, ctx) {
          const items = await ctx.state("seen").read();
          ctx.output(`${timer.key}: ${items.sort().join(", ")}`);
        },
      },
    },
    {
      coder: "string",
      state: { seen: { kind: "bag", coder: "string" } }, // also value, combining, set, map
      timers: { done: "event" },
    },
  )
  .writeText(p.options.output ?? "out/state-timers");

await p.run();
