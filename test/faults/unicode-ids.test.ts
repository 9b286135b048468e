/**
 * Instruction ids that are not valid Unicode (a lone surrogate, as fuzzed
 * bytes decode to) cannot cross the wire as they are: UTF-8 drops the lone
 * surrogate. The worker answers under the id it received, and the fake
 * runner matches answers by that wire form (it once waited forever).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";
import { startWorker } from "../support/worker-process.js";
import { within } from "./support.js";

test("an instruction id with a lone surrogate is answered under its wire form", async () => {
  const runner = await FakeRunner.start();
  const worker = startWorker(runner.url, { threads: 0 });
  try {
    const request = new fnApi.InstructionRequest({
      instruction_id: "byt\ud973-212",
      harness_monitoring_infos: new fnApi.HarnessMonitoringInfosRequest(),
    });
    const response = await within(runner.instructAsIs(request), 10_000, undefined);
    assert.ok(response, "no answer matched");
    assert.equal(response.error, "");
    assert.notEqual(response.instruction_id, request.instruction_id);
    assert.equal(
      response.instruction_id,
      fnApi.InstructionRequest.deserializeBinary(request.serializeBinary()).instruction_id,
    );
  } finally {
    await worker.stop();
    runner.stop();
  }
});
