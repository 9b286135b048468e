/**
 * Batch DoFns end to end on the local runner, inline and on 2 threads:
 * `mapBatches` after a runner-side boundary (its stage's data source decodes
 * into columns), consecutive batch steps, a per-element step on each side,
 * and a combinePerKey over the batch outputs (precombined on columns), with
 * exact results.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { ColumnarPrecombineOperation } from "../../operations/batch/columnar-precombine.js";
import { CombineFnHost } from "../../operations/combine/combine-fn-host.js";
import { pipelineApi } from "../../proto/index.js";
import { kv, Pipeline, row } from "../../src/pipeline/index.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "firefly-batches-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function readLines(prefix: string): string[] {
  return fs
    .readFileSync(`${prefix}-00000-of-00001`, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .sort();
}

const N = 3000;

for (const threads of [0, 2]) {
  describe(`batch DoFns on the local runner (threads: ${threads})`, () => {
    it("schema rows: a column per field (nulls kept), rows out of a batch step", async () => {
      const p = new Pipeline({ runner: "local", threads });
      const input = Array.from({ length: N }, (_, i) => ({
        sensor: `s${i % 4}`,
        reading: i / 4,
        count: (i % 5) - 2,
        note: i % 3 === 0 ? null : `n${i % 7}`,
      }));
      const prefix = path.join(root, `rows-${threads}`);
      p.create(input, {
        coder: row({ sensor: "STRING", reading: "DOUBLE", count: "INT32", note: "STRING?" }),
      })
        .reshuffle()
        .mapBatches(
          (batch) => {
            const types = batch.schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(" ");
            if (
              types !==
              "sensor:Dictionary<Int32, Utf8> reading:Float64 count:Int32 note:Dictionary<Int32, Utf8>"
            )
              throw new Error(`unexpected columns ${types}`);
            const reading = batch.getChild("reading")!.toArray() as Float64Array;
            const count = batch.getChild("count")!.toArray() as Int32Array;
            const scaled = new Float64Array(reading.length);
            for (let i = 0; i < reading.length; i++) scaled[i] = reading[i]! * count[i]!;
            return { sensor: batch.getChild("sensor"), scaled, note: batch.getChild("note") };
          },
          {
            batchSize: 300,
            coder: row({ sensor: "STRING", scaled: "DOUBLE", note: "STRING?" }),
          },
        )
        .map(
          (r) => {
            const out = r as unknown as { sensor: string; scaled: number; note: string | null };
            return `${out.sensor} ${out.scaled} ${out.note ?? "-"}`;
          },
          { coder: "string" },
        )
        .writeText(prefix);
      const result = await p.run();
      assert.equal(result.state, "DONE");
      assert.deepEqual(
        readLines(prefix),
        input.map((r) => `${r.sensor} ${r.reading * r.count} ${r.note ?? "-"}`).sort(),
      );
    });

    it("mapBatches on kv(string, double), then a per-key sum", async () => {
      const p = new Pipeline({ runner: "local", threads });
      const input = Array.from({ length: N }, (_, i) => ({ key: `k${i % 5}`, value: i / 8 }));
      const scaled = p
        .create(input, { coder: kv("string", "double") })
        .reshuffle()
        .mapBatches(
          (batch) => {
            const v = batch.getChild("value")!.toArray() as Float64Array;
            const out = new Float64Array(v.length);
            for (let i = 0; i < v.length; i++) out[i] = v[i]! * 2 + 1;
            return { key: batch.getChild("key"), value: out };
          },
          { batchSize: 256 },
        );
      const prefix = path.join(root, `sums-${threads}`);
      scaled
        .combinePerKey("sum")
        .map((e) => `${e.key}=${e.value}`, { coder: "string" })
        .writeText(prefix);
      const result = await p.run();
      assert.equal(result.state, "DONE");
      const expected = new Map<string, number>();
      for (const { key, value } of input)
        expected.set(key, (expected.get(key) ?? 0) + value * 2 + 1);
      assert.deepEqual(readLines(prefix), [...expected].map(([k, v]) => `${k}=${v}`).sort());
    });

    it("combinePerKey('sum') after mapBatches precombines on columns; int64 sums past 2^53 are exact", async () => {
      const calls = { batches: 0, addInputs: 0 };
      const processBatch = ColumnarPrecombineOperation.prototype.processBatch;
      const addInput = CombineFnHost.prototype.addInput;
      ColumnarPrecombineOperation.prototype.processBatch = function (batch) {
        calls.batches++;
        return processBatch.call(this, batch);
      };
      CombineFnHost.prototype.addInput = function (acc, x) {
        calls.addInputs++;
        return addInput.call(this, acc, x);
      };
      try {
        const p = new Pipeline({ runner: "local", threads });
        const input = Array.from({ length: N }, (_, i) => ({
          key: `k${i % 5}`,
          value: 2 ** 44 + i,
        }));
        const prefix = path.join(root, `int-sums-${threads}`);
        p.create(input, { coder: kv("string", "varint") })
          .reshuffle()
          .mapBatches((batch) => ({ key: batch.getChild("key"), value: batch.getChild("value") }), {
            batchSize: 500,
          })
          .combinePerKey("sum")
          .map((e) => `${e.key}=${String(e.value)}`, { coder: "string" })
          .writeText(prefix);
        const result = await p.run();
        assert.equal(result.state, "DONE");
        const expected = new Map<string, bigint>();
        for (const { key, value } of input)
          expected.set(key, (expected.get(key) ?? 0n) + BigInt(value));
        assert.ok(
          [...expected.values()].every((v) => v > 2n ** 53n),
          "the sums leave the safe range",
        );
        assert.deepEqual(readLines(prefix), [...expected].map(([k, v]) => `${k}=${v}`).sort());
        if (threads === 0) {
          // In this process: the precombine took the batches, and only adds past 2^53 called addInput.
          assert.ok(calls.batches > 0, "the precombine took batches");
          assert.ok(calls.addInputs < N / 2, `addInput calls: ${calls.addInputs}`);
        }
      } finally {
        ColumnarPrecombineOperation.prototype.processBatch = processBatch;
        CombineFnHost.prototype.addInput = addInput;
      }
    });

    it("parDo with a processBatch DoFn after a per-element map, batch outputs as elements", async () => {
      const p = new Pipeline({ runner: "local", threads });
      const prefix = path.join(root, `rows-${threads}`);
      p.create(
        Array.from({ length: 100 }, (_, i) => i),
        { coder: "varint" },
      )
        .map((n) => ({ key: n % 2 === 0 ? "even" : "odd", value: n }), {
          coder: kv("string", "varint"),
        })
        .parDo(
          {
            processBatch(batch: any) {
              let sum = 0n;
              for (const v of batch.getChild("value")) sum += v;
              return [`${batch.numRows}:${sum}`];
            },
          },
          { coder: "string", batchSize: 40 },
        )
        .writeText(prefix);
      const result = await p.run();
      assert.equal(result.state, "DONE");
      const lines = readLines(prefix);
      const rows = lines.map((l) => Number(l.split(":")[0]));
      assert.ok(
        rows.every((n) => n <= 40),
        `batches of at most 40 elements: ${lines.join(" ")}`,
      );
      assert.equal(
        rows.reduce((a, b) => a + b, 0),
        100,
      );
      assert.equal(
        lines.map((l) => BigInt(l.split(":")[1]!)).reduce((a, b) => a + b, 0n),
        4950n,
      );
    });
  });
}

describe("batch DoFns in the builder", () => {
  it("writes the batch field into the DoFn payload, and refuses bad options and state", () => {
    const p = new Pipeline({ runner: "local", threads: 0 });
    const pairs = p.create([{ key: "a", value: 1.5 }], { coder: kv("string", "double") });
    pairs.mapBatches((batch) => batch, { name: "Same", batchSize: 10, withTimestamps: true });
    const proto = p.toProto();
    const same = [...proto.components.transforms.values()].find((t) => t.unique_name === "Same");
    assert.ok(same, "the mapBatches transform");
    const payload = pipelineApi.ParDoPayload.deserializeBinary(same.spec.payload);
    const spec = JSON.parse(new TextDecoder().decode(payload.do_fn.payload)) as {
      batch: unknown;
    };
    assert.deepEqual(spec.batch, { maxElements: 10, timestamps: true });
    assert.throws(
      () => pairs.mapBatches((batch) => batch, { batchSize: 0 }),
      /options\.batchSize must be a positive integer, got 0/,
    );
    assert.throws(
      () =>
        pairs.parDo(
          { processBatch: (batch: unknown) => [batch] },
          { state: { seen: { kind: "bag" } } },
        ),
      /cannot use state or timers/,
    );
  });
});
