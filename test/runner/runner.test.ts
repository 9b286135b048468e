import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runPipeline } from "../../src/runner/index.js";
import {
  INTERVAL,
  iterable,
  kv,
  readJsonLines,
  sortedStrings,
  STR,
  tempFile,
  TestPipeline,
  VARINT,
} from "./support/test-pipeline.js";

type KV<V> = { key: string; value: V };

function byKey<V>(rows: KV<V>[]): Record<string, V> {
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

describe("local runner: runner primitives", () => {
  it("GroupByKey spills sorted runs past a tiny memory budget and still groups exactly", async () => {
    const file = tempFile("spill.jsonl");
    const p = new TestPipeline();
    const n = 20_000;
    const seeds = p.create(
      "Seeds",
      Array.from({ length: 20 }, (_, i) => i),
      VARINT,
    );
    const pairs = p.pardo(
      "Explode",
      seeds,
      {
        source: `export default function* (s, ctx) { for (let i = s; i < ctx.config.n; i += 20) yield { key: "k" + (i % 97), value: i }; }`,
        config: { n },
      },
      kv(STR, VARINT),
    );
    const grouped = p.groupByKey("Group", pairs);
    const summed = p.pardo(
      "Sum",
      grouped,
      {
        source:
          "export default (kv) => [{ key: kv.key, value: [kv.value.length, kv.value.reduce((a, b) => a + b, 0)] }]",
      },
      kv(STR, iterable(VARINT)),
    );
    p.writeJsonLines("Write", summed, file);
    const result = await runPipeline(p.build(), { threads: 0, memoryBudgetBytes: 64 * 1024 });
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    const group = result.stages.find((s) => s.name === "Group");
    assert.match(group?.note ?? "", /spilled \d+ sorted runs/);
    const expected: Record<string, [number, number]> = {};
    for (let i = 0; i < n; i++) {
      const e = (expected[`k${i % 97}`] ??= [0, 0]);
      e[0]++;
      e[1] += i;
    }
    assert.deepEqual(byKey(readJsonLines<KV<[number, number]>>(file)), expected);
    assert.equal(group?.inputElements, n);
    assert.equal(group?.outputElements, 97);
  });

  it("flattens PCollections made in different stages, also into a GroupByKey", async () => {
    const file = tempFile("flatten.jsonl");
    const grouped = tempFile("flatten-grouped.jsonl");
    const p = new TestPipeline();
    const a = p.create("A", ["x", "y"], STR);
    const b = p.create("B", ["y", "z", "z"], STR);
    const both = p.flatten("Both", [a, b]);
    const upper = p.pardo(
      "Upper",
      both,
      { source: "export default (s) => [s.toUpperCase()]" },
      STR,
    );
    p.writeJsonLines("Write", upper, file);
    const pairs = p.pardo(
      "Pair",
      both,
      { source: "export default (s) => [{ key: s, value: 1 }]" },
      kv(STR, VARINT),
    );
    const g = p.groupByKey("Group", pairs);
    p.writeJsonLines("WriteGrouped", g, grouped);
    const result = await runPipeline(p.build(), { threads: 0 });
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    assert.deepEqual(readJsonLines<string>(file).sort(), ["X", "Y", "Y", "Z", "Z"]);
    assert.deepEqual(byKey(readJsonLines<KV<number[]>>(grouped)), { x: [1], y: [1, 1], z: [1, 1] });
  });

  it("merges session windows in GroupByKey", async () => {
    const file = tempFile("sessions.jsonl");
    const p = new TestPipeline();
    const events = p.create(
      "Events",
      [
        ["u", 1000],
        ["u", 2000],
        ["u", 9000],
        ["v", 1500],
      ],
      { urn: "firefly:coder:json:v1" },
    );
    const stamped = p.pardo(
      "Stamp",
      events,
      {
        source:
          "export default (e, ctx) => { ctx.outputWithTimestamp({ key: e[0], value: e[1] }, e[1]); }",
      },
      kv(STR, VARINT),
    );
    const windowed = p.sessions("Sessions", stamped, 3000);
    const grouped = p.groupByKey("Group", windowed);
    const described = p.pardo(
      "Describe",
      grouped,
      {
        source:
          "export default (kv, ctx) => [kv.key + ':' + ctx.window.start + '-' + ctx.window.end + ':' + [...kv.value].sort().join(',')]",
      },
      STR,
    );
    p.writeJsonLines("Write", described, file);
    const result = await runPipeline(p.build(), { threads: 0 });
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    assert.deepEqual(readJsonLines<string>(file).sort(), [
      "u:1000-5000:1000,2000",
      "u:9000-12000:9000",
      "v:1500-4500:1500",
    ]);
    void INTERVAL;
  });
});

describe("local runner: side inputs, state and timers", () => {
  it("serves iterable and multimap side inputs through the State API", async () => {
    const file = tempFile("side.jsonl");
    const p = new TestPipeline();
    const main = p.create("Main", [1, 2, 3], VARINT);
    const side = p.create("Side", [10, 20], VARINT);
    const table = p.create(
      "Table",
      [
        { key: "a", value: 1 },
        { key: "a", value: 2 },
        { key: "b", value: 5 },
      ],
      kv(STR, VARINT),
    );
    const joined = p.pardo(
      "Join",
      main,
      {
        source: `export default async (x, ctx) => {
  const s = await ctx.sideInput("s");
  const m = await ctx.sideInput("m");
  const a = await m.get("a");
  const none = await m.get("nope");
  const keys = (await m.keys()).sort().join("");
  return [x + s.reduce((p, q) => p + q, 0) + a.reduce((p, q) => p + q, 0) + none.length + ":" + keys];
}`,
      },
      STR,
      {
        sideInputs: {
          s: { pcollection: side, kind: "iterable" },
          m: { pcollection: table, kind: "multimap" },
        },
      },
    );
    p.writeJsonLines("Write", joined, file);
    const result = await runPipeline(p.build(), { threads: 0 });
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    assert.deepEqual(readJsonLines<string>(file).sort(), ["34:ab", "35:ab", "36:ab"]);
  });

  it("keeps user state across bundles and fires event-time timers until none are set", async () => {
    const file = tempFile("state.jsonl");
    const p = new TestPipeline();
    const values = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 4}`, value: i }));
    const input = p.reshuffle("Reshuffle", p.create("Create", values, kv(STR, VARINT)));
    const totals = p.pardo(
      "Accumulate",
      input,
      {
        source: `export default {
  async process(kv, ctx) {
    ctx.state("seen").add(kv.value);
    ctx.timer("flush").set(1000);
  },
  onTimer: {
    async flush(timer, ctx) {
      const rounds = ctx.state("rounds");
      rounds.add(1);
      const n = (await rounds.read()).length;
      if (n < 3) { ctx.timer("flush").set(2000 + n); return; }
      const seen = await ctx.state("seen").read();
      ctx.output({ key: timer.key, value: [seen.length, seen.reduce((a, b) => a + b, 0), n] });
    },
  },
};`,
      },
      kv(STR, iterable(VARINT)),
      { bagStates: { seen: VARINT, rounds: VARINT }, timers: ["flush"] },
    );
    p.writeJsonLines("Write", totals, file);
    const result = await runPipeline(p.build(), { threads: 0, maxBundleBytes: 64 });
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    const expected: Record<string, [number, number, number]> = {};
    for (const { key, value } of values) {
      const e = (expected[key] ??= [0, 0, 3]);
      e[0]++;
      e[1] += value;
    }
    assert.deepEqual(byKey(readJsonLines<KV<[number, number, number]>>(file)), expected);
    const stage = result.stages.find((s) => s.transforms.includes("Accumulate"));
    assert.ok(
      (stage?.bundles ?? 0) > 3,
      `several bundles (state must persist across them), got ${stage?.bundles}`,
    );
    assert.equal(stage?.timersFired, 12, "4 keys × 3 rounds");
  });
});

describe("local runner: failures", () => {
  it("a failing DoFn fails the pipeline with the transform's name and the user's stack", async () => {
    const p = new TestPipeline();
    const input = p.create("Create", [1, 2, 3], VARINT);
    const out = p.pardo(
      "Explode",
      input,
      {
        source:
          "export default function explode(x) { if (x === 2) throw new Error('boom at two'); return [x]; }",
      },
      VARINT,
    );
    p.writeJsonLines("Write", out, tempFile("never.jsonl"));
    const result = await runPipeline(p.build(), { threads: 0 });
    assert.equal(result.state, "FAILED");
    assert.equal(result.error?.transform, "Explode");
    assert.match(result.error?.message ?? "", /Explode/);
    assert.match(result.error?.details ?? "", /boom at two/);
    assert.match(result.error?.details ?? "", /explode/, "the user's stack names the function");
  });

  it("a pipeline the runner cannot run is FAILED with a clear message", async () => {
    const p = new TestPipeline();
    const a = p.create("A", [1], VARINT);
    p.transform(
      "Mystery",
      "beam:transform:mystery:v1",
      new Uint8Array(),
      { a, b: p.create("B", [2], VARINT) },
      {},
    );
    const result = await runPipeline(p.build(), { threads: 0 });
    assert.equal(result.state, "FAILED");
    assert.match(result.error?.message ?? "", /Mystery.*2 main inputs/);
  });
});

describe("local runner: combiner lifting", () => {
  for (const lift of [true, false]) {
    it(`combinePerKey gives exact sums with lifting ${lift ? "on" : "off"}`, async () => {
      const file = tempFile("combine.jsonl");
      const p = new TestPipeline();
      const values = Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 3}`, value: i }));
      const input = p.create("Create", values, kv(STR, VARINT));
      const summed = p.combinePerKey("Sum", input, { builtin: "sum" }, VARINT, VARINT);
      p.writeJsonLines("Write", summed, file);
      const result = await runPipeline(p.build(), { threads: 0, liftCombiners: lift });
      assert.equal(result.state, "DONE", JSON.stringify(result.error));
      const expected: Record<string, number> = {};
      for (const { key, value } of values) expected[key] = (expected[key] ?? 0) + value;
      assert.deepEqual(byKey(readJsonLines<KV<number>>(file)), expected);
      const names = result.stages.flatMap((s) => s.transforms);
      if (lift) assert.ok(names.includes("Sum/Precombine"), names.join(", "));
      else assert.ok(names.includes("Sum/Combine"), names.join(", "));
    });
  }
});

describe("local runner: workers", () => {
  for (const mode of [
    { label: "in-process worker with 2 threads", options: { threads: 2 } },
    { label: "--workers=2 child processes", options: { workers: 2, threads: 0 } },
  ]) {
    it(`runs a GroupByKey pipeline exactly on a ${mode.label}`, async () => {
      const file = tempFile("workers.jsonl");
      const p = new TestPipeline();
      const seeds = p.reshuffle(
        "Spread",
        p.create(
          "Seeds",
          Array.from({ length: 8 }, (_, i) => i),
          VARINT,
        ),
      );
      const pairs = p.pardo(
        "Explode",
        seeds,
        {
          source:
            "export default function* (s) { for (let i = 0; i < 500; i++) yield { key: 'k' + ((s * 500 + i) % 7), value: 1 }; }",
        },
        kv(STR, VARINT),
      );
      const grouped = p.groupByKey("Group", pairs);
      const counted = p.pardo(
        "Count",
        grouped,
        { source: "export default (kv) => [{ key: kv.key, value: kv.value.length }]" },
        kv(STR, VARINT),
      );
      p.writeJsonLines("Write", counted, file);
      const result = await runPipeline(p.build(), { ...mode.options, maxBundleBytes: 1 });
      assert.equal(result.state, "DONE", JSON.stringify(result.error));
      const expected: Record<string, number> = {};
      for (let i = 0; i < 4000; i++) expected[`k${i % 7}`] = (expected[`k${i % 7}`] ?? 0) + 1;
      assert.deepEqual(byKey(readJsonLines<KV<number>>(file)), expected);
      const explode = result.stages.find((s) => s.transforms.includes("Explode"));
      assert.ok(
        (explode?.bundles ?? 0) >= 2,
        `the reshuffled input is cut into bundles, got ${explode?.bundles}`,
      );
    });
  }
});

void sortedStrings;
