/**
 * Outbound data-plane framing, as Beam's runners read it: the worker sends the
 * last bytes of every data and timer stream in an ordinary entry and ends the
 * stream with an empty `is_last` entry. The fake runner is as strict as Beam
 * Python's (`data_plane.py`): bytes in an `is_last` entry are dropped and
 * recorded as a protocol violation. Inbound, the worker accepts both forms.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import { decodeAll, encodeGlobal, kv, STR, valuesOf, VARINT } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { encodeTimers, TIMER_SPEC, timerDescriptor, upperDescriptor } from "../faults/support.js";
import { assertOk } from "./support.js";

for (const threads of [0, 2]) {
  describe(`outbound framing with threads=${threads}`, () => {
    let session: WorkerSession;
    let runner: FakeRunner;

    before(async () => {
      session = await startWorkerSession({ threads });
      runner = session.runner;
      runner.descriptors.set("upper", upperDescriptor("upper", runner.url));
      runner.descriptors.set("timer", timerDescriptor("timer", runner.url));
    });
    after(() => session.stop());

    test("a small bundle's only bytes reach a runner that drops bytes in is_last entries", async () => {
      const response = runner.processBundle("upper", "small");
      await runner.sendData("small", "source", encodeGlobal(STR, ["a", "b", "c"]));
      assertOk(await response);
      assert.deepEqual(valuesOf(STR, await runner.output("small", "sink")), ["A", "B", "C"]);
      assert.deepEqual(runner.protocolViolations, []);
    });

    test("the tail of a large (multi-flush) stream is not lost", async () => {
      const words = Array.from({ length: 150_000 }, (_, i) => `word-${i}`);
      const response = runner.processBundle("upper", "large");
      await runner.sendData("large", "source", encodeGlobal(STR, words), [64 * 1024]);
      assertOk(await response);
      const out = valuesOf<string>(STR, await runner.output("large", "sink"));
      assert.equal(out.length, words.length);
      assert.equal(out.at(-1), "WORD-149999");
      assert.deepEqual(runner.protocolViolations, []);
    });

    test("the worker reads input whose last bytes come in the is_last entry (as Java's runner sends)", async () => {
      const response = runner.processBundle("upper", "java-style");
      // FakeRunner.sendData puts the last cut's bytes in the is_last entry.
      await runner.sendData("java-style", "source", encodeGlobal(STR, ["x", "y"]), [3]);
      assertOk(await response);
      assert.deepEqual(valuesOf(STR, await runner.output("java-style", "sink")), ["X", "Y"]);
    });

    test("the worker reads input ended by an empty is_last entry (as Python's runner sends)", async () => {
      const response = runner.processBundle("upper", "python-style");
      await runner.sendData("python-style", "source", encodeGlobal(STR, ["p", "q"]), [2], false);
      await runner.sendElements(
        new fnApi.Elements({
          data: [
            new fnApi.Elements.Data({
              instruction_id: "python-style",
              transform_id: "source",
              is_last: true,
            }),
          ],
        }),
      );
      assertOk(await response);
      assert.deepEqual(valuesOf(STR, await runner.output("python-style", "sink")), ["P", "Q"]);
    });

    test("timers set by the DoFn and outputs of fired timers arrive whole", async () => {
      const input = [
        { key: "k1", value: 1000 },
        { key: "k2", value: 2000 },
      ];
      const response = runner.processBundle("timer", "timers");
      await runner.sendData("timers", "source", encodeGlobal(kv(STR, VARINT), input));
      await runner.sendTimers("timers", "timed", "t", encodeTimers([{ key: "k3", at: 3000 }]));
      assertOk(await response);
      const set = decodeAll<{ userKey: string; fireTimestamp: bigint }>(
        TIMER_SPEC,
        await runner.output("timers", "timed", "t"),
      );
      assert.deepEqual(
        set.map((t) => [t.userKey, t.fireTimestamp]),
        [
          ["k1", 1000n],
          ["k2", 2000n],
        ],
      );
      const fired = valuesOf<{ key: string }>(
        kv(STR, VARINT),
        await runner.output("timers", "sink"),
      );
      assert.deepEqual(
        fired.map((e) => e.key),
        ["fired:k3@3000"],
      );
      assert.deepEqual(runner.protocolViolations, []);
    });
  });
}
