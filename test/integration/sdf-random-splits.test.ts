/**
 * Every position exactly once under random splits, end to end: the real
 * worker process (inline and in pool threads) runs bundles of sized
 * restrictions while this runner sends ProcessBundleSplit requests at random
 * moments with random fractions; what each split hands back (residual roots,
 * and the input elements from the channel split's first residual) runs as new
 * bundles that are split at random again, until no work is left. Seeded.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import { STR, valuesOf } from "../support/descriptors.js";
import { resumeDescriptor, sizedElement, splitRequest } from "../support/sdf.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { Rng } from "../fuzz/prng.js";
import { assertOk } from "./support.js";

/** One output per claimed position; 2 ms per claim (so that splits land while elements run). */
const POSITIONS = `export default {
  initialRestriction(s) { return { start: 0n, stop: BigInt(s.length) }; },
  async process(s, ctx) {
    for (let i = ctx.tracker.currentRestriction().start; ctx.tracker.tryClaim(i); i++) {
      ctx.output(s + "@" + i);
      await new Promise((r) => setTimeout(r, 2));
    }
  },
};`;

const SEEDS = [1, 2, 3];

for (const threads of [0, 2]) {
  describe(`random splits, threads=${threads}`, () => {
    let session: WorkerSession;
    let next = 0;
    let splitsSeen = 0;
    before(async () => {
      session = await startWorkerSession({ threads });
      session.runner.descriptors.set("p", resumeDescriptor("p", session.runner.url, POSITIONS));
    });
    after(() => session.stop());

    /** Runs one bundle of `input` elements, splitting it at random; resolves with its outputs and the work handed back. */
    async function runSplitting(rng: Rng, input: Uint8Array[]) {
      const id = `rs-${threads}-${next++}`;
      const response = session.runner.processBundle("p", id);
      await session.runner.sendData(id, "source", Buffer.concat(input));
      let done = false;
      void response.finally(() => (done = true));
      const splits: fnApi.ProcessBundleSplitResponse[] = [];
      for (let n = 1 + rng.int(3); n > 0 && !done; n--) {
        await new Promise((r) => setTimeout(r, rng.int(40)));
        const answer = await session.runner.instruct(
          splitRequest(id, rng.int(1000) / 1000, input.length),
        );
        assertOk(answer);
        splits.push(answer.process_bundle_split);
      }
      assertOk(await response);
      const outputs = valuesOf(STR, await session.runner.output(id, "sink")) as string[];
      let stop = input.length;
      const handedBack: Uint8Array[] = [];
      for (const split of splits) {
        for (const root of split.residual_roots) handedBack.push(root.application.element);
        for (const channel of split.channel_splits) {
          assert.equal(channel.transform_id, "source");
          assert.ok(channel.first_residual_element <= stop, "splits only move the stop back");
          handedBack.push(...input.slice(channel.first_residual_element, stop));
          stop = channel.first_residual_element;
        }
      }
      return {
        outputs,
        handedBack,
        splits: splits.filter((s) => s.channel_splits.length > 0).length,
      };
    }

    for (const seed of SEEDS)
      test(`seed ${seed}: every position once, whatever the splits`, async () => {
        const rng = new Rng(seed * 7919 + threads);
        const words = Array.from({ length: 2 + rng.int(3) }, (_, w) =>
          `w${w}-`.padEnd(12 + rng.int(30), String.fromCharCode(97 + w)),
        );
        let work = words.map((w) => sizedElement(w, { start: 0n, stop: BigInt(w.length) }));
        const seen: string[] = [];
        let bundles = 0;
        let splits = 0;
        while (work.length > 0) {
          assert.ok(++bundles < 200, "the work ends");
          // Up to 3 elements a bundle, as a runner might cut the handed-back work.
          const take = 1 + rng.int(3);
          const result = await runSplitting(rng, work.slice(0, take));
          work = [...work.slice(take), ...result.handedBack];
          seen.push(...result.outputs);
          splits += result.splits;
        }
        const expected = words.flatMap((w) => [...w].map((_, i) => `${w}@${i}`));
        assert.deepEqual([...seen].sort(), [...expected].sort());
        splitsSeen += splits;
      });

    test("the splits handed work back (the seeds above were split, not run whole)", () => {
      assert.ok(splitsSeen > 0);
    });
  });
}
