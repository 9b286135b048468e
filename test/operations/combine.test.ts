/**
 * Combine phases (precombine, merge accumulators, extract outputs, convert to
 * accumulators, combine grouped values) against in-memory inputs.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  GLOBAL_WINDOW,
  GLOBAL_WINDOW_MAX_TIMESTAMP,
  intervalWindow,
  type KV,
} from "../../coders/index.js";
import { COMBINE_GROUPED_VALUES_URN } from "../../operations/combine/combine-grouped-values.js";
import { COMBINE_PER_KEY_CONVERT_TO_ACCUMULATORS_URN } from "../../operations/combine/convert-to-accumulators.js";
import { COMBINE_PER_KEY_EXTRACT_OUTPUTS_URN } from "../../operations/combine/extract-outputs.js";
import { COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN } from "../../operations/combine/merge-accumulators.js";
import {
  COMBINE_PER_KEY_PRECOMBINE_URN,
  PRECOMBINE_MAX_KEYS_OPTION,
} from "../../operations/combine/precombine.js";
import { OperationError, UserCodeError } from "../../operations/errors.js";
import { pipelineApi } from "../../proto/index.js";
import { INTERVAL, iterable, kv, STR, VARINT } from "../support/descriptors.js";
import { buildOperation, json, setUpOperation, wv, type TransformUnderTest } from "./support.js";

const combinePayload = (fn: object, urn = "firefly:combinefn:v1") =>
  new pipelineApi.CombinePayload({
    combine_fn: new pipelineApi.FunctionSpec({ urn, payload: json(fn) }),
    accumulator_coder_id: "varint",
  }).serializeBinary();
const SUM = { builtin: "sum" };
/** A user CombineFn that records its calls on the accumulator (to see compact at work). */
const TRACING = {
  source: `export default {
    createAccumulator: () => ({ sum: 0, inputs: 0 }),
    addInput: (acc, x) => ({ sum: acc.sum + x, inputs: acc.inputs + 1 }),
    mergeAccumulators: (accs) => accs.reduce((m, a) => ({ sum: m.sum + a.sum, inputs: m.inputs + a.inputs }), { sum: 0, inputs: 0 }),
    extractOutput: (acc) => "sum=" + acc.sum,
    compact: (acc) => ({ ...acc, compacted: true }),
  };`,
};
const iw = (start: number, end: number) => intervalWindow(BigInt(start), BigInt(end));
const byKey = (values: unknown[]) =>
  [...(values as KV<string, unknown>[])].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );

function phase(urn: string, fn: object, extra: Partial<TransformUnderTest> = {}) {
  return setUpOperation({
    urn,
    payload: combinePayload(fn),
    inputs: { in: kv(STR, VARINT) },
    ...extra,
  });
}

describe("combine_per_key_precombine", () => {
  test("sums per key in one bundle, emitted at finishBundle (end-of-window timestamps)", async () => {
    const t = await phase(COMBINE_PER_KEY_PRECOMBINE_URN, SUM);
    const input = ["a", "b", "a", "c", "a", "b"].map((key, i) =>
      wv({ key, value: i + 1 }, { timestamp: BigInt(i) }),
    );
    await t.op.startBundle?.();
    for (const e of input) await t.op.process(e);
    assert.equal(t.out().elements.length, 0, "nothing leaves before finishBundle");
    await t.op.finishBundle?.();
    assert.deepEqual(byKey(t.out().values), [
      { key: "a", value: 1 + 3 + 5 },
      { key: "b", value: 2 + 6 },
      { key: "c", value: 4 },
    ]);
    for (const e of t.out().elements) {
      assert.deepEqual(e.windows, [GLOBAL_WINDOW]);
      assert.equal(e.timestamp, GLOBAL_WINDOW_MAX_TIMESTAMP);
    }
    await t.runBundle([wv({ key: "a", value: 10 })]);
    assert.deepEqual(
      t.out().values.slice(3),
      [{ key: "a", value: 10 }],
      "the table starts empty each bundle",
    );
  });

  test("equal keys in different windows stay apart; an element in two windows counts in both", async () => {
    const t = await phase(COMBINE_PER_KEY_PRECOMBINE_URN, SUM, {
      windowing: { windowCoder: INTERVAL },
    });
    await t.runBundle([
      wv({ key: "k", value: 1 }, { windows: [iw(0, 10)] }),
      wv({ key: "k", value: 2 }, { windows: [iw(10, 20)] }),
      wv({ key: "k", value: 4 }, { windows: [iw(0, 10), iw(10, 20)] }),
      wv({ key: "j", value: 8 }, { windows: [iw(0, 10)] }),
    ]);
    const got = t
      .out()
      .elements.map((e) => [e.value, e.windows, e.timestamp])
      .sort((a, b) =>
        `${JSON.stringify(a[0])}${String(a[2])}`.localeCompare(
          `${JSON.stringify(b[0])}${String(b[2])}`,
        ),
      );
    assert.deepEqual(got, [
      [{ key: "j", value: 8 }, [iw(0, 10)], 9n],
      [{ key: "k", value: 5 }, [iw(0, 10)], 9n],
      [{ key: "k", value: 6 }, [iw(10, 20)], 19n],
    ]);
  });

  test("the table is bounded: past max keys the oldest tenth leaves mid-bundle; sums stay exact", async () => {
    const t = await phase(COMBINE_PER_KEY_PRECOMBINE_URN, SUM, {
      limits: { pipelineOptions: { [PRECOMBINE_MAX_KEYS_OPTION]: "10" } },
    });
    await t.op.startBundle?.();
    const expected = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const key = `k${(i * 7) % 25}`;
      expected.set(key, (expected.get(key) ?? 0) + i);
      await t.op.process(wv({ key, value: i }));
      assert.ok(new Set(t.out().values.map((v) => (v as KV<string, number>).key)).size <= 25);
    }
    const beforeFinish = t.out().elements.length;
    assert.ok(beforeFinish > 0, "entries were flushed by size before finishBundle");
    await t.op.finishBundle?.();
    assert.ok(
      t.out().elements.length - beforeFinish <= 10,
      "at most max keys remain for finishBundle",
    );
    const merged = new Map<string, number>();
    for (const { key, value } of t.out().values as KV<string, number>[])
      merged.set(key, (merged.get(key) ?? 0) + value);
    assert.deepEqual([...merged].sort(), [...expected].sort());
  });

  test("a bad max-keys option is an error naming the option", () => {
    assert.throws(
      () =>
        buildOperation({
          urn: COMBINE_PER_KEY_PRECOMBINE_URN,
          payload: combinePayload(SUM),
          inputs: { in: kv(STR, VARINT) },
          limits: { pipelineOptions: { [PRECOMBINE_MAX_KEYS_OPTION]: 0 } },
        }),
      /"under-test".*firefly_precombine_max_keys must be a positive integer, got 0/,
    );
  });

  test("earliest / latest timestamp combiners from the input windowing strategy", async () => {
    for (const [outputTime, want] of [
      [pipelineApi.OutputTime.Enum.EARLIEST_IN_PANE, 3n],
      [pipelineApi.OutputTime.Enum.LATEST_IN_PANE, 8n],
      [pipelineApi.OutputTime.Enum.END_OF_WINDOW, 99n],
    ] as const) {
      const t = await phase(COMBINE_PER_KEY_PRECOMBINE_URN, SUM, {
        windowing: { windowCoder: INTERVAL, outputTime },
      });
      await t.runBundle(
        [5n, 3n, 8n].map((ts) =>
          wv({ key: "k", value: 1 }, { timestamp: ts, windows: [iw(0, 100)] }),
        ),
      );
      assert.equal(t.out().elements[0].timestamp, want, `output_time ${outputTime}`);
    }
  });

  test("a user CombineFn from source: accumulators are compacted on the way out", async () => {
    const t = await phase(COMBINE_PER_KEY_PRECOMBINE_URN, TRACING);
    await t.runBundle([wv({ key: "a", value: 2 }), wv({ key: "a", value: 3 })]);
    assert.deepEqual(t.out().values, [{ key: "a", value: { sum: 5, inputs: 2, compacted: true } }]);
  });

  test("the input must be KVs (coder at build time, values at run time)", async () => {
    assert.throws(
      () =>
        buildOperation({
          urn: COMBINE_PER_KEY_PRECOMBINE_URN,
          payload: combinePayload(SUM),
          inputs: { in: STR },
        }),
      /"under-test".*is not of KVs/,
    );
    const t = await phase(COMBINE_PER_KEY_PRECOMBINE_URN, SUM);
    assert.throws(
      () => t.op.process(wv("loose")),
      /"under-test".*expected a KV<K, V> input element/,
    );
    assert.throws(
      () => t.op.process(wv({ key: 5, value: 1 })),
      /"under-test".*cannot encode the key with/,
    );
  });
});

describe("keyed combine phases", () => {
  test("merge_accumulators: KV<K, Iterable<Acc>> → KV<K, Acc> (compacted), keeping timestamp, windows, pane", async () => {
    const t = await phase(COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN, TRACING, {
      inputs: { in: kv(STR, iterable(VARINT)) },
    });
    const element = wv(
      {
        key: "a",
        value: [
          { sum: 5, inputs: 2 },
          { sum: 7, inputs: 1 },
        ],
      },
      { timestamp: 42n, windows: [iw(0, 100)] },
    );
    await t.runBundle([element]);
    const [out] = t.out().elements;
    assert.deepEqual(out.value, { key: "a", value: { sum: 12, inputs: 3, compacted: true } });
    assert.equal(out.timestamp, 42n);
    assert.deepEqual(out.windows, [iw(0, 100)]);
    assert.equal(out.pane, element.pane);
  });

  test("merge_accumulators and combine_grouped_values read async (state-backed) iterables", async () => {
    async function* pages() {
      yield 1;
      await new Promise((r) => setImmediate(r));
      yield 2;
      yield 3;
    }
    const merge = await phase(COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN, SUM, {
      inputs: { in: kv(STR, iterable(VARINT)) },
    });
    await merge.runBundle([wv({ key: "a", value: pages() })]);
    assert.deepEqual(merge.out().values, [{ key: "a", value: 6 }]);
    const grouped = await phase(
      COMBINE_GROUPED_VALUES_URN,
      { builtin: "top", config: { n: 2 } },
      {
        inputs: { in: kv(STR, iterable(VARINT)) },
      },
    );
    await grouped.runBundle([
      wv({ key: "a", value: pages() }),
      wv({ key: "b", value: new Set([9, 1]) }),
    ]);
    assert.deepEqual(grouped.out().values, [
      { key: "a", value: [3, 2] },
      { key: "b", value: [9, 1] },
    ]);
  });

  test("extract_outputs, convert_to_accumulators and combine_grouped_values", async () => {
    const extract = await phase(COMBINE_PER_KEY_EXTRACT_OUTPUTS_URN, TRACING);
    await extract.runBundle([wv({ key: "a", value: { sum: 9, inputs: 4 } })]);
    assert.deepEqual(extract.out().values, [{ key: "a", value: "sum=9" }]);

    const convert = await phase(COMBINE_PER_KEY_CONVERT_TO_ACCUMULATORS_URN, TRACING);
    await convert.runBundle([wv({ key: "a", value: 4 }), wv({ key: "a", value: 5 })]);
    assert.deepEqual(convert.out().values, [
      { key: "a", value: { sum: 4, inputs: 1, compacted: true } },
      { key: "a", value: { sum: 5, inputs: 1, compacted: true } },
    ]);

    const mean = await phase(
      COMBINE_GROUPED_VALUES_URN,
      { builtin: "mean" },
      {
        inputs: { in: kv(STR, iterable(VARINT)) },
      },
    );
    await mean.runBundle([wv({ key: "m", value: [1, 2, 3, 6] }), wv({ key: "e", value: [] })]);
    assert.deepEqual(mean.out().values, [
      { key: "m", value: 3 },
      { key: "e", value: null },
    ]);
    await assert.rejects(
      async () => mean.op.process(wv({ key: "x", value: 5 })),
      /"under-test".*expected an iterable of values, got number/,
    );
  });

  test("user code that throws, or returns a promise, is a UserCodeError naming the method", async () => {
    const t = await phase(COMBINE_PER_KEY_CONVERT_TO_ACCUMULATORS_URN, {
      source: `export default {
        createAccumulator: () => 0,
        addInput: (acc, x) => { if (x < 0) throw new RangeError("negative input " + x); return acc + x; },
        mergeAccumulators: (accs) => accs[0],
        extractOutput: async (acc) => acc,
      };`,
    });
    assert.throws(
      () => t.op.process(wv({ key: "a", value: -1 })),
      (err: unknown) =>
        err instanceof UserCodeError &&
        err.transformId === "under-test" &&
        err.method === "CombineFn.addInput" &&
        /negative input -1/.test((err.cause as Error).message),
    );
    const extract = await phase(COMBINE_PER_KEY_EXTRACT_OUTPUTS_URN, {
      source:
        "export default { createAccumulator() {}, addInput() {}, mergeAccumulators() {}, extractOutput: async (a) => a }",
    });
    assert.throws(
      () => extract.op.process(wv({ key: "a", value: 1 })),
      (err: unknown) =>
        err instanceof UserCodeError && /must be synchronous/.test((err.cause as Error).message),
    );
  });

  test("bad payloads and CombineFns are OperationErrors naming the transform", async () => {
    const build = (payload: Uint8Array) =>
      buildOperation({
        urn: COMBINE_PER_KEY_EXTRACT_OUTPUTS_URN,
        payload,
        inputs: { in: kv(STR, VARINT) },
      });
    assert.throws(
      () => build(new Uint8Array([0xff, 0xff])),
      (err: unknown) =>
        err instanceof OperationError &&
        /transform "under-test" \(beam:transform:combine_per_key_extract_outputs:v1\): payload is not a CombinePayload/.test(
          err.message,
        ),
    );
    assert.throws(() => build(new Uint8Array()), /"under-test".*CombinePayload has no combine_fn/);
    assert.throws(
      () => build(combinePayload({}, "beam:combinefn:pickled_python:v1")),
      /"under-test".*CombineFn URN "beam:combinefn:pickled_python:v1" is not supported/,
    );
    await assert.rejects(
      build(combinePayload({ builtin: "median" })).setup(),
      /"under-test".*unknown builtin CombineFn "median"/,
    );
    await assert.rejects(
      build(combinePayload({ source: "export default { createAccumulator() {} }" })).setup(),
      /"under-test".*has no addInput method/,
    );
  });
});
