/**
 * Bundles that never end on their own, against the real worker (inline and
 * with a thread pool): the runner never sends `is_last`, or user code awaits
 * forever. The Fn API has no "cancel bundle" instruction, so such a bundle
 * stays open (Beam's harnesses do the same) while progress is answered and
 * other bundles run; when the runner ends the instruction stream (control
 * closed) or the worker is stopped, the bundle is answered with an error
 * before the worker exits cleanly.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, linearDescriptor, STR, valuesOf } from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk, elementCount, until } from "../integration/support.js";
import { pardo, runUpper, upperDescriptor, within } from "./support.js";

async function progress(runner: FakeRunner, id: string): Promise<fnApi.InstructionResponse> {
  return runner.instruct(
    new fnApi.InstructionRequest({
      process_bundle_progress: new fnApi.ProcessBundleProgressRequest({ instruction_id: id }),
    }),
  );
}

for (const threads of [0, 3]) {
  describe(`stuck bundles (threads=${threads})`, () => {
    for (const ending of ["control stream ends", "SIGTERM"] as const) {
      test(`no is_last and a DoFn awaiting forever: progress answers, other bundles run; ${ending} fails both`, async () => {
        const runner = await FakeRunner.start();
        const worker: WorkerProcess = startWorker(runner.url, { threads });
        try {
          runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
          runner.descriptors.set(
            "forever",
            linearDescriptor({
              id: "forever",
              url: runner.url,
              input: STR,
              steps: [pardo("wait", "export default async () => { await new Promise(() => {}); }")],
            }),
          );
          const open = runner.processBundle("upper", "no-last");
          await runner.sendData(
            "no-last",
            "source",
            encodeGlobal(STR, ["a", "b"]),
            [1 << 20],
            false,
          );
          const hung = runner.processBundle("forever", "awaits-forever");
          await runner.sendData("awaits-forever", "source", encodeGlobal(STR, ["x"]));

          await until("progress to count the two elements", async () => {
            const r = await progress(runner, "no-last");
            assertOk(r);
            return elementCount(r.process_bundle_progress.monitoring_infos, "pc0") === 2;
          });
          await until(
            "progress of the bundle awaiting forever",
            async () => (await progress(runner, "awaits-forever")).error === "",
          );
          for (let i = 0; i < 5; i++) {
            assertOk(await runUpper(runner, "upper", `other-${i}`, [`v${i}`]));
            assert.deepEqual(valuesOf(STR, await runner.output(`other-${i}`, "sink")), [`V${i}`]);
          }
          assert.equal(await within(open, 300, "still open"), "still open");

          if (ending === "SIGTERM") {
            // The runner is still there: both bundles are answered with errors.
            worker.child.kill("SIGTERM");
            const [a, b] = await Promise.all([
              within(open, 10_000, undefined),
              within(hung, 10_000, undefined),
            ]);
            assert.ok(a && b, "both stuck bundles were answered before the worker exited");
            assert.match(a.error, /no-last/);
            assert.match(b.error, /did not finish in time|stopping/);
          } else {
            // The runner ended the instruction stream: nobody waits for answers,
            // but both bundles are failed (and logged) before the worker exits.
            runner.closeControl();
          }
          assert.deepEqual(await within(worker.exited, 10_000, "still running"), {
            code: 0,
            signal: null,
          });
          for (const id of ["no-last", "awaits-forever"])
            assert.match(
              worker.stderr(),
              new RegExp(`"instructionId":"${id}"[^\n]*"instruction failed"`),
            );
        } finally {
          await worker.stop();
          runner.stop();
        }
      });
    }
  });
}
