/**
 * Every builder method end to end through the local runner (`--runner=local`,
 * in-process worker), with exact results read back from files.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import {
  fixedWindows,
  kv,
  Pipeline,
  sessions,
  slidingWindows,
  top,
  type PCollection,
  type PipelineResult,
} from "../../src/pipeline/index.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-e2e-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let runs = 0;

/** A pipeline whose PCollections can be collected; `run()` returns each collected one sorted. */
function harness(threads = 0) {
  const dir = path.join(root, `run${++runs}`);
  const p = new Pipeline({ runner: "local", threads });
  const collected = new Map<string, string>();
  return {
    p,
    /** Collects a PCollection as sorted JSON strings (bigints as "<n>n"). */
    collect(pc: PCollection<any>, name: string) {
      const prefix = path.join(dir, name);
      collected.set(name, prefix);
      pc.map((x) => JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)), {
        name: `Json_${name}`,
        coder: "string",
      }).writeText(prefix, { name: `Write_${name}` });
    },
    async run(): Promise<{ result: PipelineResult; out: Record<string, unknown[]> }> {
      const result = await p.run();
      const out: Record<string, unknown[]> = {};
      if (result.state === "DONE") {
        for (const [name, prefix] of collected) {
          const text = fs.readFileSync(`${prefix}-00000-of-00001`, "utf8");
          out[name] = text
            .split("\n")
            .filter((l) => l !== "")
            .sort()
            .map((l) => JSON.parse(l) as unknown);
        }
      }
      return { result, out };
    },
  };
}

test("create, map, flatMap, filter, config, parDo with tagged outputs, flatten", async () => {
  const h = harness();
  const nums = h.p.create([1, 2, 3, 4]);
  h.collect(
    nums.map((x, ctx) => x * ctx.config.factor, { config: { factor: 10 } }),
    "map",
  );
  h.collect(
    nums.flatMap((x) => Array.from({ length: x }, (_, i) => `${x}.${i}`), { coder: "string" }),
    "flatMap",
  );
  h.collect(
    nums.filter((x) => x % 2 === 0),
    "filter",
  );
  const split = nums.parDo(
    {
      process(x: number, ctx: any) {
        if (x > 2) ctx.output(`big ${x}`, "big");
        else ctx.output(x);
      },
    },
    { outputs: { main: { coder: "varint" }, big: { coder: "string" } } },
  );
  h.collect(split.main, "small");
  h.collect(split.big, "big");
  const other = h.p.create([10, 20], { name: "Other" });
  h.collect(h.p.flatten([split.main, other]), "flatten");
  h.collect(h.p.create([2n ** 60n, -1n], { name: "Big" }), "bigints");
  const { result, out } = await h.run();
  assert.equal(result.state, "DONE", JSON.stringify(result.error));
  assert.deepEqual(out.map, [10, 20, 30, 40]);
  assert.deepEqual(out.flatMap, [
    "1.0",
    "2.0",
    "2.1",
    "3.0",
    "3.1",
    "3.2",
    "4.0",
    "4.1",
    "4.2",
    "4.3",
  ]);
  assert.deepEqual(out.filter, [2, 4]);
  assert.deepEqual(out.small, [1, 2]);
  assert.deepEqual(out.big, ["big 3", "big 4"]);
  assert.deepEqual(out.flatten, [1, 10, 2, 20]);
  assert.deepEqual(out.bigints, ["-1n", "1152921504606846976n"]);
});

test("groupByKey, combinePerKey (built-ins and a user CombineFn), combineGlobally", async () => {
  const h = harness();
  const pairs = h.p.create([
    { key: "a", value: 3 },
    { key: "b", value: 5 },
    { key: "a", value: 1 },
    { key: "a", value: 2 },
  ]);
  h.collect(
    pairs.groupByKey().map((g) => ({ key: g.key, value: [...g.value].sort() })),
    "gbk",
  );
  h.collect(pairs.combinePerKey("sum", { name: "Sum" }), "sum");
  h.collect(pairs.combinePerKey("count", { name: "Count" }), "count");
  h.collect(pairs.combinePerKey("min", { name: "Min" }), "min");
  h.collect(pairs.combinePerKey("max", { name: "Max" }), "max");
  h.collect(pairs.combinePerKey("mean", { name: "Mean" }), "mean");
  h.collect(pairs.combinePerKey(top(2), { name: "Top" }), "top");
  h.collect(
    pairs.combinePerKey(
      {
        createAccumulator: () => "",
        addInput: (acc: string, x: number) => acc + x,
        mergeAccumulators: (accs: string[]) => accs.join(""),
        extractOutput: (acc: string) => acc.split("").sort().join(""),
      },
      { name: "Concat", coder: "string", accumulatorCoder: "string" },
    ),
    "concat",
  );
  h.collect(h.p.create([1, 2, 3, 4], { name: "Nums" }).combineGlobally("sum"), "global");
  const { result, out } = await h.run();
  assert.equal(result.state, "DONE", JSON.stringify(result.error));
  assert.deepEqual(out.gbk, [
    { key: "a", value: [1, 2, 3] },
    { key: "b", value: [5] },
  ]);
  assert.deepEqual(out.sum, [
    { key: "a", value: 6 },
    { key: "b", value: 5 },
  ]);
  assert.deepEqual(out.count, [
    { key: "a", value: 3 },
    { key: "b", value: 1 },
  ]);
  assert.deepEqual(out.min, [
    { key: "a", value: 1 },
    { key: "b", value: 5 },
  ]);
  assert.deepEqual(out.max, [
    { key: "a", value: 3 },
    { key: "b", value: 5 },
  ]);
  assert.deepEqual(out.mean, [
    { key: "a", value: 2 },
    { key: "b", value: 5 },
  ]);
  assert.deepEqual(out.top, [
    { key: "a", value: [3, 2] },
    { key: "b", value: [5] },
  ]);
  assert.deepEqual(out.concat, [
    { key: "a", value: "123" },
    { key: "b", value: "5" },
  ]);
  assert.deepEqual(out.global, [10]);
});

test("withTimestamps, windowInto (fixed, sliding, sessions), reshuffle keeps timestamps", async () => {
  const h = harness();
  const events = h.p
    .create([
      { user: "u", t: 1_000 },
      { user: "u", t: 2_000 },
      { user: "u", t: 61_000 },
      { user: "v", t: 30_000 },
    ])
    .withTimestamps((e) => e.t);
  const keyed = (pc: PCollection<{ user: string; t: number }>, name: string) =>
    pc.map((e) => ({ key: e.user, value: 1 }), { name, coder: kv("string", "varint") });
  const windowLabel = (kvs: PCollection<any>, name: string) =>
    kvs.parDo(
      (e: { key: string; value: number }, ctx: any) => [
        `${e.key} ${ctx.window.start}-${ctx.window.end} ${e.value}`,
      ],
      { name, coder: "string" },
    );
  const fixed = keyed(
    events.windowInto(fixedWindows(60_000), { name: "Fixed" }),
    "KeyFixed",
  ).combinePerKey("sum", { name: "SumFixed" });
  h.collect(windowLabel(fixed, "LabelFixed"), "fixed");
  const sliding = keyed(
    events.windowInto(slidingWindows(60_000, 30_000), { name: "Sliding" }),
    "KeySliding",
  ).combinePerKey("count", { name: "CountSliding" });
  h.collect(windowLabel(sliding, "LabelSliding"), "sliding");
  const sessionCounts = keyed(
    events.windowInto(sessions(5_000), { name: "Sessions" }),
    "KeySessions",
  ).combinePerKey("sum", { name: "SumSessions" });
  h.collect(windowLabel(sessionCounts, "LabelSessions"), "sessions");
  h.collect(
    events.reshuffle().map((e, ctx) => `${e.t} ${ctx.timestamp}`, { coder: "string" }),
    "reshuffled",
  );
  const { result, out } = await h.run();
  assert.equal(result.state, "DONE", JSON.stringify(result.error));
  assert.deepEqual(out.fixed, ["u 0-60000 2", "u 60000-120000 1", "v 0-60000 1"]);
  assert.deepEqual(out.sliding, [
    "u -30000-30000 2",
    "u 0-60000 2",
    "u 30000-90000 1",
    "u 60000-120000 1",
    "v 0-60000 1",
    "v 30000-90000 1",
  ]);
  assert.deepEqual(out.sessions, ["u 1000-7000 2", "u 61000-66000 1", "v 30000-35000 1"]);
  assert.deepEqual(out.reshuffled, ["1000 1000", "2000 2000", "30000 30000", "61000 61000"]);
});

test("side inputs (iterable, multimap) and a stateful DoFn with an event-time timer", async () => {
  const h = harness();
  const orders = h.p.create([
    { key: "alice", value: 10 },
    { key: "bob", value: 5 },
    { key: "alice", value: 7 },
  ]);
  const names = h.p.create(
    [
      { key: "alice", value: "Alice A." },
      { key: "bob", value: "Bob B." },
    ],
    { name: "Names" },
  );
  const bonus = h.p.create([100], { name: "Bonus" });
  h.collect(
    orders.parDo(
      {
        async process(order: { key: string; value: number }, ctx: any) {
          const [full] = await (await ctx.sideInput("names")).get(order.key);
          const [extra] = await ctx.sideInput("bonus");
          return [`${full} ${order.value + extra}`];
        },
      },
      {
        name: "Join",
        coder: "string",
        sideInputs: { names: names.asMultimap(), bonus: bonus.asIterable() },
      },
    ),
    "joined",
  );
  h.collect(
    orders.parDo(
      {
        async process(order: { key: string; value: number }, ctx: any) {
          ctx.state("total").add(order.value);
          ctx.timer("flush").set(ctx.window.maxTimestamp);
        },
        onTimer: {
          async flush(timer: { key: string }, ctx: any) {
            const values = (await ctx.state("total").read()) as number[];
            ctx.output(`${timer.key} ${values.reduce((a, b) => a + b, 0)}`);
          },
        },
      },
      {
        name: "Totals",
        coder: "string",
        state: { total: { kind: "bag", coder: "varint" } },
        timers: { flush: "event" },
      },
    ),
    "totals",
  );
  const { result, out } = await h.run();
  assert.equal(result.state, "DONE", JSON.stringify(result.error));
  assert.deepEqual(out.joined, ["Alice A. 107", "Alice A. 110", "Bob B. 105"]);
  assert.deepEqual(out.totals, ["alice 17", "bob 5"]);
});

test("readText and writeText with shards, on two worker threads", async () => {
  const dir = path.join(root, "text");
  fs.mkdirSync(path.join(dir, "in"), { recursive: true });
  fs.writeFileSync(path.join(dir, "in", "1.txt"), "a b\nb c\n");
  fs.writeFileSync(path.join(dir, "in", "2.txt"), "c c\n");
  const p = new Pipeline({ threads: 2 });
  p.readText(path.join(dir, "in", "*.txt"))
    .flatMap((line) => line.split(" "), { coder: "string" })
    .map((w) => ({ key: w, value: 1 }), { coder: kv("string", "varint") })
    .combinePerKey("sum")
    .map((e) => `${e.key}=${e.value}`, { coder: "string" })
    .writeText(path.join(dir, "out", "counts"), { shards: 3, suffix: ".txt" });
  const result = await p.run();
  assert.equal(result.state, "DONE", JSON.stringify(result.error));
  const files = fs.readdirSync(path.join(dir, "out")).sort();
  assert.deepEqual(files, [
    "counts-00000-of-00003.txt",
    "counts-00001-of-00003.txt",
    "counts-00002-of-00003.txt",
  ]);
  const lines = files.flatMap((f) =>
    fs
      .readFileSync(path.join(dir, "out", f), "utf8")
      .split("\n")
      .filter((l) => l),
  );
  assert.deepEqual(lines.sort(), ["a=1", "b=2", "c=3"]);
});

test("a failing user function fails the run with the transform and the user's message", async () => {
  const p = new Pipeline({ threads: 0 });
  p.create([1, 2]).map(
    (x) => {
      if (x === 2) throw new Error("two is not allowed");
      return x;
    },
    { name: "Picky" },
  );
  const result = await p.run();
  assert.equal(result.state, "FAILED");
  assert.match(JSON.stringify(result.error), /Picky/);
  assert.match(JSON.stringify(result.error), /two is not allowed/);
});
