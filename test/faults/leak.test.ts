/**
 * Leak check against the real worker: 10,000 tiny bundles in a row (plain,
 * side input, bag state, with a failing one now and then), with no growth in
 * memory, file descriptors, OS threads or Node's active handles (read from
 * the worker status dump over BeamFnWorkerStatus).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, kv, linearDescriptor, STR, VARINT } from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk, until } from "../integration/support.js";
import {
  bagStateDescriptor,
  pardo,
  runUpper,
  setSideInput,
  sideInputDescriptor,
  upperDescriptor,
} from "./support.js";

const BUNDLES = Number(process.env.FIREFLY_LEAK_BUNDLES ?? 10_000);

let runner: FakeRunner;
let worker: WorkerProcess;

before(async () => {
  runner = await FakeRunner.start();
  worker = startWorker(runner.url, {
    threads: 0,
    extraArgs: [`--status_endpoint=${runner.url}`, "--log_level=warn"],
  });
  await runner.controlStream();
  runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
  runner.descriptors.set("side", sideInputDescriptor("side", runner.url));
  runner.descriptors.set("bag", bagStateDescriptor("bag", runner.url));
  runner.descriptors.set(
    "fail",
    linearDescriptor({
      id: "fail",
      url: runner.url,
      input: STR,
      steps: [pardo("boom", "export default () => { throw new Error('injected'); }")],
    }),
  );
  setSideInput(runner, [1, 2, 3]);
  await until("the status stream", () => runner.requestStatus() !== undefined);
});

after(async () => {
  runner.closeControl();
  await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
  await worker.stop();
  runner.stop();
});

/** One bundle of a rotating kind; returns when its response (and output) arrived. */
async function bundle(i: number): Promise<void> {
  const id = `leak-${i}`;
  switch (i % 10) {
    case 3: {
      const r = runner.processBundle("side", id);
      await runner.sendData(id, "source", encodeGlobal(STR, ["s"]));
      assertOk(await r);
      await runner.output(id, "sink");
      break;
    }
    case 6: {
      const r = runner.processBundle("bag", id);
      await runner.sendData(
        id,
        "source",
        encodeGlobal(kv(STR, VARINT), [{ key: `k${i % 50}`, value: i }]),
      );
      assertOk(await r);
      await runner.output(id, "sink");
      break;
    }
    case 9: {
      const r = runner.processBundle("fail", id);
      await runner.sendData(id, "source", encodeGlobal(STR, ["x"]));
      assert.match((await r).error, /injected/);
      break;
    }
    default:
      assertOk(await runUpper(runner, "upper", id, ["t"]));
      await runner.output(id, "sink");
  }
  runner.forgetOutputs(id);
}

interface Usage {
  rss: number;
  fds: number;
  threads: number;
  handles: Map<string, number>;
}

async function usage(): Promise<Usage> {
  const status = await runner.requestStatus()!;
  const line = /active handles: (.*)/.exec(status.status_info)?.[1] ?? "";
  const handles = new Map<string, number>();
  for (const part of line.split(" ")) {
    const [kind, n] = part.split("=");
    if (kind && n) handles.set(kind, Number(n));
  }
  const procStatus = fs.readFileSync(`/proc/${worker.child.pid}/status`, "utf8");
  return {
    rss: worker.memory().rss,
    fds: fs.readdirSync(`/proc/${worker.child.pid}/fd`).length,
    threads: Number(/Threads:\s+(\d+)/.exec(procStatus)?.[1] ?? 0),
    handles,
  };
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

test(`${BUNDLES} tiny bundles (plain, side input, state, failing) leave memory, fds, threads and handles flat`, async () => {
  const lanes = 4;
  const run = async (from: number, n: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < from + n) await bundle(next++);
      }),
    );
  };
  await run(0, 1000); // warm up caches and JIT
  runner.logs.length = 0;
  const start = await usage();
  assert.ok(start.handles.size > 0, "the status dump lists active handles");
  await run(1000, BUNDLES);
  await new Promise((r) => setTimeout(r, 500)); // let flush timers of the last bundles settle
  const end = await usage();
  const report = `RSS ${(start.rss / 2 ** 20).toFixed(1)} → ${(end.rss / 2 ** 20).toFixed(1)} MiB, fds ${start.fds} → ${end.fds}, threads ${start.threads} → ${end.threads}, handles ${JSON.stringify([...start.handles])} → ${JSON.stringify([...end.handles])}`;
  if (process.env.FIREFLY_TEST_VERBOSE) console.log(report);
  assert.ok(end.fds <= start.fds + 2, report);
  assert.ok(end.threads <= start.threads, report);
  assert.ok(total(end.handles) <= total(start.handles) + 2, report);
  assert.ok(end.rss - start.rss < 40 * 2 ** 20, report);
  assert.equal(runner.pendingInstructions, 0, "every instruction was answered");
});
