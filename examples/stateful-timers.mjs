// Stateful DoFn with a timer: per user and two-minute window, buffer the
// purchased items in bag state, keep a running total in combining state, and
// flush both when an event-time timer fires at the end of the window.
//   npx firefly run examples/stateful-timers.mjs [--input=FILE] [--output=PREFIX]
// Output lines: `<window start>/<window end> <user> items=<n> total=<0.00>: <items in time order>`.
import { fileURLToPath } from "node:url";
import { fixedWindows, kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const input =
  p.options.get("input") ?? fileURLToPath(new URL("data/events.jsonl", import.meta.url));
const output = p.options.output ?? "out/stateful-timers";

p.readText(String(input))
  .map((line) => JSON.parse(line), { name: "Parse" })
  .withTimestamps((event) => Date.parse(event.time))
  .windowInto(fixedWindows(120_000))
  // State and timers are per key (and window): key each event by its user.
  .map((e) => ({ key: e.user, value: e }), { name: "KeyByUser", coder: kv("string", "json") })
  .parDo(
    {
      process(event, ctx) {
        ctx.state("items").add({ time: event.value.time, item: event.value.item });
        ctx.state("total").add(event.value.cents);
        // Event time: fires once the input is past the window (in batch, at its end).
        ctx.timer("flush").set(ctx.window.maxTimestamp);
      },
      onTimer: {
        async flush(timer, ctx) {
          const items = await ctx.state("items").read();
          const total = await ctx.state("total").read();
          ctx.state("items").clear();
          ctx.state("total").clear();
          const iso = (millis) => new Date(Number(millis)).toISOString();
          const names = items
            .sort((a, b) => a.time.localeCompare(b.time))
            .map((i) => i.item)
            .join(", ");
          ctx.output(
            `${iso(ctx.window.start)}/${iso(ctx.window.end)} ${timer.key} items=${items.length} total=${(total / 100).toFixed(2)}: ${names}`,
          );
        },
      },
    },
    {
      name: "BufferAndFlush",
      coder: "string",
      state: {
        items: { kind: "bag", coder: "json" },
        total: { kind: "combining", combineFn: "sum", coder: "varint" },
      },
      timers: { flush: "event" },
    },
  )
  .writeText(output);

await p.run();
