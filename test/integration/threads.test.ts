/**
 * The worker-thread pool against the real worker process: progress while a
 * thread is busy in user code, and threads that die (process.exit, out of
 * memory, an uncaught error in a timer callback) failing only their bundle.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import {
  encodeGlobal,
  linearDescriptor,
  pardoStep,
  STR,
  valuesOf,
} from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk, elementCount } from "./support.js";

let session: WorkerSession;
let runner: FakeRunner;

before(async () => {
  session = await startWorkerSession({ threads: 2, extraArgs: ["--thread_heap_mb=96"] });
  runner = session.runner;
  const add = (id: string, source: string) =>
    runner.descriptors.set(
      id,
      linearDescriptor({ id, url: runner.url, input: STR, steps: [pardoStep(`${id}-fn`, source)] }),
    );
  add(
    "spin",
    "export default (s) => { const t = Date.now(); while (Date.now() - t < 3000) {} return [s]; }",
  );
  add("exit", "export default (s) => { process.exit(3); }");
  add(
    "oom",
    "export default (s) => { const keep = []; for (;;) keep.push(new Array(100000).fill(s)); }",
  );
  add(
    "late",
    "export default async (s) => { setTimeout(() => { throw new Error('thrown from a timer'); }, 0); await new Promise((r) => setTimeout(r, 500)); return [s]; }",
  );
  add("upper", "export default (s) => [s.toUpperCase()]");
});

after(() => session.stop());

async function healthy(id: string): Promise<void> {
  const response = runner.processBundle("upper", id);
  await runner.sendData(id, "source", encodeGlobal(STR, ["fine"]));
  assertOk(await response);
  assert.deepEqual(valuesOf(STR, await runner.output(id, "sink")), ["FINE"]);
}

test("progress is answered while a thread is busy in a 3-second synchronous loop", async () => {
  let done = false;
  const response = runner.processBundle("spin", "spinning").finally(() => (done = true));
  await runner.sendData("spinning", "source", encodeGlobal(STR, ["a"]));
  // Poll until the spinning element is counted: every answer must come while the
  // bundle is still running (its thread is blocked, the control thread is not).
  let counted = 0;
  while (counted !== 1 && !done) {
    const progress = await runner.instruct(
      new fnApi.InstructionRequest({
        process_bundle_progress: new fnApi.ProcessBundleProgressRequest({
          instruction_id: "spinning",
        }),
      }),
    );
    assertOk(progress);
    counted = elementCount(progress.process_bundle_progress.monitoring_infos, "pc0") ?? 0;
    if (counted !== 1) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(done, false, "progress was answered only after the bundle finished");
  assert.equal(counted, 1, "the element being processed is counted");
  assertOk(await response);
});

test("user code calling process.exit kills only its thread: the bundle fails clearly, the next one runs", async () => {
  const response = runner.processBundle("exit", "exiting");
  await runner.sendData("exiting", "source", encodeGlobal(STR, ["x"]));
  assert.match(
    (await response).error,
    /^step "exit-fn" failed in process: UserExitError: user code called process\.exit\(3\)/,
  );
  await healthy("after-exit");
});

test("a bundle that exhausts its thread's heap fails; the thread is replaced", async () => {
  const response = runner.processBundle("oom", "oom1");
  await runner.sendData("oom1", "source", encodeGlobal(STR, ["x"]));
  assert.match(
    (await response).error,
    /bundle oom1 failed in a pool thread: .*(memory|ERR_WORKER_OUT_OF_MEMORY)/s,
  );
  await healthy("after-oom");
});

test("an uncaught error in a user timer callback fails the running bundle, not the worker", async () => {
  const response = runner.processBundle("late", "late1");
  await runner.sendData("late1", "source", encodeGlobal(STR, ["x"]));
  assert.match((await response).error, /thrown from a timer/);
  await healthy("after-late");
  assert.equal(session.worker.child.exitCode, null, "the worker process is still running");
});
