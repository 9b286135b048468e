/** Operation plugins: loaded only for descriptors that need them, once; the batch plugin's test. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import { loadOperationPlugins, registerOperationPlugin } from "../../operations/registry.js";
import "../../operations/index.js";
import { DATA_SINK_URN } from "../../operations/data-sink.js";
import { buildGraph } from "../../harness/bundle/graph-builder.js";
import { noBundleServices } from "./support.js";
import { dofnPayload, linearDescriptor, pardoStep, STR } from "../support/descriptors.js";

test("a plugin loads when a descriptor needs it, and only once", async () => {
  let loads = 0;
  registerOperationPlugin({
    name: "test plugin",
    needed: (d) => d.id === "needs-it",
    load: async () => void loads++,
  });
  await loadOperationPlugins(new fnApi.ProcessBundleDescriptor({ id: "plain" }));
  assert.equal(loads, 0);
  await Promise.all([
    loadOperationPlugins(new fnApi.ProcessBundleDescriptor({ id: "needs-it" })),
    loadOperationPlugins(new fnApi.ProcessBundleDescriptor({ id: "needs-it" })),
  ]);
  assert.equal(loads, 1);
});

test("the batch operations (and Apache Arrow) load only for a descriptor with a batch DoFn", async () => {
  /** Whether the descriptor's sink would take batches (only once the batch operations are loaded). */
  const sinkTakesBatches = (descriptor: fnApi.ProcessBundleDescriptor) =>
    buildGraph(descriptor, () => noBundleServices()).operations.some(
      (op) => op.urn === DATA_SINK_URN && op.takesBatches === true,
    );
  const plain = linearDescriptor({
    id: "plain",
    url: "127.0.0.1:1",
    input: STR,
    steps: [pardoStep("p", "export default (x) => [x]")],
  });
  await loadOperationPlugins(plain);
  assert.equal(sinkTakesBatches(plain), false, "the batch operations are not loaded");
  const batch = linearDescriptor({
    id: "batch",
    url: "127.0.0.1:1",
    input: STR,
    steps: [
      {
        id: "b",
        urn: "beam:transform:pardo:v1",
        payload: dofnPayload({ source: "export default { processBatch: (b) => b };", batch: {} }),
      },
    ],
  });
  await loadOperationPlugins(batch);
  assert.equal(sinkTakesBatches(batch), true, "the sink encodes batches now");
});
