/**
 * Input of a bundle that never ran is released at once (not after the orphan
 * timeout), and progress/split requests for bundles that are not running are
 * answered empty, as Beam's Python harness answers them.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, linearDescriptor, STR, valuesOf } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk } from "../integration/support.js";
import { pardo, upperDescriptor } from "./support.js";

/** The worker's own count of inbound bytes it holds (from its status dump). */
async function inboundBuffered(runner: FakeRunner): Promise<number> {
  const status = await runner.requestStatus();
  const match = /inbound buffered: (\d+) bytes/.exec(status?.status_info ?? "");
  assert.ok(match, `status has the inbound bytes: ${status?.status_info}`);
  return Number(match[1]);
}

/** 8 MiB of strings, sent before the ProcessBundle request as runners may. */
const INPUT = encodeGlobal(
  STR,
  Array.from({ length: 8 * 1024 }, (_, i) => `${i}`.padEnd(1024, "x")),
);

async function earlyInputThenRequest(runner: FakeRunner, descriptorId: string, id: string) {
  await runner.sendData(id, "source", INPUT, [256 * 1024]);
  await new Promise((r) => setTimeout(r, 200)); // all of it buffered in the worker
  return runner.processBundle(descriptorId, id);
}

for (const threads of [0, 2]) {
  describe(`bundles that never run, threads=${threads}`, () => {
    let session: WorkerSession;
    let runner: FakeRunner;

    before(async () => {
      session = await startWorkerSession({ threads, status: true });
      runner = session.runner;
      runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
      runner.descriptors.set(
        "bad-setup",
        linearDescriptor({
          id: "bad-setup",
          url: runner.url,
          input: STR,
          steps: [
            pardo(
              "broken",
              "export default { setup() { throw new Error('setup failed on purpose'); }, process: (x) => [x] }",
            ),
          ],
        }),
      );
      // The worker opens its data stream with its first bundle: early data needs it open.
      const warmUp = runner.processBundle("upper", "warm-up");
      await runner.sendData("warm-up", "source", encodeGlobal(STR, ["a"]));
      assertOk(await warmUp);
    });
    after(() => session.stop());

    test("a DoFn whose setup() throws: the bundle fails and its input is released", async () => {
      const response = await earlyInputThenRequest(runner, "bad-setup", "setup-1");
      assert.match(response.error, /setup failed on purpose/);
      assert.equal(await inboundBuffered(runner), 0);
    });

    test("a descriptor the runner cannot serve: the bundle fails and its early input is released", async () => {
      const response = await earlyInputThenRequest(runner, "no-such-descriptor", "unknown-1");
      assert.match(response.error, /no-such-descriptor/);
      assert.equal(await inboundBuffered(runner), 0);
    });

    test("after such failures a good bundle with the same amount of input runs", async () => {
      const response = runner.processBundle("upper", "good-1");
      await runner.sendData("good-1", "source", INPUT, [256 * 1024]);
      assertOk(await response);
      assert.equal(valuesOf(STR, await runner.output("good-1", "sink")).length, 8 * 1024);
    });

    test("progress and split of a bundle that is not running are answered empty", async () => {
      for (const id of ["good-1", "never-seen"]) {
        const progress = await runner.instruct(
          new fnApi.InstructionRequest({
            process_bundle_progress: new fnApi.ProcessBundleProgressRequest({ instruction_id: id }),
          }),
        );
        assert.equal(progress.error, "");
        assert.ok(progress.has_process_bundle_progress);
        assert.equal(progress.process_bundle_progress.monitoring_infos.length, 0);
        const split = await runner.instruct(
          new fnApi.InstructionRequest({
            process_bundle_split: new fnApi.ProcessBundleSplitRequest({
              instruction_id: id,
              desired_splits: new Map([
                [
                  "source",
                  new fnApi.ProcessBundleSplitRequest.DesiredSplit({ fraction_of_remainder: 0.5 }),
                ],
              ]),
            }),
          }),
        );
        assert.equal(split.error, "");
        assert.ok(split.has_process_bundle_split);
        assert.equal(split.process_bundle_split.channel_splits.length, 0);
        assert.equal(split.process_bundle_split.primary_roots.length, 0);
      }
    });
  });
}
