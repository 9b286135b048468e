/**
 * A long bundle whose DoFn awaits only settled promises runs in microtasks;
 * without turns for the event loop, the worker (inline) or its pool thread
 * would answer no progress request until the bundle ended. The data source
 * and the ParDo give the event loop a turn every ~20 ms of such work
 * (`operations/event-loop-turns.ts`), so progress is answered mid-bundle.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";
import { GLOBAL_WINDOW, NO_FIRING, type WindowedValue } from "../../coders/index.js";
import {
  coderOf,
  encodeGlobal,
  linearDescriptor,
  STR,
  valuesOf,
  windowed,
} from "../support/descriptors.js";
import { startWorker } from "../support/worker-process.js";
import { assertOk, elementCount } from "../integration/support.js";
import { pardo } from "./support.js";

const ELEMENTS = 200_000;

const SPIN =
  "export default async (s) => { await null; let x = 0; for (let i = 0; i < 300; i++) x += i; return x >= 0 ? [s] : []; }";

/** Runs `input` through the spinning DoFn while polling progress; returns the counts seen mid-bundle. */
async function progressWhileRunning(threads: number, input: Uint8Array): Promise<number[]> {
  const runner = await FakeRunner.start();
  const worker = startWorker(runner.url, { threads });
  try {
    runner.descriptors.set(
      "busy",
      linearDescriptor({ id: "busy", url: runner.url, input: STR, steps: [pardo("spin", SPIN)] }),
    );
    const bundle = runner.processBundle("busy", "long");
    let finished = false;
    void bundle.then(() => (finished = true));
    // One chunk: the whole bundle is a single consume() of the data source.
    await runner.sendData("long", "source", input);
    const seen: number[] = [];
    while (!finished) {
      const r = await runner.instruct(
        new fnApi.InstructionRequest({
          process_bundle_progress: new fnApi.ProcessBundleProgressRequest({
            instruction_id: "long",
          }),
        }),
      );
      if (finished) break;
      // pc1: the ParDo's output (one element per window).
      if (!r.error) seen.push(elementCount(r.process_bundle_progress.monitoring_infos, "pc1") ?? 0);
    }
    assertOk(await bundle);
    assert.equal(valuesOf(STR, await runner.output("long", "sink")).length, ELEMENTS);
    return seen.filter((n) => n > 0 && n < ELEMENTS);
  } finally {
    await worker.stop();
    runner.stop();
  }
}

for (const threads of [0, 2]) {
  describe(`long bundles (threads=${threads})`, () => {
    test("progress is answered while microtask-only user code runs through one big chunk", async () => {
      const values = Array.from({ length: ELEMENTS }, (_, i) => `e${i}`);
      const midway = await progressWhileRunning(threads, encodeGlobal(STR, values));
      assert.ok(midway.length > 0, "no progress answer while the bundle ran");
    });

    test("progress is answered while one element runs in 200,000 windows", async () => {
      const coder = coderOf<WindowedValue<string>>(windowed(STR));
      const input = coder.encode({
        value: "w",
        timestamp: 0n,
        windows: new Array<typeof GLOBAL_WINDOW>(ELEMENTS).fill(GLOBAL_WINDOW),
        pane: NO_FIRING,
      });
      const midway = await progressWhileRunning(threads, input);
      assert.ok(midway.length > 0, "no progress answer while the bundle ran");
    });
  });
}
