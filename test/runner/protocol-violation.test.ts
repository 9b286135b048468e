/**
 * The local runner is as strict as Beam Python's about data framing: a worker
 * that puts bytes in an `is_last` entry (which Beam Python's runner drops)
 * fails the pipeline with a protocol violation instead of losing them
 * silently. The worker here is a minimal hand-written one that frames its
 * outputs that way; Firefly's own worker never does (data-framing.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { fnApi } from "../../proto/index.js";
import { runPipeline } from "../../src/runner/index.js";
import type { WorkerLauncher } from "../../src/runner/workers.js";
import { kv, STR, tempFile, TestPipeline, VARINT } from "./support/test-pipeline.js";

const DATA_SINK_URN = "beam:runner:sink:v1";

/** Answers every ProcessBundle by sending one byte to each sink in the is_last entry. */
const lastEntryBytesWorker: WorkerLauncher = async ({ id, url }) => {
  const metadata = new grpc.Metadata();
  metadata.set("worker_id", id);
  const credentials = grpc.credentials.createInsecure();
  const control = new fnApi.BeamFnControlClient(url, credentials);
  const data = new fnApi.BeamFnDataClient(url, credentials);
  const dataCall = data.Data(metadata);
  dataCall.on("error", () => undefined);
  const call = control.Control(metadata);
  call.on("error", () => undefined);
  const descriptor = (descriptorId: string) =>
    new Promise<fnApi.ProcessBundleDescriptor>((resolve, reject) =>
      control.GetProcessBundleDescriptor(
        new fnApi.GetProcessBundleDescriptorRequest({ process_bundle_descriptor_id: descriptorId }),
        metadata,
        (err, d) => (err || !d ? reject(err) : resolve(d)),
      ),
    );
  call.on("data", async (request: fnApi.InstructionRequest) => {
    const instructionId = request.instruction_id;
    if (request.request !== "process_bundle") {
      call.write(new fnApi.InstructionResponse({ instruction_id: instructionId }));
      return;
    }
    const d = await descriptor(request.process_bundle.process_bundle_descriptor_id);
    for (const [transformId, transform] of d.transforms) {
      if (transform.spec?.urn !== DATA_SINK_URN) continue;
      dataCall.write(
        new fnApi.Elements({
          data: [
            new fnApi.Elements.Data({
              instruction_id: instructionId,
              transform_id: transformId,
              data: Uint8Array.of(0),
              is_last: true,
            }),
          ],
        }),
      );
    }
    call.write(
      new fnApi.InstructionResponse({
        instruction_id: instructionId,
        process_bundle: new fnApi.ProcessBundleResponse(),
      }),
    );
  });
  return {
    async stop() {
      call.end();
      dataCall.end();
      control.close();
      data.close();
    },
  };
};

test("a worker that sends bytes in an is_last entry fails the pipeline with a protocol violation", async () => {
  // A stage with an output to the runner: Create + Pair feed the GroupByKey.
  const p = new TestPipeline();
  const created = p.create("Create", ["a", "b"], STR);
  const pairs = p.pardo(
    "Pair",
    created,
    { source: "export default (w) => [{ key: w, value: 1 }]" },
    kv(STR, VARINT),
  );
  p.writeJsonLines("Write", p.groupByKey("Group", pairs), tempFile("violation.jsonl"));
  const result = await runPipeline(p.build(), { launchWorker: lastEntryBytesWorker });
  assert.equal(result.state, "FAILED");
  assert.match(
    result.error?.message ?? "",
    /protocol violation: the worker sent 1 bytes in the is_last entry of data stream/,
  );
});
