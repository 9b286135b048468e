/**
 * Bundles queued behind a busy thread pool must not block running bundles:
 * with 2 threads, 8 concurrent 32 MiB bundles whose inputs the runner interleaves on
 * one data stream (round-robin, 256 KiB entries) together exceed the inbound
 * flow-control limit (64 MiB). The queued bundles' input may not pause the
 * stream the running bundles read from (it deadlocked all 8 before).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, STR, valuesOf } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk } from "../integration/support.js";
import { upperDescriptor, within } from "./support.js";

const BUNDLES = 8;
const ELEMENTS = 32 * 1024; // 32 MiB of 1 KiB strings per bundle, 256 MiB in all
const ENTRY_BYTES = 256 * 1024;
/** Far above the few seconds this takes: a deadlock never answers. */
const ANSWER_BOUND_MS = 120_000;

function entry(id: string, bytes: Uint8Array, isLast: boolean): fnApi.Elements {
  return new fnApi.Elements({
    data: [
      new fnApi.Elements.Data({
        instruction_id: id,
        transform_id: "source",
        data: bytes,
        is_last: isLast,
      }),
    ],
  });
}

let session: WorkerSession;
let runner: FakeRunner;

before(async () => {
  session = await startWorkerSession({ threads: 2 });
  runner = session.runner;
  runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
  const warmUp = runner.processBundle("upper", "warm-up");
  await runner.sendData("warm-up", "source", encodeGlobal(STR, ["a"]));
  assertOk(await warmUp);
});
after(() => session.stop());

test("8 bundles on 2 threads with interleaved 32 MiB inputs all finish", async () => {
  const ids = Array.from({ length: BUNDLES }, (_, i) => `q${i}`);
  const inputs = ids.map((id) =>
    encodeGlobal(
      STR,
      Array.from({ length: ELEMENTS }, (_, j) => `${id}-${j}`.padEnd(1024, ".")),
    ),
  );
  const responses = ids.map((id) => runner.processBundle("upper", id));
  const sendAll = async () => {
    for (let offset = 0; ; offset += ENTRY_BYTES) {
      const data = ids
        .map((id, i) => ({ id, bytes: inputs[i]!.subarray(offset, offset + ENTRY_BYTES) }))
        .filter((e) => e.bytes.length > 0);
      if (data.length === 0) break;
      for (const { id, bytes } of data) await runner.sendElements(entry(id, bytes, false));
    }
    for (const id of ids) await runner.sendElements(entry(id, new Uint8Array(), true));
    return Promise.all(responses);
  };
  // The runner's sends stall too when the worker stops reading: bound both.
  const answered = await within(sendAll(), ANSWER_BOUND_MS, "deadlock");
  assert.notEqual(answered, "deadlock", "every input is read and every bundle is answered");
  for (const response of answered as fnApi.InstructionResponse[]) assertOk(response);
  for (const id of ids) {
    const out = valuesOf<string>(STR, await runner.output(id, "sink"));
    assert.equal(out.length, ELEMENTS);
    assert.equal(out[ELEMENTS - 1], `${id}-${ELEMENTS - 1}`.padEnd(1024, ".").toUpperCase());
  }
});
