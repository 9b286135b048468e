import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { SplitGate } from "../../operations/split-gate.js";

test("a split keeps the fraction of the remainder after the current element", () => {
  const gate = new SplitGate();
  gate.reset();
  for (let i = 0; i < 3; i++) assert.ok(gate.claimNext()); // elements 0..2 claimed
  const split = gate.trySplit({
    fractionOfRemainder: 0.5,
    estimatedInputElements: 11,
    allowedSplitPoints: [],
  });
  // position 3, remainder 8 → keep 4 → first residual 7
  assert.deepEqual(split, { lastPrimaryElement: 6, firstResidualElement: 7 });
  for (let i = 3; i < 7; i++) assert.ok(gate.claimNext(), `element ${i} is primary`);
  assert.equal(gate.claimNext(), false, "element 7 is residual");
  assert.equal(gate.claimed, 7);
});

test("fraction 0 splits right after the current element; no split past the stop bound", () => {
  const gate = new SplitGate();
  gate.reset();
  gate.claimNext();
  assert.deepEqual(
    gate.trySplit({ fractionOfRemainder: 0, estimatedInputElements: 10, allowedSplitPoints: [] }),
    {
      lastPrimaryElement: 0,
      firstResidualElement: 1,
    },
  );
  assert.equal(
    gate.trySplit({ fractionOfRemainder: 0.5, estimatedInputElements: 10, allowedSplitPoints: [] }),
    undefined,
  );
});

test("allowed split points are honoured and an unknown total cannot be split", () => {
  const gate = new SplitGate();
  gate.reset();
  assert.equal(
    gate.trySplit({ fractionOfRemainder: 0.5, estimatedInputElements: 0, allowedSplitPoints: [] }),
    undefined,
  );
  const split = gate.trySplit({
    fractionOfRemainder: 0.5,
    estimatedInputElements: 100,
    allowedSplitPoints: [10, 80],
  });
  assert.deepEqual(split, { lastPrimaryElement: 79, firstResidualElement: 80 });
});

test("primary and residual cover every element exactly once when another thread claims concurrently", async () => {
  const gate = new SplitGate();
  gate.reset();
  const total = 200_000;
  const gateModule = new URL("../../operations/split-gate.js", import.meta.url).href;
  const source = `
    const { workerData, parentPort } = require("node:worker_threads");
    import(${JSON.stringify(gateModule)}).then(({ SplitGate }) => {
      const gate = new SplitGate(workerData.buffer);
      let processed = 0;
      while (processed < ${total} && gate.claimNext()) processed++;
      parentPort.postMessage(processed);
    });
  `;
  const worker = new Worker(source, { eval: true, workerData: { buffer: gate.buffer } });
  const processed = new Promise<number>((resolve) => worker.once("message", resolve));
  while (gate.claimed < 1000) await new Promise((r) => setImmediate(r));
  let split: ReturnType<SplitGate["trySplit"]>;
  do {
    split = gate.trySplit({
      fractionOfRemainder: 0.5,
      estimatedInputElements: total,
      allowedSplitPoints: [],
    });
  } while (!split && gate.claimed < total);
  const count = await processed;
  await worker.terminate();
  assert.ok(split, "a split happened while the source ran");
  assert.ok(split.firstResidualElement > 1000, "the split came after the source had started");
  assert.equal(count, split.firstResidualElement, "the source processed exactly the primary");
  assert.equal(split.lastPrimaryElement + 1, split.firstResidualElement);
});

/** A fake splittable element: `done` of element `index` is processed; records the fraction asked. */
function elementAt(index: number, done: number) {
  const asked: number[] = [];
  const splitter = {
    asked,
    fractionDone: (i: number) => (i === index ? done : undefined),
    split: (i: number, fraction: number) => {
      asked.push(fraction);
      return i === index
        ? {
            transformId: "sdf",
            inputId: "in",
            primary: new Uint8Array([1]),
            residual: new Uint8Array([2]),
          }
        : undefined;
    },
  };
  return splitter;
}

test("a split point inside the running element splits it (Beam Python's arithmetic); the rest of the input is residual", () => {
  const gate = new SplitGate();
  gate.reset();
  for (let i = 0; i < 3; i++) gate.claimNext(); // element 2 is running, a quarter done
  const element = elementAt(2, 0.25);
  // 4 elements: remainder = 4 - 2 - 0.25 = 1.75, keep 0.35 of the element's remaining 0.75
  const split = gate.trySplit(
    { fractionOfRemainder: 0.2, estimatedInputElements: 4, allowedSplitPoints: [] },
    element,
  );
  assert.equal(split?.lastPrimaryElement, 1);
  assert.equal(split?.firstResidualElement, 3);
  assert.deepEqual(split?.elementSplit?.residual, new Uint8Array([2]));
  assert.ok(Math.abs(element.asked[0]! - (1.75 * 0.2) / 0.75) < 1e-12);
  assert.equal(gate.claimNext(), false, "element 3 is residual");
});

test("a split point past the running element, or a disallowed split point, splits between elements", () => {
  const far = new SplitGate();
  far.reset();
  far.claimNext(); // element 0, half done
  const element = elementAt(0, 0.5);
  const split = far.trySplit(
    { fractionOfRemainder: 0.5, estimatedInputElements: 10, allowedSplitPoints: [] },
    element,
  );
  assert.equal(split?.elementSplit, undefined);
  assert.deepEqual(element.asked, [], "the element was not asked to split");
  const disallowed = new SplitGate();
  disallowed.reset();
  disallowed.claimNext();
  const inside = disallowed.trySplit(
    { fractionOfRemainder: 0.1, estimatedInputElements: 1, allowedSplitPoints: [0, 5] },
    elementAt(0, 0.5),
  );
  assert.equal(inside?.elementSplit, undefined, "split point 1 is not allowed");
});
