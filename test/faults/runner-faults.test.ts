/**
 * Faults on the runner's side of the Fn API, against the real worker process:
 * broken data and state streams, orphaned data, duplicate instruction ids,
 * non-Error throwables, and thousands of tiny bundles (leak check).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { fnApi } from "../../proto/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import {
  encodeGlobal,
  kv,
  linearDescriptor,
  pardoStep,
  STR,
  valuesOf,
  VARINT,
} from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk, until } from "../integration/support.js";
import { bagStateDescriptor, upperDescriptor } from "./support.js";

let session: WorkerSession;
let runner: FakeRunner;

before(async () => {
  session = await startWorkerSession({
    threads: 0,
    extraArgs: ["--orphan_data_timeout_ms=1000"],
  });
  runner = session.runner;
  runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
});

after(() => session.stop());

async function healthy(id: string): Promise<void> {
  const response = runner.processBundle("upper", id);
  await runner.sendData(id, "source", encodeGlobal(STR, ["ok"]));
  assertOk(await response);
  assert.deepEqual(valuesOf(STR, await runner.output(id, "sink")), ["OK"]);
}

test("the runner closing the data stream mid-bundle fails that bundle clearly; the next bundle reconnects", async () => {
  const response = runner.processBundle("upper", "cut-data");
  await runner.sendData("cut-data", "source", encodeGlobal(STR, ["a"]), [1 << 20], false);
  await new Promise((r) => setTimeout(r, 100));
  runner.breakData();
  assert.match((await response).error, /data stream to 127\.0\.0\.1:\d+ (failed|ended)/);
  await healthy("after-cut-data");
});

test("the state stream breaking mid-request fails that bundle; the next bundle reconnects", async () => {
  runner.descriptors.set("stateful", bagStateDescriptor("stateful", runner.url));
  runner.breakStateOnNextRequest = true;
  const r1 = runner.processBundle("stateful", "state-broken");
  await runner.sendData(
    "state-broken",
    "source",
    encodeGlobal(kv(STR, VARINT), [{ key: "k", value: 1 }]),
  );
  assert.match((await r1).error, /state stream to .* (failed|ended)/);
  const r2 = runner.processBundle("stateful", "state-again");
  await runner.sendData(
    "state-again",
    "source",
    encodeGlobal(kv(STR, VARINT), [{ key: "k", value: 2 }]),
  );
  assertOk(await r2);
  assert.deepEqual(valuesOf(kv(STR, VARINT), await runner.output("state-again", "sink")), [
    { key: "k", value: 0 },
  ]);
});

test("data for an instruction that never starts is dropped with a log after the time limit", async () => {
  await runner.sendData("ghost", "source", encodeGlobal(STR, ["boo"]));
  await until(
    "the orphaned data to be dropped",
    () =>
      /dropping data for an instruction that never started[^\n]*|"instructionId":"ghost"[^\n]*dropping/.test(
        session.worker.stderr(),
      ),
    8000,
  );
  assert.match(session.worker.stderr(), /"instructionId":"ghost"/);
  await healthy("after-ghost");
});

test("a duplicate instruction id is rejected while the first bundle runs; the first completes", async () => {
  const first = runner.processBundle("upper", "dup");
  await runner.sendData("dup", "source", encodeGlobal(STR, ["one"]), [1 << 20], false);
  await new Promise((r) => setTimeout(r, 50));
  const second = await runner.processBundle("upper", "dup");
  assert.match(second.error, /instruction id "dup" is already running a bundle/);
  await runner.sendData("dup", "source", encodeGlobal(STR, ["two"]));
  assertOk(await first);
  assert.deepEqual(valuesOf(STR, await runner.output("dup", "sink")), ["ONE", "TWO"]);
});

test("user code throwing non-Error values fails its bundle with a description of the value", async () => {
  const throwers: [string, string, RegExp][] = [
    ["str", "export default () => { throw 'plain string'; }", /thrown value: "plain string"/],
    ["undef", "export default () => { throw undefined; }", /thrown value: undefined/],
    ["obj", "export default () => { throw { code: 42 }; }", /thrown value: \{"code":42\}/],
    [
      "nullrej",
      "export default async () => { await null; return Promise.reject(null); }",
      /thrown value: null/,
    ],
  ];
  for (const [id, source, expected] of throwers) {
    runner.descriptors.set(
      id,
      linearDescriptor({ id, url: runner.url, input: STR, steps: [pardoStep(`${id}-fn`, source)] }),
    );
    const response = runner.processBundle(id, `throw-${id}`);
    await runner.sendData(`throw-${id}`, "source", encodeGlobal(STR, ["x"]));
    const error = (await response).error;
    assert.match(error, new RegExp(`^step "${id}-fn" failed in process: `));
    assert.match(error, expected);
  }
  await healthy("after-throwers");
});

test("3,000 tiny bundles in a row leave memory and open file descriptors flat", async () => {
  const fds = () => fs.readdirSync(`/proc/${session.worker.child.pid}/fd`).length;
  const run = async (n: number, prefix: string) => {
    for (let i = 0; i < n; i++) {
      const id = `${prefix}${i}`;
      const response = runner.processBundle("upper", id);
      await runner.sendData(id, "source", encodeGlobal(STR, ["t"]));
      assertOk(await response);
      await runner.output(id, "sink");
    }
  };
  await run(300, "warm"); // warm up caches and JIT
  const rssBefore = session.worker.memory().rss;
  const fdsBefore = fds();
  await run(3000, "tiny");
  const rssAfter = session.worker.memory().rss;
  const fdsAfter = fds();
  assert.ok(fdsAfter <= fdsBefore + 2, `file descriptors ${fdsBefore} → ${fdsAfter}`);
  assert.ok(
    rssAfter - rssBefore < 40 * 2 ** 20,
    `RSS grew ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB over 3,000 bundles`,
  );
  const status = await runner.instruct(
    new fnApi.InstructionRequest({
      harness_monitoring_infos: new fnApi.HarnessMonitoringInfosRequest(),
    }),
  );
  assertOk(status);
});
