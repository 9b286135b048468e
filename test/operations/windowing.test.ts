/**
 * window_into, map_windows and merge_windows (standard and user window fns)
 * against in-memory inputs.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  GLOBAL_WINDOW,
  intervalWindow,
  type BoundedWindow,
  type IntervalWindow,
  type KV,
} from "../../coders/index.js";
import { OperationError, UserCodeError } from "../../operations/errors.js";
import { MAP_WINDOWS_URN } from "../../operations/windowing/map-windows.js";
import { MERGE_WINDOWS_URN, type MergeResult } from "../../operations/windowing/merge-windows.js";
import { FIREFLY_WINDOWFN_URN } from "../../operations/windowing/user-window-fn.js";
import { WINDOW_INTO_URN } from "../../operations/windowing/window-into.js";
import { pipelineApi, windowFnsApi, wkt } from "../../proto/index.js";
import { BYTES, INTERVAL, iterable, kv, STR } from "../support/descriptors.js";
import { buildOperation, json, setUpOperation, wv } from "./support.js";

const ms = (millis: number) =>
  new wkt.Duration({ seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1e6 });
const fixed = (size: number, offset = 0) =>
  new pipelineApi.FunctionSpec({
    urn: "beam:window_fn:fixed_windows:v1",
    payload: new windowFnsApi.FixedWindowsPayload({
      size: ms(size),
      offset: new wkt.Timestamp({
        seconds: Math.floor(offset / 1000),
        nanos: (offset % 1000) * 1e6,
      }),
    }).serializeBinary(),
  });
const sliding = (size: number, period: number) =>
  new pipelineApi.FunctionSpec({
    urn: "beam:window_fn:sliding_windows:v1",
    payload: new windowFnsApi.SlidingWindowsPayload({
      size: ms(size),
      period: ms(period),
    }).serializeBinary(),
  });
const sessions = (gap: number) =>
  new pipelineApi.FunctionSpec({
    urn: "beam:window_fn:session_windows:v1",
    payload: new windowFnsApi.SessionWindowsPayload({ gap_size: ms(gap) }).serializeBinary(),
  });
const globalFn = new pipelineApi.FunctionSpec({ urn: "beam:window_fn:global_windows:v1" });
const userFn = (spec: object) =>
  new pipelineApi.FunctionSpec({ urn: FIREFLY_WINDOWFN_URN, payload: json(spec) });
const windowInto = (fn: pipelineApi.FunctionSpec) =>
  new pipelineApi.WindowIntoPayload({ window_fn: fn }).serializeBinary();
const iw = (start: number, end: number) => intervalWindow(BigInt(start), BigInt(end));

describe("window_into", () => {
  const into = (fn: pipelineApi.FunctionSpec) =>
    setUpOperation({ urn: WINDOW_INTO_URN, payload: windowInto(fn), inputs: { in: STR } });

  test("fixed windows: each element lands in the window of its timestamp (offset, negative)", async () => {
    const t = await into(fixed(10_000, 2_000));
    await t.runBundle([
      wv("a", { timestamp: 2_000n }),
      wv("b", { timestamp: 11_999n }),
      wv("c", { timestamp: 12_000n }),
      wv("d", { timestamp: -1n }),
    ]);
    const out = t.out().elements;
    assert.deepEqual(
      out.map((e) => [e.value, e.timestamp, e.windows]),
      [
        ["a", 2_000n, [iw(2_000, 12_000)]],
        ["b", 11_999n, [iw(2_000, 12_000)]],
        ["c", 12_000n, [iw(12_000, 22_000)]],
        ["d", -1n, [iw(-8_000, 2_000)]],
      ],
    );
  });

  test("sliding windows: an element is in size/period windows, latest start first", async () => {
    const t = await into(sliding(30, 10));
    await t.runBundle([wv("x", { timestamp: 25n })]);
    assert.deepEqual(t.out().elements[0].windows, [iw(20, 50), iw(10, 40), iw(0, 30)]);
  });

  test("sessions: each element gets [t, t + gap); global windows: the global window", async () => {
    const s = await into(sessions(100));
    await s.runBundle([wv("x", { timestamp: 7n, windows: [iw(0, 5)] })]);
    assert.deepEqual(s.out().elements[0].windows, [iw(7, 107)]);
    const g = await into(globalFn);
    await g.runBundle([wv("y", { timestamp: 7n, windows: [iw(0, 5)] })]);
    assert.deepEqual(g.out().elements[0].windows, [GLOBAL_WINDOW]);
  });

  test("an element in several windows is assigned once per input window", async () => {
    const t = await into(fixed(10));
    await t.runBundle([wv("x", { timestamp: 5n, windows: [iw(0, 100), iw(50, 150)] })]);
    assert.equal(t.out().elements.length, 2);
    for (const e of t.out().elements) assert.deepEqual(e.windows, [iw(0, 10)]);
  });

  test("user window fn (firefly:windowfn:v1): sees timestamp, value and window; config reaches setup", async () => {
    const t = await into(
      userFn({
        source: `export default {
          setup(config) { this.width = BigInt(config.width); },
          assignWindows(ts, value, window) {
            const start = ts - (ts % this.width);
            const out = [{ start, end: start + this.width }];
            if (value === "twice") out.push({ start: 1000, end: 2000 });
            if (window.kind === "global") out.push(window);
            return out;
          },
        };`,
        config: { width: 50 },
      }),
    );
    await t.runBundle([
      wv("once", { timestamp: 120n, windows: [iw(0, 1)] }),
      wv("twice", { timestamp: 120n, windows: [iw(0, 1)] }),
      wv("g", { timestamp: 10n }),
    ]);
    assert.deepEqual(
      t.out().elements.map((e) => e.windows),
      [[iw(100, 150)], [iw(100, 150), iw(1000, 2000)], [iw(0, 50), GLOBAL_WINDOW]],
    );
  });

  test("a user window fn that throws or returns garbage fails with a UserCodeError naming the transform", async () => {
    const thrower = await into(
      userFn({
        source: "export default () => { throw new Error('no windows today'); }",
      }),
    );
    await thrower.op.startBundle?.();
    assert.throws(
      () => thrower.op.process(wv("x")),
      (err: unknown) =>
        err instanceof UserCodeError &&
        err.transformId === "under-test" &&
        err.method === "assignWindows" &&
        /no windows today/.test((err.cause as Error).message),
    );
    const garbage = await into(userFn({ source: "export default () => [{ start: 5, end: 5 }]" }));
    assert.throws(
      () => garbage.op.process(wv("x")),
      (err: unknown) =>
        err instanceof UserCodeError && /\[5, 5\) is empty/.test((err.cause as Error).message),
    );
  });

  test("bad payloads are OperationErrors naming the transform and what is wrong", async () => {
    const build = (payload: Uint8Array) =>
      buildOperation({ urn: WINDOW_INTO_URN, payload, inputs: { in: STR } });
    assert.throws(
      () => build(new Uint8Array([0xff, 0xff, 0xff])),
      (err: unknown) =>
        err instanceof OperationError &&
        /transform "under-test" \(beam:transform:window_into:v1\)/.test(err.message) &&
        /not a WindowIntoPayload/.test(err.message),
    );
    assert.throws(() => build(new Uint8Array()), /"under-test".*has no window_fn/);
    assert.throws(
      () => build(windowInto(new pipelineApi.FunctionSpec({ urn: "beam:window_fn:nope:v1" }))),
      /"under-test".*window fn URN "beam:window_fn:nope:v1" is not supported/,
    );
    assert.throws(() => build(windowInto(fixed(0))), /"under-test".*size must be positive/);
    const badUser = build(windowInto(userFn({ source: "export default 42" })));
    await assert.rejects(
      badUser.setup(),
      /"under-test".*not a function, window fn object or class/,
    );
    const notJson = build(
      windowInto(
        new pipelineApi.FunctionSpec({ urn: FIREFLY_WINDOWFN_URN, payload: json("x").slice(1) }),
      ),
    );
    await assert.rejects(notJson.setup(), /"under-test".*WindowFn payload is not UTF-8 JSON/);
  });
});

describe("map_windows", () => {
  const mapWindows = (fn: pipelineApi.FunctionSpec) =>
    setUpOperation({
      urn: MAP_WINDOWS_URN,
      payload: fn.serializeBinary(),
      inputs: { in: kv(BYTES, INTERVAL) },
    });
  const nonce = new Uint8Array([1, 2]);

  test("fixed, sliding and global mappings of a main-input window; the nonce is kept", async () => {
    const cases: [pipelineApi.FunctionSpec, BoundedWindow, BoundedWindow][] = [
      [fixed(10), iw(13, 14), iw(10, 20)],
      [sliding(30, 10), iw(0, 26), iw(20, 50)],
      [globalFn, iw(0, 26), GLOBAL_WINDOW],
      [new pipelineApi.FunctionSpec(), iw(0, 26), GLOBAL_WINDOW],
    ];
    for (const [fn, main, side] of cases) {
      const t = await mapWindows(fn);
      await t.runBundle([wv({ key: nonce, value: main })]);
      assert.deepEqual(t.out().values, [{ key: nonce, value: side }], fn.urn);
    }
  });

  test("a user fn's mapWindow is used; sessions cannot map; a non-KV input is an error", async () => {
    const user = await mapWindows(
      userFn({
        source: `export default {
          assignWindows: () => [],
          mapWindow: (w) => ({ start: w.start * 2n, end: w.end * 2n }),
        };`,
      }),
    );
    await user.runBundle([wv({ key: nonce, value: iw(3, 4) })]);
    assert.deepEqual(user.out().values, [{ key: nonce, value: iw(6, 8) }]);

    const noMap = await mapWindows(userFn({ source: "export default () => []" }));
    assert.throws(
      () => noMap.op.process(wv({ key: nonce, value: iw(3, 4) })),
      (err: unknown) => err instanceof UserCodeError && err.method === "mapWindow",
    );
    const s = await mapWindows(sessions(10));
    assert.throws(
      () => s.op.process(wv({ key: nonce, value: iw(3, 4) })),
      /"under-test".*cannot map window: session windows cannot be used as side-input windows/,
    );
    assert.throws(
      () => s.op.process(wv("plain")),
      /"under-test".*expected a KV<nonce, MainInputWindow> input element/,
    );
  });

  test("a payload that is not a FunctionSpec is an OperationError", () => {
    assert.throws(
      () =>
        buildOperation({
          urn: MAP_WINDOWS_URN,
          payload: new Uint8Array([0x0a, 0xff]),
          inputs: { in: kv(BYTES, INTERVAL) },
        }),
      /"under-test" \(beam:transform:map_windows:v1\): payload is not a FunctionSpec/,
    );
  });
});

describe("merge_windows", () => {
  const merge = async (fn: pipelineApi.FunctionSpec, windows: BoundedWindow[]) => {
    const t = await setUpOperation({
      urn: MERGE_WINDOWS_URN,
      payload: fn.serializeBinary(),
      inputs: { in: kv(STR, iterable(INTERVAL)) },
    });
    await t.runBundle([wv({ key: "nonce-1", value: windows })]);
    const [out] = t.out().values as KV<string, MergeResult>[];
    assert.equal(out.key, "nonce-1");
    return out.value;
  };
  const sorted = (ws: BoundedWindow[]) =>
    [...(ws as IntervalWindow[])].sort((a, b) => Number(a.start - b.start));

  test("sessions: overlapping windows merge transitively; touching and distant windows do not", async () => {
    const result = await merge(sessions(10), [
      iw(30, 40),
      iw(0, 10),
      iw(5, 15),
      iw(14, 24),
      iw(40, 50), // touches [30, 40): stays apart
      iw(100, 110),
    ]);
    assert.deepEqual(sorted(result.key), [iw(30, 40), iw(40, 50), iw(100, 110)]);
    assert.equal(result.value.length, 1);
    assert.deepEqual(result.value[0].key, iw(0, 24));
    assert.deepEqual(sorted(result.value[0].value), [iw(0, 10), iw(5, 15), iw(14, 24)]);
  });

  test("every distinct original window is in exactly one set; duplicates count once", async () => {
    const input = [iw(0, 10), iw(0, 10), iw(8, 20), iw(50, 60), iw(55, 56), iw(70, 80)];
    const result = await merge(sessions(10), input);
    const seen = [...result.key, ...result.value.flatMap((m) => m.value)];
    assert.equal(seen.length, 5);
    assert.deepEqual(
      result.value.map((m) => m.key),
      [iw(0, 20), iw(50, 60)],
    );
    assert.deepEqual(result.key, [iw(70, 80)]);
  });

  test("a non-merging window fn (fixed, user) leaves every window unmerged", async () => {
    for (const fn of [fixed(10), userFn({ source: "export default () => []" })]) {
      const result = await merge(fn, [iw(0, 10), iw(5, 15)]);
      assert.deepEqual(result, { key: [iw(0, 10), iw(5, 15)], value: [] }, fn.urn);
    }
  });

  test("an unknown window fn is an OperationError naming the transform", () => {
    assert.throws(
      () =>
        buildOperation({
          urn: MERGE_WINDOWS_URN,
          payload: new pipelineApi.FunctionSpec({
            urn: "beam:window_fn:mystery:v1",
          }).serializeBinary(),
          inputs: { in: kv(STR, iterable(INTERVAL)) },
        }),
      (err: unknown) =>
        err instanceof OperationError &&
        err.transformId === "under-test" &&
        /window fn URN "beam:window_fn:mystery:v1" is not supported/.test(err.message),
    );
  });
});
