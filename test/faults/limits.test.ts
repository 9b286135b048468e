/**
 * Limits against the real worker process: gRPC message sizes and keepalive
 * as Beam's harnesses set them, a 10 MiB element spanning many Data
 * messages, a state page larger than gRPC's 4 MiB default, the configurable
 * cap on one element's size, and bounded inbound buffering.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  channelOptions,
  DEFAULT_GRPC_SETTINGS,
  grpcSettingsFromOptions,
} from "../../harness/grpc-settings.js";
import { FakeRunner } from "../support/fake-runner.js";
import { BYTES, encodeGlobal, linearDescriptor, STR, valuesOf } from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk, until } from "../integration/support.js";
import { pardo, runUpper, setSideInput, sideInputDescriptor, upperDescriptor } from "./support.js";

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let runner: FakeRunner;
let worker: WorkerProcess;

before(async () => {
  runner = await FakeRunner.start();
  worker = startWorker(runner.url, {
    threads: 0,
    extraArgs: [`--max_element_bytes=${16 * MiB}`, "--orphan_data_timeout_ms=1500"],
  });
  await runner.controlStream();
  runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
  runner.descriptors.set(
    "echo",
    linearDescriptor({
      id: "echo",
      url: runner.url,
      input: BYTES,
      steps: [pardo("same", "export default (b) => [b]")],
    }),
  );
});

after(async () => {
  runner.closeControl();
  await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
  await worker.stop();
  runner.stop();
});

test("gRPC settings: message sizes far above 4 MiB, keepalive no runner's default policy rejects", () => {
  const options = channelOptions();
  assert.equal(options["grpc.max_receive_message_length"], 2 ** 31 - 1);
  assert.equal(options["grpc.max_send_message_length"], 2 ** 31 - 1);
  // grpc-java and grpc-core servers GOAWAY clients pinging more often than every 5 minutes.
  assert.ok(DEFAULT_GRPC_SETTINGS.keepaliveTimeMs >= 5 * 60_000);
  assert.equal(options["grpc.keepalive_permit_without_calls"], 0);
  const tuned = grpcSettingsFromOptions({
    firefly_grpc_keepalive_time_ms: "60000",
    firefly_grpc_max_message_bytes: 64 * MiB,
  });
  assert.equal(tuned.keepaliveTimeMs, 60_000);
  assert.equal(tuned.maxMessageBytes, 64 * MiB);
  assert.equal(tuned.keepaliveTimeoutMs, DEFAULT_GRPC_SETTINGS.keepaliveTimeoutMs);
  assert.throws(
    () => grpcSettingsFromOptions({ firefly_grpc_max_message_bytes: 1000 }),
    /pipeline option firefly_grpc_max_message_bytes must be an integer >= 4194304, got 1000/,
  );
  assert.throws(
    () => grpcSettingsFromOptions({ firefly_grpc_keepalive_time_ms: "soon" }),
    /firefly_grpc_keepalive_time_ms/,
  );
});

test("a 10 MiB element split over many Data messages arrives whole, and goes back whole", async () => {
  const element = new Uint8Array(10 * MiB);
  for (let i = 0; i < element.length; i += 4096) element[i] = (i / 4096) & 0xff;
  const response = runner.processBundle("echo", "big");
  await runner.sendData("big", "source", encodeGlobal(BYTES, [element]), [MiB, 3 * MiB + 7]);
  assertOk(await response);
  const [out] = valuesOf<Uint8Array>(BYTES, await runner.output("big", "sink"));
  assert.equal(out?.length, element.length);
  assert.equal(sha(out!), sha(element));
});

test("a state page larger than gRPC's 4 MiB default is received", async () => {
  runner.descriptors.set("side", sideInputDescriptor("side", runner.url));
  const nums = Array.from({ length: 2_600_000 }, (_, i) => 1000 + (i % 7)); // 2-byte varints
  setSideInput(runner, nums);
  runner.statePageSize = 8 * MiB;
  try {
    const response = runner.processBundle("side", "big-page");
    await runner.sendData("big-page", "source", encodeGlobal(STR, ["s"]));
    assertOk(await response);
    const sum = nums.reduce((a, b) => a + b, 0);
    assert.deepEqual(valuesOf(STR, await runner.output("big-page", "sink")), [`s=${sum}`]);
  } finally {
    runner.statePageSize = MiB;
    runner.state.clear();
  }
});

test("an element past --max_element_bytes fails its bundle clearly; the next bundle is fine", async () => {
  const response = runner.processBundle("echo", "too-big");
  await runner.sendData("too-big", "source", encodeGlobal(BYTES, [new Uint8Array(20 * MiB)]), [
    2 * MiB,
  ]);
  const error = (await response).error;
  assert.match(error, /maxElementBytes \(16777216\)/);
  assert.match(error, /source/);
  assertOk(await runUpper(runner, "upper", "after-too-big", ["fine"]));
  assert.deepEqual(valuesOf(STR, await runner.output("after-too-big", "sink")), ["FINE"]);
});

test("inbound data nobody claims is bounded: the stream pauses, the data is dropped, the worker goes on", async () => {
  const before = worker.memory().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, worker.memory().rss)), 25);
  try {
    // 160 MiB for an instruction that never starts: more than the 64 MiB inbound bound.
    const chunk = encodeGlobal(BYTES, [new Uint8Array(MiB - 16)]);
    for (let i = 0; i < 160; i++) await runner.sendData("flood", "source", chunk, [MiB], false);
    await until(
      "the orphaned data to be dropped",
      () =>
        /"instructionId":"flood"[^\n]*dropping|dropping[^\n]*"instructionId":"flood"/.test(
          worker.stderr(),
        ),
      20_000,
    );
  } finally {
    clearInterval(sampler);
  }
  if (process.env.FIREFLY_TEST_VERBOSE)
    console.log(`flood: RSS ${before / MiB} → peak ${peak / MiB} MiB`);
  assert.ok(
    peak - before < 140 * MiB,
    `worker RSS grew ${((peak - before) / MiB).toFixed(0)} MiB while 160 MiB were unclaimed`,
  );
  assertOk(await runUpper(runner, "upper", "after-flood", ["ok"]));
  assert.deepEqual(valuesOf(STR, await runner.output("after-flood", "sink")), ["OK"]);
});
