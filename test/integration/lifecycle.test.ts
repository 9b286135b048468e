/**
 * Worker lifecycle and flow control against the real worker process:
 * the runner ending the control stream mid-bundle, a hung DoFn in a pool
 * thread, and a runner that stops reading (backpressure keeps memory bounded).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeRunner } from "../support/fake-runner.js";
import {
  BYTES,
  dofnPayload,
  encodeGlobal,
  linearDescriptor,
  STR,
  valuesOf,
} from "../support/descriptors.js";
import { startWorker } from "../support/worker-process.js";
import { assertOk, until } from "./support.js";

const pardo = (id: string, source: string) => ({
  id,
  urn: "beam:transform:pardo:v1",
  payload: dofnPayload({ source }),
});

async function exitWithin(worker: ReturnType<typeof startWorker>, ms: number) {
  return Promise.race([
    worker.exited,
    new Promise((r) => setTimeout(() => r("still running"), ms)),
  ]);
}

test("the runner ending the control stream mid-bundle stops the worker (exit 0, no hang)", async () => {
  const runner = await FakeRunner.start();
  const worker = startWorker(runner.url, { threads: 0 });
  try {
    runner.descriptors.set(
      "d",
      linearDescriptor({
        id: "d",
        url: runner.url,
        input: STR,
        steps: [pardo("p", "export default (s) => [s]")],
      }),
    );
    const response = runner.processBundle("d", "open-bundle");
    await runner.sendData("open-bundle", "source", encodeGlobal(STR, ["a"]), [1 << 20], false); // no is_last
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    runner.closeControl();
    assert.deepEqual(
      await exitWithin(worker, 10_000),
      { code: 0, signal: null },
      worker.stderr().slice(-2000),
    );
    assert.ok(Date.now() - started < 6000, "stopped within the bounded shutdown time");
    void response;
  } finally {
    await worker.stop();
    runner.stop();
  }
});

test("a DoFn that never returns in a pool thread does not block progress, other bundles, or shutdown", async () => {
  const runner = await FakeRunner.start();
  const worker = startWorker(runner.url, { threads: 2 });
  try {
    runner.descriptors.set(
      "hang",
      linearDescriptor({
        id: "hang",
        url: runner.url,
        input: STR,
        steps: [pardo("spin", "export default (s) => { for (;;) {} }")],
      }),
    );
    runner.descriptors.set(
      "ok",
      linearDescriptor({
        id: "ok",
        url: runner.url,
        input: STR,
        steps: [pardo("up", "export default (s) => [s.toUpperCase()]")],
      }),
    );
    void runner.processBundle("hang", "hung");
    await runner.sendData("hung", "source", encodeGlobal(STR, ["x"]));
    await new Promise((r) => setTimeout(r, 300));
    const fine = runner.processBundle("ok", "fine");
    await runner.sendData("fine", "source", encodeGlobal(STR, ["y"]));
    assertOk(await fine);
    assert.deepEqual(valuesOf(STR, await runner.output("fine", "sink")), ["Y"]);
    const { fnApi } = await import("../../proto/index.js");
    const progress = await runner.instruct(
      new fnApi.InstructionRequest({
        process_bundle_progress: new fnApi.ProcessBundleProgressRequest({ instruction_id: "hung" }),
      }),
    );
    assertOk(progress);
    runner.closeControl();
    assert.deepEqual(
      await exitWithin(worker, 10_000),
      { code: 0, signal: null },
      worker.stderr().slice(-2000),
    );
  } finally {
    await worker.stop();
    runner.stop();
  }
});

for (const threads of [0, 1]) {
  test(`a runner that stops reading outputs keeps worker memory bounded (threads=${threads})`, async () => {
    const runner = await FakeRunner.start();
    const worker = startWorker(runner.url, { threads, logging: false });
    try {
      runner.descriptors.set(
        "copy",
        linearDescriptor({
          id: "copy",
          url: runner.url,
          input: BYTES,
          steps: [pardo("same", "export default (b) => [b]")],
        }),
      );
      const element = new Uint8Array(16 * 1024).fill(7);
      const chunk = encodeGlobal(
        BYTES,
        Array.from({ length: 64 }, () => element),
      ); // ~1 MiB
      const totalMiB = 320;
      runner.pauseData(); // the runner stops reading the worker's outputs
      const response = runner.processBundle("copy", "big");
      const sending = (async () => {
        for (let i = 0; i < totalMiB; i++)
          await runner.sendData("big", "source", chunk, [chunk.length], i === totalMiB - 1);
      })();
      await new Promise((r) => setTimeout(r, 4000));
      const stalled = worker.memory();
      runner.resumeData();
      await sending;
      assertOk(await response);
      const out = await runner.output("big", "sink");
      assert.equal(
        out.length,
        chunk.length * totalMiB,
        "every byte arrived once the runner read again",
      );
      const peak = worker.memory().hwm;
      assert.ok(
        stalled.rss < 350 * 2 ** 20,
        `RSS while stalled: ${(stalled.rss / 2 ** 20).toFixed(0)} MiB`,
      );
      assert.ok(
        peak < 450 * 2 ** 20,
        `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB for ${totalMiB} MiB through the worker`,
      );
      console.log(
        `backpressure threads=${threads}: RSS stalled ${(stalled.rss / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB, ${totalMiB} MiB in and out`,
      );
    } finally {
      runner.resumeData();
      runner.closeControl();
      await exitWithin(worker, 5000);
      await worker.stop();
      runner.stop();
    }
  });
}

void until;
