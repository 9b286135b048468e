/**
 * Descriptors written by Beam's other SDKs: the side-input window mapping fn
 * URNs that Beam's TypeScript and Go SDKs write.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { encodeGlobal, STR, valuesOf } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { setSideInput, sideInputDescriptor } from "../faults/support.js";
import { assertOk } from "./support.js";

let session: WorkerSession;
before(async () => {
  session = await startWorkerSession({ threads: 0 });
  setSideInput(session.runner, [1, 2, 3]);
});
after(() => session.stop());

for (const urn of ["beam:window_mapping_fn:global:v1", "beam:window_mapping_fn:identity:v1"]) {
  test(`a side input whose window_mapping_fn is ${urn} is read in the global window`, async () => {
    const { runner } = session;
    const id = urn.split(":")[2];
    runner.descriptors.set(id, sideInputDescriptor(id, runner.url, urn));
    const response = runner.processBundle(id, `b-${id}`);
    await runner.sendData(`b-${id}`, "source", encodeGlobal(STR, ["x", "y"]));
    assertOk(await response);
    assert.deepEqual(valuesOf(STR, await runner.output(`b-${id}`, "sink")), ["x=6", "y=6"]);
  });
}

test("an unknown window mapping fn fails its bundle with the URN named, and the worker goes on", async () => {
  const { runner } = session;
  runner.descriptors.set(
    "odd",
    sideInputDescriptor("odd", runner.url, "beam:window_mapping_fn:odd:v1"),
  );
  const response = runner.processBundle("odd", "b-odd");
  await runner.sendData("b-odd", "source", encodeGlobal(STR, ["x"]));
  assert.match((await response).error, /beam:window_mapping_fn:odd:v1/);
  runner.descriptors.set("plain", sideInputDescriptor("plain", runner.url));
  const ok = runner.processBundle("plain", "b-plain");
  await runner.sendData("b-plain", "source", encodeGlobal(STR, ["z"]));
  assertOk(await ok);
  assert.deepEqual(valuesOf(STR, await runner.output("b-plain", "sink")), ["z=6"]);
});
