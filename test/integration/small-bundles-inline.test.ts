/**
 * Small bundles on the conductor (harness/bundle/small-bundle-policy.ts),
 * against the real worker process with a thread pool: a descriptor's first
 * bundles run in pool threads, once 8 in a row were quick the next run on the
 * main thread, one slow bundle there sends the descriptor back to the pool,
 * and `firefly_inline_small_bundles=false` keeps every bundle in the pool.
 * The DoFn reports where it ran (`isMainThread`).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { endpointsApi } from "../../proto/index.js";
import { jsonToStruct } from "../../src/boot/struct-json.js";
import { FakeRunner } from "../support/fake-runner.js";
import {
  encodeGlobal,
  linearDescriptor,
  pardoStep,
  STR,
  valuesOf,
} from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk } from "./support.js";

/**
 * Quick is ≤ 50 ms in a thread, ≤ 20 ms on the main thread here
 * (firefly_small_bundle_ms), so that a loaded machine still runs these
 * one-element bundles quickly.
 */
const QUICK_MS = 50;

/** Outputs "main" or "thread"; an element "slow" takes 60 ms first. */
const WHERE = `
import { isMainThread } from "node:worker_threads";
export default async (s) => {
  if (s === "slow") await new Promise((r) => setTimeout(r, 60));
  return [isMainThread ? "main" : "thread"];
};`;

async function start(inlineSmallBundles?: boolean): Promise<{
  runner: FakeRunner;
  worker: WorkerProcess;
  where(id: string, element?: string): Promise<string>;
}> {
  const runner = await FakeRunner.start();
  const url = new endpointsApi.ApiServiceDescriptor({ url: runner.url });
  runner.provisionInfo.control_endpoint = url;
  runner.provisionInfo.logging_endpoint = url;
  runner.provisionInfo.pipeline_options = jsonToStruct({
    options: {
      firefly_small_bundle_ms: QUICK_MS,
      ...(inlineSmallBundles === undefined
        ? {}
        : { firefly_inline_small_bundles: inlineSmallBundles }),
    },
  });
  const worker = startWorker(runner.url, {
    threads: 1,
    id: `small-${String(inlineSmallBundles)}`,
    extraArgs: [`--provision_endpoint=${runner.url}`],
  });
  await runner.controlStream();
  runner.descriptors.set(
    "where",
    linearDescriptor({
      id: "where",
      url: runner.url,
      input: STR,
      steps: [pardoStep("where-fn", WHERE)],
    }),
  );
  let next = 0;
  return {
    runner,
    worker,
    async where(descriptorId: string, element = "x") {
      const id = `b${next++}`;
      const response = runner.processBundle(descriptorId, id);
      await runner.sendData(id, "source", encodeGlobal(STR, [element]));
      assertOk(await response);
      const [out] = valuesOf(STR, await runner.output(id, "sink")) as string[];
      return out as string;
    },
  };
}

describe("small bundles on the conductor (default with threads)", () => {
  let s: Awaited<ReturnType<typeof start>>;
  before(async () => (s = await start()));
  after(async () => {
    s.runner.closeControl();
    await s.worker.stop();
    s.runner.stop();
  });

  // Quick means ≤ 5 ms in a thread and ≤ 2 ms on the main thread: on a loaded
  // machine a bundle may miss that, so the test waits for places, it does not count them.
  test("the first 8 bundles run in threads, later ones on the main thread; a slow one there sends it back", async () => {
    const first: string[] = [];
    for (let i = 0; i < 8; i++) first.push(await s.where("where"));
    assert.deepEqual(first, Array(8).fill("thread"));
    let sentBack = false;
    for (let attempt = 0; attempt < 5 && !sentBack; attempt++) {
      let onMain = false;
      for (let i = 0; i < 60 && !onMain; i++) onMain = (await s.where("where")) === "main";
      assert.ok(onMain, "no bundle ran on the main thread in 60 quick bundles");
      // A bundle that takes 20 ms: if it ran on the main thread, the next one runs in the pool.
      if ((await s.where("where", "slow")) === "main") {
        assert.equal(await s.where("where"), "thread");
        sentBack = true;
      }
    }
    assert.ok(sentBack, "the slow bundle never ran on the main thread");
  });
});

describe("firefly_inline_small_bundles=false", () => {
  let s: Awaited<ReturnType<typeof start>>;
  before(async () => (s = await start(false)));
  after(async () => {
    s.runner.closeControl();
    await s.worker.stop();
    s.runner.stop();
  });

  test("every bundle runs in a pool thread", async () => {
    const places: string[] = [];
    for (let i = 0; i < 40; i++) places.push(await s.where("where"));
    assert.deepEqual(places, Array(40).fill("thread"));
  });
});
