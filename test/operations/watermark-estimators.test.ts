/** The built-in watermark estimators, their state, and the state's encoding in the restriction pair. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MIN_TIMESTAMP } from "../../coders/index.js";
import {
  builtInEstimator,
  checkEstimator,
  decodeEstimatorState,
  encodeEstimatorState,
  outputWatermarks,
  toTimestamp,
  WatermarkHandle,
} from "../../operations/sdf/watermark-estimators.js";

test("manual: starts from its state, only moves forward, and its state is its watermark", () => {
  const e = builtInEstimator("manual", null);
  assert.equal(e.currentWatermark(), MIN_TIMESTAMP);
  assert.equal(e.getState(), null);
  const handle = new WatermarkHandle(e);
  handle.set(2000);
  handle.set(1500n);
  assert.equal(handle.current(), 2000n);
  assert.equal(e.getState(), 2000);
  assert.equal(builtInEstimator("manual", 2000).currentWatermark(), 2000n);
});

test("monotonic: the largest observed timestamp; set is refused", () => {
  const e = builtInEstimator("monotonic", 10);
  e.observeTimestamp!(5n);
  e.observeTimestamp!(30n);
  e.observeTimestamp!(20n);
  assert.equal(e.currentWatermark(), 30n);
  assert.throws(() => new WatermarkHandle(e).set(40), /needs the manual estimator/);
});

test("wall-time: the clock, never behind its state", () => {
  const before = BigInt(Date.now());
  const e = builtInEstimator("wall-time", null);
  assert.ok(e.currentWatermark() >= before);
  const future = Date.now() + 3_600_000;
  assert.equal(builtInEstimator("wall-time", future).currentWatermark(), BigInt(future));
});

test("a built-in reports each new watermark once (what the shared cell publishes)", () => {
  const e = builtInEstimator("monotonic", null);
  const seen: bigint[] = [];
  e.onChange = (w) => seen.push(w);
  for (const t of [3n, 3n, 1n, 7n]) e.observeTimestamp!(t);
  assert.deepEqual(seen, [3n, 7n]);
});

test("unknown names, bad states, bad timestamps and incomplete estimators are named", () => {
  assert.throws(() => builtInEstimator("sloppy", null), /"sloppy" is not a built-in estimator/);
  assert.throws(() => builtInEstimator("manual", "soon"), /the state must be a timestamp in ms/);
  assert.throws(() => toTimestamp(Number.NaN, "w"), /w must be a timestamp/);
  assert.throws(() => toTimestamp(2n ** 62n, "w"), /outside Beam's timestamps/);
  assert.throws(
    () => checkEstimator({ currentWatermark: () => 0n }),
    /currentWatermark\(\) and getState\(\)/,
  );
  assert.throws(() => checkEstimator(null), /returned null/);
});

test("the state travels as JSON text; null stays null", () => {
  assert.equal(encodeEstimatorState(null), null);
  assert.equal(encodeEstimatorState(undefined), null);
  const bytes = encodeEstimatorState({ n: 3, at: 12n });
  assert.equal(Buffer.from(bytes!).toString(), '{"n":3,"at":12}');
  assert.deepEqual(decodeEstimatorState(bytes), { n: 3, at: 12 });
  assert.equal(decodeEstimatorState(null), null);
  assert.throws(() => decodeEstimatorState(new Uint8Array([0xff])), /is not JSON text/);
  assert.throws(() => decodeEstimatorState("1"), /not the bytes/);
  assert.throws(() => encodeEstimatorState(() => 1), /not JSON-serializable/);
});

test("output watermarks: every output at the watermark, none before the first", () => {
  assert.equal(outputWatermarks(["out"], undefined).size, 0);
  assert.equal(outputWatermarks(["out"], MIN_TIMESTAMP).size, 0);
  const m = outputWatermarks(["a", "b"], -1500n);
  assert.deepEqual([...m.keys()], ["a", "b"]);
  assert.equal(m.get("a")!.seconds, -2);
  assert.equal(m.get("a")!.nanos, 500_000_000);
});
