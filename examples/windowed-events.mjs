// Windowed events: timestamped purchase events (JSON lines) → one-minute fixed
// windows → per window and user, the number of purchases and their total.
//   npx firefly run examples/windowed-events.mjs [--input=FILE] [--output=PREFIX]
// Output lines: `<window start>/<window end> <user> purchases=<n> total=<cents as 0.00>`.
import { fileURLToPath } from "node:url";
import { fixedWindows, kv, Pipeline } from "firefly-beam/pipeline";

const p = new Pipeline();
const input =
  p.options.get("input") ?? fileURLToPath(new URL("data/events.jsonl", import.meta.url));
const output = p.options.output ?? "out/windowed-events";

p.readText(String(input))
  .map((line) => JSON.parse(line), { name: "Parse" })
  .withTimestamps((event) => Date.parse(event.time)) // event time, in millis
  .windowInto(fixedWindows(60_000)) // one-minute windows
  .map((event) => ({ key: event.user, value: event.cents }), {
    name: "UserAndCents",
    coder: kv("string", "varint"),
  })
  .combinePerKey(
    {
      // A user CombineFn: [count, sum], merged across bundles.
      createAccumulator: () => [0, 0],
      addInput: ([count, sum], cents) => [count + 1, sum + cents],
      mergeAccumulators: (accumulators) =>
        accumulators.reduce(([c1, s1], [c2, s2]) => [c1 + c2, s1 + s2], [0, 0]),
      extractOutput: ([count, sum]) => ({ count, sum }),
    },
    { name: "CountAndSum" },
  )
  .map(
    (e, ctx) => {
      const iso = (millis) => new Date(Number(millis)).toISOString();
      const window = `${iso(ctx.window.start)}/${iso(ctx.window.end)}`;
      return `${window} ${e.key} purchases=${e.value.count} total=${(e.value.sum / 100).toFixed(2)}`;
    },
    { name: "Format", coder: "string" },
  )
  .writeText(output);

await p.run();
