/**
 * Data sampling (`sample_data`, Beam 2.50) against the real worker, inline and
 * with pool threads: the first elements of every PCollection are sampled and
 * encoded with its coder, a request drains them, a filter selects PCollections,
 * an element whose processing threw is sampled with the exception, and a
 * worker without sampling answers with an empty response.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fnApi } from "../../proto/index.js";
import type { FakeRunner } from "../support/fake-runner.js";
import { coderOf, encodeGlobal, linearDescriptor, pardoStep, STR } from "../support/descriptors.js";
import { startWorkerSession, type WorkerSession } from "../support/worker-process.js";
import { assertOk } from "./support.js";

const UPPER =
  "export default (s) => { if (s === 'bad') throw new Error('bad word'); return [s.toUpperCase()]; }";

async function sampleData(runner: FakeRunner, ids: string[] = []) {
  const response = await runner.instruct(
    new fnApi.InstructionRequest({
      sample_data: new fnApi.SampleDataRequest({ pcollection_ids: ids }),
    }),
  );
  assertOk(response);
  return response.sample_data.element_samples;
}

function decoded(samples: fnApi.SampleDataResponse.ElementList | undefined): string[] {
  return (samples?.elements ?? []).map((e) => coderOf<string>(STR).decode(e.element, "nested"));
}

function upperDescriptor(runner: FakeRunner) {
  runner.descriptors.set(
    "upper",
    linearDescriptor({ id: "upper", url: runner.url, input: STR, steps: [pardoStep("up", UPPER)] }),
  );
}

for (const threads of [0, 2]) {
  describe(`data sampling with threads=${threads}`, () => {
    let session: WorkerSession;
    let runner: FakeRunner;

    before(async () => {
      session = await startWorkerSession({ threads, extraArgs: ["--data_sampling"] });
      runner = session.runner;
      upperDescriptor(runner);
    });

    after(() => session.stop());

    test("the first 10 elements of each PCollection are sampled, and a request drains them", async () => {
      const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
      const response = runner.processBundle("upper", "s1");
      await runner.sendData("s1", "source", encodeGlobal(STR, words));
      assertOk(await response);
      const samples = await sampleData(runner);
      assert.deepEqual(decoded(samples.get("pc0")), words.slice(0, 10));
      assert.deepEqual(
        decoded(samples.get("pc1")),
        words.slice(0, 10).map((w) => w.toUpperCase()),
      );
      const first = samples.get("pc0")!.elements[0];
      assert.equal(first.has_exception, false);
      const takenAt = Number(first.sample_timestamp.seconds) * 1000;
      assert.ok(Math.abs(takenAt - Date.now()) < 60_000, "sample timestamp is the sampling time");
      assert.equal((await sampleData(runner)).size, 0, "samples were drained");
    });

    test("an element that made user code throw is sampled with the exception", async () => {
      const response = runner.processBundle("upper", "s2");
      await runner.sendData("s2", "source", encodeGlobal(STR, ["bad"]));
      assert.match((await response).error, /bad word/);
      const samples = await sampleData(runner, ["pc0"]);
      assert.deepEqual([...samples.keys()], ["pc0"], "only the requested PCollection");
      const failed = samples.get("pc0")!.elements.filter((e) => e.has_exception);
      assert.equal(failed.length, 1, "the failing element is sampled once");
      assert.equal(coderOf<string>(STR).decode(failed[0].element, "nested"), "bad");
      assert.equal(failed[0].exception.instruction_id, "s2");
      assert.equal(failed[0].exception.transform_id, "up");
      assert.match(failed[0].exception.error, /bad word/);
    });
  });
}

test("a worker without data sampling answers sample_data with an empty response", async () => {
  const session = await startWorkerSession({ threads: 0 });
  try {
    upperDescriptor(session.runner);
    const response = session.runner.processBundle("upper", "n1");
    await session.runner.sendData("n1", "source", encodeGlobal(STR, ["a"]));
    assertOk(await response);
    assert.equal((await sampleData(session.runner)).size, 0);
  } finally {
    await session.stop();
  }
});
