/**
 * Splittable DoFns through the builder and the local runner: the ParDo is
 * expanded into its SDF steps (pair, split and size, reshuffle, process),
 * every position is processed exactly once across restrictions and
 * checkpoints (resumed after their delay), inline and in pool threads; the
 * summary counts the resumed checkpoints; errors name the SDF method.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { pipelineApi } from "../../proto/index.js";
import { Pipeline } from "../../src/pipeline/index.js";
import type { PipelineResult } from "../../src/runner/index.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-sdf-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Emits the numbers of [from, to) in restrictions of `piece`, checkpointing every `every` claims. */
const RANGE = {
  initialRestriction(e: { from: number; to: number }) {
    return { start: BigInt(e.from), stop: BigInt(e.to) };
  },
  splitRestriction(
    e: unknown,
    r: { start: bigint; stop: bigint },
    ctx: { config: { piece: number } },
  ) {
    const parts = [];
    const piece = BigInt(ctx.config.piece);
    for (let s = r.start; s < r.stop; s += piece)
      parts.push({ start: s, stop: s + piece < r.stop ? s + piece : r.stop });
    return parts;
  },
  process(
    e: unknown,
    ctx: {
      tracker: { currentRestriction(): { start: bigint }; tryClaim(p: bigint): boolean };
      resumeAfter(ms: number): void;
      config: { every: number };
    },
  ) {
    const out: number[] = [];
    for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
      out.push(Number(i));
      if (out.length === ctx.config.every) {
        ctx.resumeAfter(1);
        break;
      }
    }
    return out;
  },
};

for (const threads of [0, 2]) {
  test(`a splittable DoFn emits every position once, with splits and checkpoints (threads=${threads})`, async () => {
    const out = path.join(root, `numbers-${threads}`);
    const p = new Pipeline({ runner: "local", threads });
    p.create([
      { from: 0, to: 1000 },
      { from: 5000, to: 5010 },
    ])
      .parDo(RANGE, { name: "Range", coder: "varint", config: { piece: 300, every: 70 } })
      .map((n) => String(n), { coder: "string" })
      .writeText(out);
    const result = (await p.run()) as PipelineResult;
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    const lines = fs.readFileSync(`${out}-00000-of-00001`, "utf8").split("\n").filter(Boolean);
    const expected = [
      ...Array.from({ length: 1000 }, (_, i) => String(i)),
      ...Array.from({ length: 10 }, (_, i) => String(5000 + i)),
    ];
    assert.deepEqual([...lines].sort(), [...expected].sort());
    // [0, 1000) in pieces of 300 → 4 restrictions of 300, 300, 300, 100; each checkpoints every 70.
    const checkpoints = result.stages.reduce((n, s) => n + (s.residualsResumed ?? 0), 0);
    assert.equal(checkpoints, 4 + 4 + 4 + 1, "checkpoints resumed (300 → 4 resumes each, 100 → 1)");
  });
}

test("the builder marks a splittable ParDo: restriction coder and the splittable requirement", () => {
  const p = new Pipeline({ runner: "local", threads: 0 });
  p.create([{ from: 0, to: 3 }]).parDo(RANGE, { coder: "varint", config: { piece: 1, every: 9 } });
  const proto = p.toProto();
  assert.ok(proto.requirements.includes("beam:requirement:pardo:splittable_dofn:v1"));
  const pardos = [...proto.components.transforms.values()].filter(
    (t) => t.spec?.urn === "beam:transform:pardo:v1",
  );
  const sdf = pardos
    .map((t) => pipelineApi.ParDoPayload.deserializeBinary(t.spec.payload))
    .filter((payload) => payload.restriction_coder_id !== "");
  assert.equal(sdf.length, 1);
  const coder = proto.components.coders.get(sdf[0]!.restriction_coder_id)!;
  assert.equal(coder.spec.urn, "beam:coder:kv:v1");
  const [restriction, state] = coder.component_coder_ids.map((id) =>
    proto.components.coders.get(id)!,
  );
  assert.equal(restriction!.spec.urn, "firefly:coder:offset_range:v1");
  assert.equal(state!.spec.urn, "beam:coder:nullable:v1");
});

test("an error in an SDF method names the method and the restriction", async () => {
  const p = new Pipeline({ runner: "local", threads: 0 });
  p.create([{ from: 0, to: 10 }]).parDo(
    {
      ...RANGE,
      restrictionSize(e: unknown, r: { start: bigint }) {
        if (r.start === 0n) throw new Error("cannot size this");
        return 1;
      },
    },
    { coder: "varint", config: { piece: 10, every: 100 } },
  );
  const result = (await p.run()) as PipelineResult;
  assert.equal(result.state, "FAILED");
  assert.match(
    result.error?.message ?? "",
    /failed in restrictionSize \(restriction \[0, 10\)\): Error: cannot size this/,
  );
});

test("generateSequence: every integer of [from, to) once, split over threads; bigints past 2^53", async () => {
  const out = path.join(root, "sequence");
  const p = new Pipeline({ runner: "local", threads: 2 });
  const small = p.generateSequence({ from: -500, to: 9_500, splitSize: 777 });
  const big = p.generateSequence({
    name: "Big",
    from: 2n ** 63n - 5n,
    to: 2n ** 63n - 1n,
  });
  p.flatten([
    small.map((n) => String(n), { coder: "string" }),
    big.map((n) => String(n), { name: "BigText", coder: "string" }),
  ]).writeText(out);
  const result = (await p.run()) as PipelineResult;
  assert.equal(result.state, "DONE", JSON.stringify(result.error));
  const lines = fs.readFileSync(`${out}-00000-of-00001`, "utf8").split("\n").filter(Boolean);
  const expected = [
    ...Array.from({ length: 10_000 }, (_, i) => String(i - 500)),
    ...[5n, 4n, 3n, 2n].map((d) => String(2n ** 63n - d)),
  ];
  assert.deepEqual([...lines].sort(), [...expected].sort());
  assert.throws(() => p.generateSequence({ from: 3, to: 1 }), /from \(3\) is after to \(1\)/);
  assert.throws(
    () => p.generateSequence({ from: 0.5, to: 1 }),
    /from must be a safe integer or a bigint/,
  );
});

/** One restriction claimed slowly (2 ms every 10 claims): work a runner can only spread by splitting it while it runs. */
const SLOW_RANGE = {
  initialRestriction(e: { from: number; to: number }) {
    return { start: BigInt(e.from), stop: BigInt(e.to) };
  },
  async process(
    e: unknown,
    ctx: {
      tracker: { currentRestriction(): { start: bigint }; tryClaim(p: bigint): boolean };
      output(v: unknown): void;
    },
  ) {
    let n = 0;
    for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
      ctx.output(Number(i));
      if (++n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
  },
};

for (const dynamicSplits of [true, false]) {
  test(`the local runner ${dynamicSplits ? "splits the running bundle for an idle slot" : "leaves bundles whole with --dynamic_splits=false"}; every position once`, async () => {
    const out = path.join(root, `dynamic-${dynamicSplits}`);
    const p = new Pipeline({ runner: "local", threads: 2, dynamic_splits: dynamicSplits });
    p.create([{ from: 0, to: 4000 }])
      .parDo(SLOW_RANGE, { name: "Slow", coder: "varint" })
      .map((n) => String(n), { coder: "string" })
      .writeText(out);
    const result = (await p.run()) as PipelineResult;
    assert.equal(result.state, "DONE", JSON.stringify(result.error));
    const lines = fs.readFileSync(`${out}-00000-of-00001`, "utf8").split("\n").filter(Boolean);
    assert.deepEqual(
      lines.map(Number).sort((a, b) => a - b),
      Array.from({ length: 4000 }, (_, i) => i),
    );
    const stage = result.stages.find((s) => s.transforms.includes("Slow"));
    assert.ok(stage, JSON.stringify(result.stages.map((s) => s.transforms)));
    if (dynamicSplits) {
      assert.ok((stage.dynamicSplits ?? 0) > 0, `splits: ${JSON.stringify(stage)}`);
      // One element, so one bundle at first; each split ran what it handed back as another.
      assert.equal(stage.bundles, 1 + (stage.dynamicSplits ?? 0), "each split ran as a bundle");
    } else {
      assert.equal(stage.dynamicSplits ?? 0, 0);
    }
  });
}
