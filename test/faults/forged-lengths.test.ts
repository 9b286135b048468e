/**
 * Forged length prefixes in protobuf bytes the worker parses itself (transform
 * payloads): google-protobuf alone would loop over the claimed length for
 * minutes (proto/harden-decoder.ts); they must be clear errors instead, and
 * the worker must keep serving.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { pipelineApi } from "../../proto/index.js";
import { ProtobufLengthError } from "../../proto/harden-decoder.js";
import type { FakeRunner } from "../support/fake-runner.js";
import { linearDescriptor, STR } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk } from "../integration/support.js";
import { runUpper, upperDescriptor } from "./support.js";

/** A ParDoPayload whose do_fn.urn claims 2^31-1 bytes. */
const FORGED_INNER = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x61];
const FORGED_PARDO = new Uint8Array([0x0a, FORGED_INNER.length, ...FORGED_INNER]);

test(
  "a string whose length runs past its message is a ProtobufLengthError",
  { timeout: 10_000 },
  () => {
    assert.throws(
      () => pipelineApi.ParDoPayload.deserializeBinary(FORGED_PARDO),
      (err: unknown) =>
        err instanceof ProtobufLengthError &&
        /claims 2147483647 bytes, but only 1 remain/.test(err.message),
    );
    const valid = new pipelineApi.ParDoPayload({
      do_fn: new pipelineApi.FunctionSpec({ urn: "firefly:dofn:v1" }),
    });
    assert.equal(
      pipelineApi.ParDoPayload.deserializeBinary(valid.serializeBinary()).do_fn.urn,
      "firefly:dofn:v1",
    );
  },
);

let session: WorkerSession;
let runner: FakeRunner;

before(async () => {
  session = await startWorkerSession({ threads: 0 });
  runner = session.runner;
  runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
  runner.descriptors.set(
    "forged",
    linearDescriptor({
      id: "forged",
      url: runner.url,
      input: STR,
      steps: [{ id: "bad", urn: "beam:transform:pardo:v1", payload: FORGED_PARDO }],
    }),
  );
});

after(() => session.stop());

test(
  "a ParDo payload with a forged length fails its bundle clearly; the worker keeps serving",
  { timeout: 60_000 },
  async () => {
    const response = await runUpper(runner, "forged", "forged-1", ["x"]);
    assert.match(response.error, /"bad"/);
    assert.match(response.error, /malformed protobuf: a string field claims 2147483647 bytes/);
    const healthy = await runUpper(runner, "upper", "after-forged", ["ok"]);
    assertOk(healthy);
  },
);
