/**
 * `npm run soak -- --minutes N [--threads T] [--lanes L]`: continuous mixed
 * bundles against ONE worker process (`bin/firefly boot`) through the
 * FakeRunner: plain ParDos, iterable side inputs, bag state, timers (set and
 * fired) and bundles whose user code throws on purpose. Prints throughput and
 * RSS every 10 s and every error that was not injected, and ends with a JSON
 * summary on stdout (exit code 1 when an error was not injected or the
 * worker died).
 */
import { parseArgs } from "node:util";
import { FakeRunner } from "../support/fake-runner.js";
import { encodeGlobal, kv, linearDescriptor, STR, VARINT } from "../support/descriptors.js";
import { startWorker } from "../support/worker-process.js";
import {
  bagStateDescriptor,
  encodeTimers,
  pardo,
  setSideInput,
  sideInputDescriptor,
  timerDescriptor,
  upperDescriptor,
  within,
} from "../faults/support.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "1" },
    threads: { type: "string", default: "2" },
    lanes: { type: "string", default: "4" },
  },
  strict: true,
});
const minutes = Number(values.minutes);
const threads = Number(values.threads);
const lanes = Number(values.lanes);
if (!(minutes > 0))
  throw new TypeError(`--minutes must be a positive number, got ${values.minutes}`);

const INJECTED = "INJECTED-FAILURE";
const MiB = 2 ** 20;

const runner = await FakeRunner.start();
const worker = startWorker(runner.url, {
  threads,
  id: "soak",
  extraArgs: ["--log_level=warn", "--connect_timeout_ms=20000"],
});
await runner.controlStream();
const url = runner.url;
for (const d of [
  upperDescriptor("upper", url),
  sideInputDescriptor("side", url),
  bagStateDescriptor("bag", url),
  timerDescriptor("timer", url),
  linearDescriptor({
    id: "fail",
    url,
    input: STR,
    steps: [
      pardo(
        "boom",
        `export default (s) => { if (s === "bad") throw new Error("${INJECTED}"); return [s]; }`,
      ),
    ],
  }),
])
  runner.descriptors.set(d.id, d);
const SIDE = Array.from({ length: 100 }, (_, i) => i);
setSideInput(runner, SIDE);

const stats = {
  bundles: 0,
  elements: 0,
  injectedFailures: 0,
  byKind: {} as Record<string, number>,
  unexpected: [] as string[],
  unexpectedCount: 0,
};

const ANSWER_BOUND_MS = 60_000;
const strings = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

async function answered(id: string, answer: Promise<{ error: string }>): Promise<string> {
  const r = await within(answer, ANSWER_BOUND_MS, undefined);
  return r === undefined ? `no response to ${id} within ${ANSWER_BOUND_MS} ms` : r.error;
}

function unexpected(kind: string, id: string, error: string): void {
  stats.unexpectedCount++;
  if (stats.unexpected.length < 20) stats.unexpected.push(`${kind} ${id}: ${error.slice(0, 1000)}`);
  console.error(
    `UNEXPECTED ERROR in ${kind} bundle ${id}: ${error.split("\n").slice(0, 4).join(" | ")}`,
  );
}

/** One bundle of the given kind; returns the number of input elements. */
async function bundle(kind: string, id: string): Promise<number> {
  switch (kind) {
    case "upper": {
      const input = strings(200, id);
      const r = runner.processBundle("upper", id);
      await runner.sendData(id, "source", encodeGlobal(STR, input), [4096]);
      const error = await answered(id, r);
      if (error) unexpected(kind, id, error);
      else await runner.output(id, "sink");
      return input.length;
    }
    case "side": {
      const r = runner.processBundle("side", id, []);
      await runner.sendData(id, "source", encodeGlobal(STR, strings(50, "s")));
      const error = await answered(id, r);
      if (error) unexpected(kind, id, error);
      return 50;
    }
    case "bag": {
      const input = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i }));
      const r = runner.processBundle("bag", id);
      await runner.sendData(id, "source", encodeGlobal(kv(STR, VARINT), input));
      const error = await answered(id, r);
      if (error) unexpected(kind, id, error);
      return input.length;
    }
    case "timer": {
      const input = Array.from({ length: 20 }, (_, i) => ({ key: `t${i}`, value: 1000 + i }));
      const r = runner.processBundle("timer", id);
      await runner.sendData(id, "source", encodeGlobal(kv(STR, VARINT), input));
      await runner.sendTimers(
        id,
        "timed",
        "t",
        encodeTimers(input.map((e) => ({ key: e.key, at: e.value }))),
      );
      const error = await answered(id, r);
      if (error) unexpected(kind, id, error);
      else {
        await runner.output(id, "timed", "t"); // the timers the DoFn set
        await runner.output(id, "sink"); // the fired timers' outputs
      }
      return input.length * 2;
    }
    default: {
      const r = runner.processBundle("fail", id);
      await runner.sendData(id, "source", encodeGlobal(STR, ["ok", "ok", "bad", "ok"]));
      const error = await answered(id, r);
      if (error.includes(INJECTED)) stats.injectedFailures++;
      else unexpected(kind, id, error || "an injected failure did not fail");
      return 4;
    }
  }
}

const KINDS = ["upper", "upper", "upper", "side", "bag", "timer", "fail"];
const started = Date.now();
const deadline = started + minutes * 60_000;
const rssStart = worker.memory().rss;
const samples: {
  seconds: number;
  bundles: number;
  elements: number;
  elementsPerSecond: number;
  rssMiB: number;
}[] = [];
let serial = 0;
let last = { at: started, elements: 0 };

const reporter = setInterval(() => {
  const now = Date.now();
  const rssMiB = Math.round((worker.memory().rss / MiB) * 10) / 10;
  const elementsPerSecond = Math.round(((stats.elements - last.elements) * 1000) / (now - last.at));
  last = { at: now, elements: stats.elements };
  const sample = {
    seconds: Math.round((now - started) / 1000),
    bundles: stats.bundles,
    elements: stats.elements,
    elementsPerSecond,
    rssMiB,
  };
  samples.push(sample);
  console.log(
    `[soak] ${sample.seconds}s bundles=${sample.bundles} elements=${sample.elements} ${elementsPerSecond} el/s rss=${rssMiB} MiB unexpected=${stats.unexpectedCount}`,
  );
}, 10_000);

let died = false;
void worker.exited.then((e) => {
  if (Date.now() < deadline) {
    died = true;
    console.error(`the worker died: ${JSON.stringify(e)}\n${worker.stderr().slice(-3000)}`);
  }
});

await Promise.all(
  Array.from({ length: lanes }, async () => {
    while (Date.now() < deadline && !died) {
      const n = serial++;
      const kind = KINDS[n % KINDS.length]!;
      const id = `soak-${n}`;
      stats.elements += await bundle(kind, id);
      stats.bundles++;
      stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
      runner.forgetOutputs(id);
      if (runner.logs.length > 1000) runner.logs.length = 0;
      if (n % 500 === 0) {
        // Bag state grows with every bundle: start the keys afresh now and then.
        runner.state.clear();
        setSideInput(runner, SIDE);
      }
    }
  }),
);
clearInterval(reporter);
const rssEnd = worker.memory().rss;
const hwm = worker.memory().hwm;
runner.closeControl();
const exit = await within(worker.exited, 15_000, "still running");
await worker.stop();
runner.stop();

const seconds = (Date.now() - started) / 1000;
const summary = {
  minutes,
  threads,
  lanes,
  seconds: Math.round(seconds),
  bundles: stats.bundles,
  elements: stats.elements,
  elementsPerSecond: Math.round(stats.elements / seconds),
  bundlesByKind: stats.byKind,
  injectedFailures: stats.injectedFailures,
  unexpectedErrors: stats.unexpectedCount,
  unexpectedSamples: stats.unexpected,
  workerDied: died,
  exit,
  rssStartMiB: Math.round((rssStart / MiB) * 10) / 10,
  rssEndMiB: Math.round((rssEnd / MiB) * 10) / 10,
  rssPeakMiB: Math.round((hwm / MiB) * 10) / 10,
  samples,
};
console.log(JSON.stringify(summary, null, 2));
process.exitCode = stats.unexpectedCount > 0 || died ? 1 : 0;
