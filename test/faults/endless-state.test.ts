/**
 * A broken runner whose state continuation tokens never end: a read is bounded
 * (firefly_max_state_read_bytes) and fails its bundle with a clear error; a
 * runner that answers the same token with no data again fails it at once. The
 * worker keeps serving.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { endpointsApi } from "../../proto/index.js";
import { jsonToStruct } from "../../src/boot/struct-json.js";
import { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, STR, valuesOf } from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk } from "../integration/support.js";
import { setSideInput, sideInputDescriptor } from "./support.js";

for (const threads of [0, 2]) {
  describe(`endless state reads, threads=${threads}`, () => {
    let runner: FakeRunner;
    let worker: WorkerProcess;

    before(async () => {
      runner = await FakeRunner.start();
      const url = new endpointsApi.ApiServiceDescriptor({ url: runner.url });
      runner.provisionInfo.control_endpoint = url;
      runner.provisionInfo.logging_endpoint = url;
      runner.provisionInfo.pipeline_options = jsonToStruct({
        options: { firefly_max_state_read_bytes: 1024 * 1024 },
      });
      worker = startWorker(runner.url, {
        threads,
        id: `endless-${threads}`,
        extraArgs: [`--provision_endpoint=${runner.url}`],
      });
      await runner.controlStream();
      runner.descriptors.set("side", sideInputDescriptor("side", runner.url));
      setSideInput(runner, [1, 2, 3]);
    });

    after(async () => {
      runner.closeControl();
      await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
      await worker.stop();
      runner.stop();
    });

    const run = async (id: string) => {
      const response = runner.processBundle("side", id);
      await runner.sendData(id, "source", encodeGlobal(STR, ["x"]));
      return response;
    };

    test("tokens that never end: the read stops at the bound and fails its bundle", async () => {
      runner.stateFault = "endless";
      const before = runner.stateRequests.get;
      const response = await run(`endless-${threads}`);
      runner.stateFault = undefined;
      assert.match(response.error, /continuation tokens do not end/);
      assert.match(response.error, /firefly_max_state_read_bytes/);
      assert.match(response.error, /iterable_side_input "join"\/"nums"/);
      // 1 MiB in 64 KiB pages: the 17th page passes the bound.
      assert.ok(
        runner.stateRequests.get - before <= 20,
        `${runner.stateRequests.get - before} reads`,
      );
    });

    test("the same token again with no data fails at once", async () => {
      runner.stateFault = "stuck";
      const response = await run(`stuck-${threads}`);
      runner.stateFault = undefined;
      assert.match(response.error, /same continuation token again/);
    });

    test("the worker goes on serving state reads", async () => {
      const response = await run(`fine-${threads}`);
      assertOk(response);
      assert.deepEqual(valuesOf(STR, await runner.output(`fine-${threads}`, "sink")), ["x=6"]);
    });
  });
}
