/**
 * Errors that escape user code outside a bundle's call chain, under one rule
 * in both modes: an error that can be tied to a bundle still running fails
 * that bundle; one that cannot (its bundle already ended) is logged and fails
 * nothing else. `process.exit()` in a DoFn fails its bundle, not the worker.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, linearDescriptor, STR, valuesOf } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk, until } from "../integration/support.js";
import { pardo } from "./support.js";

const DOFNS: Record<string, string> = {
  // Returns at once; its timer throws 100 ms later, while another bundle runs.
  lateTimer:
    "export default (s) => { setTimeout(() => { throw new Error('stray from an ended bundle'); }, 100); return [s]; }",
  // Runs for 400 ms: the bundle that is running when the stray error comes.
  slow: "export default async (s) => { await new Promise((r) => setTimeout(r, 400)); return [s.toUpperCase()]; }",
  // Its timer throws while the bundle still runs.
  timerWhileRunning:
    "export default async (s) => { setTimeout(() => { throw new Error('stray from my timer'); }, 10); await new Promise((r) => setTimeout(r, 400)); return [s]; }",
  // A rejected promise nobody awaits.
  bareReject:
    "export default (s) => { Promise.reject(new Error('nobody awaited me')); return [s]; }",
  exit: "export default (s) => { process.exit(3); }",
  upper: "export default (s) => [s.toUpperCase()]",
};

for (const threads of [0, 1]) {
  describe(`stray errors, threads=${threads}`, () => {
    let session: WorkerSession;
    let runner: FakeRunner;

    before(async () => {
      session = await startWorkerSession({ threads });
      runner = session.runner;
      for (const [id, source] of Object.entries(DOFNS))
        runner.descriptors.set(
          id,
          linearDescriptor({ id, url: runner.url, input: STR, steps: [pardo(`${id}-fn`, source)] }),
        );
    });
    after(() => session.stop());

    const run = async (descriptor: string, id: string) => {
      const response = runner.processBundle(descriptor, id);
      await runner.sendData(id, "source", encodeGlobal(STR, ["v"]));
      return response;
    };

    test("a timer of a bundle that ended throws: that bundle succeeded, the next one is not failed, the error is logged", async () => {
      assertOk(await run("lateTimer", `late-${threads}`));
      const next = await run("slow", `next-${threads}`);
      assertOk(next);
      assert.deepEqual(valuesOf(STR, await runner.output(`next-${threads}`, "sink")), ["V"]);
      // Logged (to stderr; inline also to the runner's logging service) with its bundle's id.
      await until("the stray error in the worker's log", () =>
        session.worker
          .stderr()
          .split("\n")
          .some(
            (line) =>
              line.includes(`bundle late-${threads} after it ended (ignored)`) &&
              line.includes("stray from an ended bundle"),
          ),
      );
    });

    test("a timer that throws while its bundle runs fails that bundle", async () => {
      const response = await run("timerWhileRunning", `timer-${threads}`);
      assert.match(response.error, /uncaught error in a setTimeout callback/);
      assert.match(response.error, /stray from my timer/);
    });

    test("a rejected promise nobody awaited fails its bundle", async () => {
      const response = await run("bareReject", `reject-${threads}`);
      assert.match(response.error, /unhandled promise rejection/);
      assert.match(response.error, /nobody awaited me/);
    });

    test("process.exit() in a DoFn fails its bundle; the worker keeps serving", async () => {
      const response = await run("exit", `exit-${threads}`);
      assert.match(response.error, /process\.exit\(3\)/);
      assertOk(await run("upper", `after-exit-${threads}`));
      assert.equal(session.worker.child.exitCode, null, "the worker process is still running");
    });
  });
}
