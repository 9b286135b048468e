import { fixedWindows, kv, Pipeline, sessions } from "firefly-beam/pipeline";

const p = new Pipeline();
const clicks = p
  .create([
    { user: "ana", at: "2024-05-01T10:00:05Z" },
    { user: "ana", at: "2024-05-01T10:00:40Z" },
    { user: "ben", at: "2024-05-01T10:00:50Z" },
    { user: "ana", at: "2024-05-01T10:03:00Z" },
  ])
  .withTimestamps((click) => Date.parse(click.at)) // event time in millis
  .map((click) => ({ key: click.user, value: 1 }), { coder: kv("string", "varint") });

const label = (e, ctx) => {
  const time = (millis) => new Date(Number(millis)).toISOString().slice(11, 19);
  return `${ctx.config.kind} ${time(ctx.window.start)}-${time(ctx.window.end)} ${e.key} ${e.value}`;
};
const perMinute = clicks
  .windowInto(fixedWindows(60_000), { name: "Minutes" })
  .combinePerKey("sum", { name: "PerMinute" })
  .map(label, { name: "LabelMinutes", config: { kind: "minute" }, coder: "string" });
const perSession = clicks
  .windowInto(sessions(60_000), { name: "Sessions" }) // a session ends after a minute without clicks
  .combinePerKey("sum", { name: "PerSession" })
  .map(label, { name: "LabelSessions", config: { kind: "session" }, coder: "string" });

const output = p.options.output ?? "out/windows";
perMinute.writeText(`${output}-minutes`); // (flatten needs the same windowing)
perSession.writeText(`${output}-sessions`);

await p.run();
