/**
 * The precombine on columns (operations/batch/columnar-precombine.ts): for
 * the built-in sum, count, min, max and mean, batches give exactly what the
 * same rows give element by element (the per-element path of the same
 * operation, as a batch reached it before): accumulators bit for bit,
 * timestamps, windows, eviction order. Other batches and CombineFns go row
 * by row and stay right.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Binary, Bool, makeVector, Table, Utf8, vectorFromArray, type Vector } from "apache-arrow";
import { utf8DictionaryType, type ElementBatch } from "../../coders/columnar/index.js";
import { intervalWindow, NO_FIRING, type BoundedWindow } from "../../coders/index.js";
import { deliverBatch } from "../../operations/batch/batch-delivery.js";
import { ColumnarPrecombineOperation } from "../../operations/batch/columnar-precombine.js";
import "../../operations/batch/index.js";
import type { CombineFnHost } from "../../operations/combine/combine-fn-host.js";
import {
  COMBINE_PER_KEY_PRECOMBINE_URN,
  PRECOMBINE_MAX_KEYS_OPTION,
} from "../../operations/combine/precombine.js";
import { OperationError } from "../../operations/errors.js";
import type { Receiver } from "../../operations/operation.js";
import { pipelineApi } from "../../proto/index.js";
import { BYTES, INTERVAL, kv, STR, VARINT, type CoderSpec } from "../support/descriptors.js";
import { json, setUpOperation, type OperationUnderTest } from "./support.js";
import { Rng } from "../fuzz/prng.js";

const DOUBLE: CoderSpec = { urn: "beam:coder:double:v1" };
const BOOL: CoderSpec = { urn: "beam:coder:bool:v1" };
const FNS = ["sum", "count", "min", "max", "mean"] as const;
const W1 = intervalWindow(0n, 10n);
const W2 = intervalWindow(10n, 20n);
const { EARLIEST_IN_PANE, LATEST_IN_PANE, END_OF_WINDOW } = pipelineApi.OutputTime.Enum;

/** A seeded generator of floats in [0, 1) (the fuzzers' PRNG). */
function random(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.u32() / 4294967296;
}

const payload = (fn: object) =>
  new pipelineApi.CombinePayload({
    combine_fn: new pipelineApi.FunctionSpec({ urn: "firefly:combinefn:v1", payload: json(fn) }),
    accumulator_coder_id: "varint",
  }).serializeBinary();

interface Setup {
  fn: object;
  keyCoder: CoderSpec;
  valueCoder: CoderSpec;
  maxKeys?: number;
  outputTime?: pipelineApi.OutputTime.Enum;
}

function precombine(s: Setup): Promise<OperationUnderTest> {
  return setUpOperation({
    urn: COMBINE_PER_KEY_PRECOMBINE_URN,
    payload: payload(s.fn),
    inputs: { in: kv(s.keyCoder, s.valueCoder) },
    windowing: { windowCoder: INTERVAL, outputTime: s.outputTime ?? END_OF_WINDOW },
    limits: { pipelineOptions: { [PRECOMBINE_MAX_KEYS_OPTION]: String(s.maxKeys ?? 10_000) } },
  });
}

function batchOf(
  key: Vector,
  value: Vector,
  timestamps: bigint[],
  windows: BoundedWindow[],
): ElementBatch {
  return {
    table: new Table({ key, value }),
    timestamps: BigInt64Array.from(timestamps),
    windows,
    pane: NO_FIRING,
  };
}

/** Counts the CombineFn's addInput calls of an operation. */
function countAddInput(t: OperationUnderTest): { calls: number } {
  const host = (t.op as unknown as { host: CombineFnHost }).host;
  const counter = { calls: 0 };
  const addInput = host.addInput.bind(host);
  host.addInput = (acc, x) => {
    counter.calls++;
    return addInput(acc, x);
  };
  return counter;
}

/** What each path emitted in one bundle of the batches: as batches, and row by row. */
async function bothPaths(s: Setup, batches: ElementBatch[]) {
  const run = async (asRows: boolean) => {
    const t = await precombine(s);
    assert.ok(t.op instanceof ColumnarPrecombineOperation, "the batch plugin's precombine");
    const addInputs = countAddInput(t);
    const op = t.op;
    const receiver: Receiver = asRows ? { process: (e) => op.process(e) } : op;
    await op.startBundle?.();
    for (const batch of batches) await deliverBatch(receiver, batch);
    await op.finishBundle?.();
    return {
      out: t.out().elements.map((e) => ({ value: e.value, timestamp: e.timestamp, w: e.windows })),
      addInputs: addInputs.calls,
    };
  };
  return { batches: await run(false), rows: await run(true) };
}

type KeyKind = "dictionary" | "int64";
type ValueKind = "double" | "int64";

/** Random batches over `distinct` keys (repeating across batches), one or two windows each. */
function randomBatches(
  seed: number,
  keyKind: KeyKind,
  valueKind: ValueKind,
  distinct: number,
): ElementBatch[] {
  const r = random(seed);
  const batches: ElementBatch[] = [];
  for (let b = 0; b < 6; b++) {
    const n = 1 + Math.floor(r() * 300);
    const keyNumbers = Array.from({ length: n }, () => Math.floor(r() * distinct));
    const key =
      keyKind === "dictionary"
        ? vectorFromArray(
            keyNumbers.map((k) => `key-${k}`),
            utf8DictionaryType(),
          )
        : makeVector(BigInt64Array.from(keyNumbers.map((k) => BigInt(k * 7919 - 50_000))));
    const value =
      valueKind === "double"
        ? makeVector(Float64Array.from({ length: n }, () => (r() - 0.5) * 1e3 + r() / 3))
        : makeVector(
            BigInt64Array.from({ length: n }, () => BigInt(Math.floor((r() - 0.5) * 2e9))),
          );
    const timestamps = Array.from({ length: n }, () => BigInt(Math.floor(r() * 20)));
    const windows = b % 3 === 1 ? [W2] : [W1, W2];
    batches.push(batchOf(key, value, timestamps, windows));
  }
  // A table of two record batches (two dictionaries) for the last one.
  const [x, y] = [batches[4]!, batches[5]!];
  batches[5] = {
    table: x.table.concat(y.table),
    timestamps: BigInt64Array.from([...x.timestamps, ...y.timestamps]),
    windows: x.windows,
    pane: NO_FIRING,
  };
  return batches;
}

describe("precombine on columns: the same output as element by element", () => {
  const kinds: [KeyKind, ValueKind][] = [
    ["dictionary", "double"],
    ["dictionary", "int64"],
    ["int64", "double"],
    ["int64", "int64"],
  ];
  for (const fn of FNS) {
    for (const [keyKind, valueKind] of kinds) {
      it(`${fn}: ${keyKind} keys, ${valueKind} values, eviction, two windows, timestamp combiners`, async () => {
        const keyCoder = keyKind === "dictionary" ? STR : VARINT;
        const valueCoder = valueKind === "double" ? DOUBLE : VARINT;
        const cases = [
          { seed: 1, distinct: 40, maxKeys: 10_000, outputTime: END_OF_WINDOW },
          { seed: 2, distinct: 120, maxKeys: 30, outputTime: EARLIEST_IN_PANE },
          { seed: 3, distinct: 60, maxKeys: 25, outputTime: LATEST_IN_PANE },
        ];
        for (const { seed, distinct, maxKeys, outputTime } of cases) {
          const batches = randomBatches(seed * 31 + FNS.indexOf(fn), keyKind, valueKind, distinct);
          const { batches: got, rows: expected } = await bothPaths(
            { fn: { builtin: fn }, keyCoder, valueCoder, maxKeys, outputTime },
            batches,
          );
          assert.ok(expected.out.length > 0);
          assert.deepEqual(got.out, expected.out, `seed ${seed}`);
          assert.equal(got.addInputs, 0, "the fast path never calls the CombineFn's addInput");
          assert.ok(expected.addInputs > 0);
        }
      });
    }
  }

  it("other key columns: Utf8, Binary, Bool, Float64 (with -0 and NaN keys)", async () => {
    const value = makeVector(Float64Array.from([1.5, 2.25, 3, 4.125, 5, 6.5]));
    const ts = [1n, 2n, 3n, 4n, 5n, 6n];
    const columns: [CoderSpec, Vector][] = [
      [STR, vectorFromArray(["a", "b", "a", "c", "b", "a"], new Utf8())],
      [
        BYTES,
        vectorFromArray(
          [[1], [2], [1], [], [2], []].map((b) => Uint8Array.from(b)),
          new Binary(),
        ),
      ],
      [BOOL, vectorFromArray([true, false, true, true, false, false], new Bool())],
      [DOUBLE, makeVector(Float64Array.from([0, -0, NaN, 0, NaN, 2.5]))],
    ];
    for (const fn of FNS) {
      for (const [keyCoder, key] of columns) {
        const batches = [batchOf(key, value, ts, [W1, W2]), batchOf(key, value, ts, [W1])];
        const { batches: got, rows: expected } = await bothPaths(
          { fn: { builtin: fn }, keyCoder, valueCoder: DOUBLE, outputTime: LATEST_IN_PANE },
          batches,
        );
        assert.deepEqual(got.out, expected.out, `${fn} over ${String(key.type)} keys`);
        assert.equal(got.addInputs, 0, `${fn} over ${String(key.type)} keys: on columns`);
      }
    }
  });
});

describe("precombine on columns: what goes row by row", () => {
  const keys = () => vectorFromArray(["a", "b", "a", "b"], utf8DictionaryType());
  const ts = [0n, 1n, 2n, 3n];

  it("a CombineFn other than the five (top, a user fn) goes row by row and is right", async () => {
    const batch = batchOf(keys(), makeVector(Float64Array.from([4, 1, 3, 2])), ts, [W1]);
    const user = {
      source: `export default { createAccumulator: () => "", addInput: (a, x) => a + x + ";",
        mergeAccumulators: (as) => as.join(""), extractOutput: (a) => a };`,
    };
    for (const fn of [{ builtin: "top", config: { n: 1 } }, user]) {
      const { batches: got, rows: expected } = await bothPaths(
        { fn, keyCoder: STR, valueCoder: DOUBLE },
        [batch],
      );
      assert.deepEqual(got, expected);
      assert.equal(got.addInputs, 4, "addInput per row");
    }
    const { batches: top } = await bothPaths(
      { fn: { builtin: "top", config: { n: 1 } }, keyCoder: STR, valueCoder: DOUBLE },
      [batch],
    );
    assert.deepEqual(
      top.out.map((e) => e.value),
      [
        { key: "a", value: [4] },
        { key: "b", value: [2] },
      ],
    );
  });

  it("nulls, other value types and extra columns go row by row and are right", async () => {
    const withNull = vectorFromArray([1.5, null, 2, 3]);
    const int32 = makeVector(Int32Array.from([1, 2, 3, 4]));
    for (const value of [withNull, int32]) {
      const batch = batchOf(keys(), value, ts, [W1]);
      const { batches: got, rows: expected } = await bothPaths(
        { fn: { builtin: "count" }, keyCoder: STR, valueCoder: DOUBLE },
        [batch],
      );
      assert.deepEqual(got.out, expected.out);
    }
    const sum = await bothPaths({ fn: { builtin: "sum" }, keyCoder: STR, valueCoder: VARINT }, [
      batchOf(keys(), int32, ts, [W1]),
    ]);
    assert.deepEqual(sum.batches, sum.rows);
    assert.deepEqual(
      sum.batches.out.map((e) => e.value),
      [
        { key: "a", value: 4 },
        { key: "b", value: 6 },
      ],
    );
    const extra: ElementBatch = {
      table: new Table({
        key: keys(),
        value: makeVector(Float64Array.from([1, 2, 3, 4])),
        timestamp: makeVector(BigInt64Array.from(ts)),
      }),
      timestamps: BigInt64Array.from(ts),
      windows: [W1],
      pane: NO_FIRING,
    };
    const withTimestamps = await bothPaths(
      { fn: { builtin: "sum" }, keyCoder: STR, valueCoder: DOUBLE },
      [extra],
    );
    assert.deepEqual(withTimestamps.batches, withTimestamps.rows);
    assert.equal(withTimestamps.batches.addInputs, 4, "a batch with a timestamp column: by row");
  });

  it("a key its coder cannot encode is an OperationError naming the transform, as per element", async () => {
    const batch = batchOf(keys(), makeVector(Float64Array.from([1, 2, 3, 4])), ts, [W1]);
    for (const asRows of [false, true]) {
      const t = await precombine({ fn: { builtin: "sum" }, keyCoder: BOOL, valueCoder: DOUBLE });
      const op = t.op;
      await op.startBundle?.();
      await assert.rejects(
        async () => {
          await deliverBatch(asRows ? { process: (e) => op.process(e) } : op, batch);
        },
        (err: unknown) =>
          err instanceof OperationError &&
          /under-test/.test(err.message) &&
          /key/.test(err.message),
      );
    }
  });
});

describe("precombine on columns: exact integer sums", () => {
  const twoTo53 = 2 ** 53;
  it("partial sums past 2^53 become the exact bigint, as per element", async () => {
    const keys = vectorFromArray(["a", "a", "a", "b"], utf8DictionaryType());
    const ts = [0n, 0n, 0n, 0n];
    const exact = BigInt(twoTo53 - 10) + 5n + 100n;
    const int64 = makeVector(BigInt64Array.from([BigInt(twoTo53 - 10), 5n, 100n, 7n]));
    const doubles = makeVector(Float64Array.from([twoTo53 - 10, 5, 100, 7]));
    for (const value of [int64, doubles]) {
      const { batches: got, rows: expected } = await bothPaths(
        { fn: { builtin: "sum" }, keyCoder: STR, valueCoder: VARINT },
        [batchOf(keys, value, ts, [W1])],
      );
      assert.deepEqual(got.out, expected.out);
      assert.deepEqual(
        got.out.map((e) => e.value),
        [
          { key: "a", value: exact },
          { key: "b", value: 7 },
        ],
      );
    }
  });

  it("int64 values outside the safe range: the batch goes row by row, bigints stay exact", async () => {
    const keys = vectorFromArray(["a", "a", "b"], utf8DictionaryType());
    const big = 2n ** 60n + 3n;
    const value = makeVector(BigInt64Array.from([big, 1n, -(2n ** 53n)]));
    const batch = batchOf(keys, value, [0n, 0n, 0n], [W1]);
    for (const fn of FNS) {
      const { batches: got, rows: expected } = await bothPaths(
        { fn: { builtin: fn }, keyCoder: STR, valueCoder: VARINT },
        [batch],
      );
      assert.deepEqual(got.out, expected.out, fn);
    }
    const { batches: sums } = await bothPaths(
      { fn: { builtin: "sum" }, keyCoder: STR, valueCoder: VARINT },
      [batch],
    );
    assert.deepEqual(
      sums.out.map((e) => e.value),
      [
        { key: "a", value: big + 1n },
        { key: "b", value: -(2n ** 53n) },
      ],
    );
  });
});
