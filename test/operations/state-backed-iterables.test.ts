/**
 * State-backed iterables (large GroupByKey groups a runner sends as a prefix
 * and a state token) seen by ParDos and combine phases: by default a DoFn
 * gets arrays (read before process, bounded by firefly_max_iterable_bytes), a
 * DoFn with `lazyIterables: true` gets the async iterable, and what either
 * emits can be encoded again. The groups are encoded the way a runner does
 * (a state-writing coder) and decoded with a state reader, as a data source
 * decodes them.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ByteWriter,
  GLOBAL_WINDOW,
  NO_FIRING,
  StateBackedIterable,
  StateWritingIterable,
  StreamDecoder,
  type IterableStateWriter,
  type KV,
  type StateBackedIterableReader,
  type StatePage,
  type WindowedValue,
} from "../../coders/index.js";
import { COMBINE_GROUPED_VALUES_URN } from "../../operations/combine/combine-grouped-values.js";
import { COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN } from "../../operations/combine/merge-accumulators.js";
import { OperationError } from "../../operations/errors.js";
import { pipelineApi } from "../../proto/index.js";
import {
  coderOf,
  dofnPayload,
  iterable,
  kv,
  STR,
  VARINT,
  windowed,
  type CoderSpec,
} from "../support/descriptors.js";
import { json, setUpOperation, type TransformUnderTest } from "./support.js";

const PARDO = "beam:transform:pardo:v1";
const stateBacked = (e: CoderSpec): CoderSpec => ({
  urn: "beam:coder:state_backed_iterable:v1",
  components: [e],
});
const GROUPS = kv(STR, stateBacked(VARINT));
const JSON_CODER: CoderSpec = { urn: "firefly:coder:json:v1" };

/** A runner's iterable state: written by the state-writing encoder, read back in small pages. */
class IterableState implements IterableStateWriter, StateBackedIterableReader {
  readonly values = new Map<string, Uint8Array>();
  pagesRead = 0;
  failReads = false;

  constructor(private readonly pageBytes = 7) {}

  write(encodedElements: Uint8Array): Uint8Array {
    const token = `iter-${this.values.size}`;
    this.values.set(token, encodedElements.slice());
    return Buffer.from(token);
  }

  readPage(token: Uint8Array, continuation: Uint8Array | undefined): Promise<StatePage> {
    if (this.failReads) return Promise.reject(new Error("state stream broken"));
    const all = this.values.get(Buffer.from(token).toString()) ?? new Uint8Array();
    const start = continuation === undefined ? 0 : Number(Buffer.from(continuation).toString());
    const end = Math.min(all.length, start + this.pageBytes);
    this.pagesRead++;
    return Promise.resolve({
      data: all.subarray(start, end),
      continuationToken: end < all.length ? Buffer.from(String(end)) : new Uint8Array(),
    });
  }
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/**
 * `KV<string, state_backed_iterable<varint>>` elements as a runner with a
 * 16-byte threshold encodes them, decoded with a state reader (large groups
 * become StateBackedIterables, small ones arrays).
 */
function decodedGroups(
  state: IterableState,
  groups: Record<string, number[]>,
): WindowedValue<KV<string, unknown>>[] {
  const coder = coderOf<WindowedValue<unknown>>(windowed(GROUPS));
  const writer = new ByteWriter();
  for (const [key, values] of Object.entries(groups)) {
    const value = { key, value: new StateWritingIterable(values, 16, state) };
    coder.encodeTo(
      { value, timestamp: 0n, windows: [GLOBAL_WINDOW], pane: NO_FIRING },
      writer,
      "nested",
    );
  }
  const decoder = new StreamDecoder(coder, { stateReader: state });
  decoder.push(writer.finish());
  const decoded: WindowedValue<KV<string, unknown>>[] = [];
  for (let e = decoder.next(); e !== undefined; e = decoder.next())
    decoded.push(e as WindowedValue<KV<string, unknown>>);
  decoder.finish();
  return decoded;
}

function pardo(source: string, extra: Partial<TransformUnderTest> = {}) {
  return setUpOperation({
    urn: PARDO,
    payload: dofnPayload({ source }),
    inputs: { in: GROUPS },
    ...extra,
  });
}

/** The output values encode with the output's coder (what a data sink does). */
function assertEncodable(spec: CoderSpec, values: unknown[]): void {
  const coder = coderOf(spec);
  for (const v of values)
    assert.doesNotThrow(() => coder.encode(v), `encodes ${JSON.stringify(v)}`);
}

describe("state-backed iterables in a ParDo", () => {
  test("by default the DoFn sees arrays (with .length) and can emit them (ctx.output and return)", async () => {
    const state = new IterableState();
    const elements = decodedGroups(state, { big: range(40), small: [7, 8] });
    assert.ok(
      elements[0].value.value instanceof StateBackedIterable,
      "the big group is state-backed",
    );
    assert.ok(Array.isArray(elements[1].value.value), "the small group came inline");
    const t = await pardo(
      `export default (g, ctx) => {
        ctx.output({ key: g.key + ":length", value: [g.value.length, Array.isArray(g.value) ? 1 : 0] });
        ctx.output(g);
        return [g];
      }`,
    );
    await t.runBundle(elements);
    assert.deepEqual(t.out().values, [
      { key: "big:length", value: [40, 1] },
      { key: "big", value: range(40) },
      { key: "big", value: range(40) },
      { key: "small:length", value: [2, 1] },
      { key: "small", value: [7, 8] },
      { key: "small", value: [7, 8] },
    ]);
    assert.ok(state.pagesRead > 1, "the pages were read through the state reader");
    assertEncodable(GROUPS, t.out().values);
  });

  test("an inline group reaches the DoFn as it was decoded (nothing copied)", async () => {
    const t = await pardo("export default (g) => [g]");
    const [element] = decodedGroups(new IterableState(), { small: [1] });
    await t.runBundle([element]);
    assert.equal(t.out().values[0], element.value);
  });

  test("lazyIterables: true gets the async iterable; what it emits is read out and encodes", async () => {
    const state = new IterableState();
    const t = await pardo(
      `export default {
        lazyIterables: true,
        async process(g, ctx) {
          let sum = 0;
          for await (const v of g.value) sum += v;
          const all = Array.isArray(g.value) ? g.value : await g.value.toArray();
          ctx.output({ key: g.key + ":sum", value: [sum, all.length, Array.isArray(g.value) ? 1 : 0] });
          ctx.output({ total: g.value }, "json");
          ctx.output(g);
          return [{ key: g.key + ":again", value: g.value }];
        },
      }`,
      { outputs: { main: GROUPS, json: JSON_CODER } },
    );
    await t.runBundle(decodedGroups(state, { big: range(30, 1), small: [5] }));
    const big = range(30, 1);
    const total = big.reduce((a, b) => a + b, 0);
    assert.deepEqual(t.out("main").values, [
      { key: "big:sum", value: [total, 30, 0] },
      { key: "big", value: big },
      { key: "big:again", value: big },
      { key: "small:sum", value: [5, 1, 1] },
      { key: "small", value: [5] },
      { key: "small:again", value: [5] },
    ]);
    assert.deepEqual(t.out("json").values, [{ total: big }, { total: [5] }]);
    assertEncodable(GROUPS, t.out("main").values);
    assertEncodable(JSON_CODER, t.out("json").values);
  });

  test("a group larger than firefly_max_iterable_bytes is an error naming the transform, the option and lazyIterables", async () => {
    const limits = { pipelineOptions: { firefly_max_iterable_bytes: "20" } };
    const t = await pardo("export default (g) => [g]", { limits });
    const [big, small] = decodedGroups(new IterableState(), { big: range(100), small: [1, 2] });
    await t.runBundle([small]);
    await assert.rejects(
      async () => t.op.process(big),
      (err: unknown) =>
        err instanceof OperationError &&
        err.transformId === "under-test" &&
        /larger than the pipeline option firefly_max_iterable_bytes \(20 bytes/.test(err.message) &&
        /"lazyIterables: true"/.test(err.message),
    );
    const lazy = await pardo("export default { lazyIterables: true, process: (g) => [g] }", {
      limits,
    });
    await assert.rejects(async () => {
      await lazy.op.startBundle?.();
      await lazy.op.process(big);
    }, /"under-test".*a value the DoFn emitted holds a state-backed iterable larger than the pipeline option firefly_max_iterable_bytes/);
  });

  test("a bad firefly_max_iterable_bytes fails the ParDo with a state-backed input when it is built", async () => {
    await assert.rejects(
      pardo("export default (g) => [g]", {
        limits: { pipelineOptions: { firefly_max_iterable_bytes: "lots" } },
      }),
      /"under-test".*firefly_max_iterable_bytes must be a positive integer, got "lots"/,
    );
    // A ParDo without state-backed input does not read the option.
    await setUpOperation({
      urn: PARDO,
      payload: dofnPayload({ source: "export default (g) => [g]" }),
      inputs: { in: kv(STR, iterable(VARINT)) },
      limits: { pipelineOptions: { firefly_max_iterable_bytes: "lots" } },
    });
  });

  test("a ParDo whose input coder Firefly cannot build still builds (the tree is read from the protos)", async () => {
    const t = await setUpOperation({
      urn: PARDO,
      payload: dofnPayload({ source: "export default (x) => [x]" }),
      inputs: { in: kv(STR, { urn: "example:coder:unknown:v1" }) },
      outputs: { out: STR },
    });
    await t.runBundle([]);
  });

  test("a failed page read is an error naming the transform", async () => {
    const state = new IterableState();
    const [big] = decodedGroups(state, { big: range(50) });
    state.failReads = true;
    const t = await pardo("export default (g) => [g]");
    await t.op.startBundle?.();
    await assert.rejects(
      async () => t.op.process(big),
      /"under-test".*cannot read a state-backed iterable of the input element: state stream broken/,
    );
  });
});

describe("state-backed iterables in combine phases", () => {
  const combinePayload = (fn: object) =>
    new pipelineApi.CombinePayload({
      combine_fn: new pipelineApi.FunctionSpec({ urn: "firefly:combinefn:v1", payload: json(fn) }),
      accumulator_coder_id: "varint",
    }).serializeBinary();
  const phase = (urn: string, fn: object) =>
    setUpOperation({ urn, payload: combinePayload(fn), inputs: { in: GROUPS } });

  test("combine_grouped_values and merge_accumulators combine a state-backed group read in pages", async () => {
    const state = new IterableState();
    const grouped = await phase(COMBINE_GROUPED_VALUES_URN, { builtin: "sum" });
    await grouped.runBundle(decodedGroups(state, { big: range(60), small: [4, 5] }));
    assert.deepEqual(grouped.out().values, [
      { key: "big", value: (59 * 60) / 2 },
      { key: "small", value: 9 },
    ]);
    const merge = await phase(COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN, { builtin: "count" });
    await merge.runBundle(decodedGroups(state, { big: range(60) }));
    assert.deepEqual(merge.out().values, [
      { key: "big", value: range(60).reduce((a, b) => a + b) },
    ]);
  });

  test("a failed page read is an OperationError naming the combine transform", async () => {
    const state = new IterableState();
    const elements = decodedGroups(state, { big: range(60) });
    state.failReads = true;
    for (const urn of [COMBINE_GROUPED_VALUES_URN, COMBINE_PER_KEY_MERGE_ACCUMULATORS_URN]) {
      const t = await phase(urn, { builtin: "sum" });
      await assert.rejects(
        async () => t.runBundle(elements),
        (err: unknown) =>
          err instanceof OperationError &&
          err.transformId === "under-test" &&
          /cannot read the grouped values: state stream broken/.test(err.message),
      );
    }
  });
});

describe("the state-writing encoding (Beam Python's StateBackedIterableCoder with write_state)", () => {
  const coder = coderOf<unknown>(stateBacked(VARINT));

  test("blocks until the threshold, then a -1 marker and the length-prefixed token; the rest in state", () => {
    const state = new IterableState();
    // threshold 3: the block is cut after 4 one-byte elements (4 > 3), and 1 + 4 bytes > 3 → token.
    const bytes = coder.encode(new StateWritingIterable([1, 2, 3, 4, 5, 6], 3, state));
    assert.deepEqual(
      Buffer.from(bytes).toString("hex"),
      "ffffffff" +
        "0401020304" +
        "ffffffffffffffffff01" +
        "06" +
        Buffer.from("iter-0").toString("hex"),
    );
    assert.deepEqual([...(state.values.get("iter-0") ?? [])], [5, 6]);
  });

  test("below the threshold: blocks ended by 0; a plain iterable coder writes the array", () => {
    const state = new IterableState();
    assert.equal(
      Buffer.from(coder.encode(new StateWritingIterable([1, 2], 100, state))).toString("hex"),
      "ffffffff" + "020102" + "00",
    );
    assert.equal(
      Buffer.from(coder.encode(new StateWritingIterable([], 100, state))).toString("hex"),
      "ffffffff00",
    );
    assert.equal(
      Buffer.from(
        coderOf(iterable(VARINT)).encode(new StateWritingIterable([1, 2, 3, 4, 5], 1, state)),
      ).toString("hex"),
      "00000005" + "0102030405",
    );
    assert.equal(state.values.size, 0);
  });

  test("what it writes decodes back, prefix and pages", async () => {
    const state = new IterableState(5);
    const values = range(300, 100);
    const decoded = coder.decode(
      coder.encode(new StateWritingIterable(values, 64, state)),
      "nested",
      {
        stateReader: state,
      },
    );
    assert.ok(decoded instanceof StateBackedIterable);
    assert.ok(decoded.prefix.length > 0 && decoded.prefix.length < values.length);
    assert.deepEqual(await decoded.toArray(), values);
  });
});
