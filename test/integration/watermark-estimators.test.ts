/**
 * Watermark estimators of splittable DoFns in the real worker process, inline
 * and in pool threads: the initial state paired with the restriction, the
 * estimator's state carried on to residuals (self-checkpoints and a runner's
 * split inside the running element) with its watermark as the residual's
 * output watermarks, ctx.watermark, custom estimators, and errors.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi, type wkt } from "../../proto/index.js";
import { encodeGlobal, STR } from "../support/descriptors.js";
import {
  decodeSized,
  expandedDescriptor,
  resumeDescriptor,
  sizedElement,
  splitRequest,
} from "../support/sdf.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk, runStringBundle } from "./support.js";

const RANGE = `initialRestriction(s) { return { start: 0n, stop: BigInt(s.length) }; },`;

/** Manual: each claim sets the watermark to 1000 + 10·i; "cp…" checkpoints after 2 claims, "slow…" takes 40 ms a claim. */
const MANUAL = `export default {
  watermarkEstimator: "manual",
  ${RANGE}
  initialWatermarkEstimatorState(s, r) { return 1000; },
  async process(s, ctx) {
    const out = [];
    for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
      out.push(s + "@" + i + " wm=" + ctx.watermark.current());
      ctx.watermark.set(1000 + Number(i) * 10);
      if (s.startsWith("cp") && out.length === 2) { ctx.resumeAfter(0); break; }
      if (s.startsWith("slow")) await new Promise((r) => setTimeout(r, 40));
    }
    return out;
  },
};`;

/** Monotonic: outputs at 5000 + i; checkpoints after 3 claims. */
const MONOTONIC = `export default {
  watermarkEstimator: "monotonic",
  ${RANGE}
  process(s, ctx) {
    let n = 0;
    for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
      ctx.outputWithTimestamp(s + "@" + i, 5000 + Number(i));
      if (++n === 3) { ctx.resumeAfter(0); break; }
    }
  },
};`;

/** Its own estimator: counts observed timestamps (the element's and each output's); 100 ms of watermark each. */
const CUSTOM = `export default {
  ${RANGE}
  createWatermarkEstimator(state) {
    let n = state === null ? 0 : state.n;
    return {
      currentWatermark: () => BigInt(n * 100),
      getState: () => ({ n }),
      observeTimestamp() { n++; },
    };
  },
  process(s, ctx) {
    for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
      ctx.output(s + "@" + i);
      if (i === 1n) { ctx.resumeAfter(0); break; }
    }
  },
};`;

const BOGUS = `export default { watermarkEstimator: "bogus", ${RANGE} process() {} };`;
const SET_WITHOUT_MANUAL = `export default {
  watermarkEstimator: "monotonic",
  ${RANGE}
  process(s, ctx) { ctx.tracker.tryClaim(0n); ctx.watermark.set(5); },
};`;

const json = (bytes: Uint8Array | null) =>
  bytes === null ? null : (JSON.parse(Buffer.from(bytes).toString("utf8")) as unknown);
const millis = (t: wkt.Timestamp | undefined) =>
  t === undefined ? undefined : t.seconds * 1000 + t.nanos / 1e6;

for (const threads of [0, 2]) {
  describe(`watermark estimators, threads=${threads}`, () => {
    let session: WorkerSession;
    let next = 0;
    before(async () => {
      session = await startWorkerSession({ threads });
      const url = session.runner.url;
      for (const d of [
        expandedDescriptor("manual", url, MANUAL),
        resumeDescriptor("manual-resume", url, MANUAL),
        expandedDescriptor("monotonic", url, MONOTONIC),
        expandedDescriptor("custom", url, CUSTOM),
        resumeDescriptor("custom-resume", url, CUSTOM),
        expandedDescriptor("bogus", url, BOGUS),
        expandedDescriptor("set-without-manual", url, SET_WITHOUT_MANUAL),
      ])
        session.runner.descriptors.set(d.id, d);
    });
    after(() => session.stop());

    const run = (descriptorId: string, input: Uint8Array) =>
      runStringBundle(session, descriptorId, `wm-${threads}-${next++}`, input);

    function onlyResidual(response: fnApi.InstructionResponse) {
      const roots = response.process_bundle.residual_roots;
      assert.equal(roots.length, 1);
      const app = roots[0]!.application;
      return {
        app,
        value: decodeSized(app.element),
        watermark: millis(app.output_watermarks.get("out")),
      };
    }

    test("manual: starts from the initial state; a checkpoint carries the watermark set so far on, as state and as output watermark", async () => {
      const first = await run("manual", encodeGlobal(STR, ["cp-abcd"]));
      assertOk(first.response);
      assert.deepEqual(first.output, ["cp-abcd@0 wm=1000", "cp-abcd@1 wm=1000"]);
      const { app, value, watermark } = onlyResidual(first.response);
      assert.deepEqual(value.key.value.key, { start: 2n, stop: 7n });
      assert.equal(json(value.key.value.value), 1010, "the residual's estimator state");
      assert.equal(watermark, 1010, "the residual's output watermark");
      assert.deepEqual([...app.output_watermarks.keys()], ["out"]);
      const resumed = await run("manual-resume", app.element);
      assertOk(resumed.response);
      assert.deepEqual(resumed.output, ["cp-abcd@2 wm=1010", "cp-abcd@3 wm=1020"]);
      assert.equal(onlyResidual(resumed.response).watermark, 1030);
    });

    test("monotonic: the watermark is the largest output timestamp", async () => {
      const { response, output } = await run("monotonic", encodeGlobal(STR, ["abcdef"]));
      assertOk(response);
      assert.deepEqual(output, ["abcdef@0", "abcdef@1", "abcdef@2"]);
      const { value, watermark } = onlyResidual(response);
      assert.equal(watermark, 5002);
      assert.equal(json(value.key.value.value), 5002);
    });

    test("a DoFn's own estimator: its getState goes on with the residual, and resumes from there", async () => {
      const { response } = await run("custom", encodeGlobal(STR, ["wxyz"]));
      assertOk(response);
      // observed: the element's timestamp and two outputs
      const { app, value, watermark } = onlyResidual(response);
      assert.deepEqual(json(value.key.value.value), { n: 3 });
      assert.equal(watermark, 300);
      const resumed = await run("custom-resume", app.element);
      assertOk(resumed.response);
      assert.deepEqual(resumed.output, ["wxyz@2", "wxyz@3"]);
      assert.equal(resumed.response.process_bundle.residual_roots.length, 0);
    });

    test("a runner's split inside the running element: the residual goes on from the estimator's watermark now, the primary from its start", async () => {
      const id = `wm-${threads}-split`;
      const response = session.runner.processBundle("manual-resume", id);
      const start = Buffer.from("1000");
      await session.runner.sendData(
        id,
        "source",
        sizedElement("slow-abcdefghijklmno", { start: 0n, stop: 20n }, start),
      );
      await new Promise((r) => setTimeout(r, 300)); // a few positions claimed
      const split = await session.runner.instruct(splitRequest(id, 0.5, 1));
      assertOk(split);
      const body = split.process_bundle_split;
      assert.equal(body.residual_roots.length, 1);
      const primary = decodeSized(body.primary_roots[0]!.element);
      const residualApp = body.residual_roots[0]!.application;
      const residual = decodeSized(residualApp.element);
      assert.equal(json(primary.key.value.value), 1000, "the primary keeps its initial state");
      const state = json(residual.key.value.value) as number;
      assert.ok(state > 1000 && state < 1200, `the residual's state is a watermark set: ${state}`);
      assert.equal(millis(residualApp.output_watermarks.get("out")), state);
      assertOk(await response);
      const resumed = await run("manual-resume", residualApp.element);
      assertOk(resumed.response);
      assert.equal(
        resumed.output[0],
        `slow-abcdefghijklmno@${residual.key.value.key.start} wm=${state}`,
      );
    });

    test("errors name the estimator; the worker goes on", async () => {
      const bogus = await run("bogus", encodeGlobal(STR, ["ab"]));
      assert.match(
        bogus.response.error,
        /watermarkEstimator "bogus" is not a built-in estimator \("manual", "monotonic", "wall-time"\)/,
      );
      const set = await run("set-without-manual", encodeGlobal(STR, ["a"]));
      assert.match(set.response.error, /ctx\.watermark\.set needs the manual estimator/);
      const ok = await run("manual", encodeGlobal(STR, ["fine"]));
      assertOk(ok.response);
      assert.equal(ok.output.length, 4);
    });
  });
}
