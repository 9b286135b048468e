/**
 * State-backed iterables through the real worker process (`bin/firefly
 * boot`), inline and on pool threads: the fake runner sends groups as a
 * prefix and a token (encoded as Beam Python's runner does) and serves the
 * rest as `StateKey.runner` pages; DoFns see arrays (or the async iterable
 * when lazy), combines read the pages, outputs encode, and a group past
 * firefly_max_iterable_bytes fails its bundle clearly.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { StateWritingIterable, type IterableStateWriter } from "../../coders/index.js";
import { endpointsApi, fnApi, pipelineApi } from "../../proto/index.js";
import { jsonToStruct } from "../../src/boot/struct-json.js";
import { FakeRunner } from "../support/fake-runner.js";
import {
  encodeGlobal,
  kv,
  linearDescriptor,
  pardoStep,
  STR,
  valuesOf,
  VARINT,
  type CoderSpec,
} from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk } from "./support.js";

const GROUPS: CoderSpec = kv(STR, {
  urn: "beam:coder:state_backed_iterable:v1",
  components: [VARINT],
});
const SUMS = kv(STR, VARINT);
const MAX_ITERABLE_BYTES = 4000;
const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);
/** ~1,000 bytes (two-byte varints): several 100-byte pages, under the limit. */
const BIG = range(500, 1000);
/** ~9,000 bytes (three-byte varints): past the limit. */
const HUGE = range(3000, 100_000);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Encodes groups as a runner does (threshold 64 bytes); the tails go to the runner's state. */
function encodeGroups(runner: FakeRunner, groups: Record<string, number[]>): Uint8Array {
  const writer: IterableStateWriter = {
    write(encoded) {
      const token = Buffer.from(`tail-${runner.state.size}`);
      const key = new fnApi.StateKey({ runner: new fnApi.StateKey.Runner({ key: token }) });
      runner.state.set(Buffer.from(key.serializeBinary()).toString("base64"), [encoded.slice()]);
      return token;
    },
  };
  return encodeGlobal(
    GROUPS,
    Object.entries(groups).map(([key, values]) => ({
      key,
      value: new StateWritingIterable(values, 64, writer),
    })),
  );
}

function combineStep(id: string): ReturnType<typeof pardoStep> {
  return {
    id,
    urn: "beam:transform:combine_grouped_values:v1",
    payload: new pipelineApi.CombinePayload({
      combine_fn: new pipelineApi.FunctionSpec({
        urn: "firefly:combinefn:v1",
        payload: new TextEncoder().encode(JSON.stringify({ builtin: "sum" })),
      }),
      accumulator_coder_id: "varint",
    }).serializeBinary(),
  };
}

const DOFNS = {
  arrays: `export default (g, ctx) => {
    ctx.output({ key: g.key + ":length", value: [g.value.length, Array.isArray(g.value) ? 1 : 0] });
    return [g];
  }`,
  lazy: `export default {
    lazyIterables: true,
    async process(g, ctx) {
      let total = 0;
      for await (const v of g.value) total += v;
      ctx.output({ key: g.key + ":sum", value: [total, Array.isArray(g.value) ? 1 : 0] });
      ctx.output(g);
    },
  }`,
  lazySum: `export default {
    lazyIterables: true,
    async process(g) {
      let total = 0;
      for await (const v of g.value) total += v;
      return [{ key: g.key, value: [total] }];
    },
  }`,
};

for (const threads of [0, 2]) {
  describe(`state-backed iterables through the worker process (threads=${threads})`, () => {
    let runner: FakeRunner;
    let worker: WorkerProcess;

    before(async () => {
      runner = await FakeRunner.start();
      runner.statePageSize = 100;
      const url = new endpointsApi.ApiServiceDescriptor({ url: runner.url });
      runner.provisionInfo.control_endpoint = url;
      runner.provisionInfo.logging_endpoint = url;
      runner.provisionInfo.pipeline_options = jsonToStruct({
        options: { firefly_max_iterable_bytes: MAX_ITERABLE_BYTES },
      });
      worker = startWorker(runner.url, {
        threads,
        id: `sbi-${threads}`,
        extraArgs: [`--provision_endpoint=${runner.url}`],
      });
      await runner.controlStream();
      for (const [id, source] of Object.entries(DOFNS)) {
        runner.descriptors.set(
          id,
          linearDescriptor({
            id,
            url: runner.url,
            input: GROUPS,
            state: true,
            steps: [pardoStep(`${id}-fn`, source)],
          }),
        );
      }
      runner.descriptors.set(
        "combine",
        linearDescriptor({
          id: "combine",
          url: runner.url,
          input: GROUPS,
          state: true,
          steps: [{ ...combineStep("sum"), output: SUMS }],
        }),
      );
    });

    after(async () => {
      runner.closeControl();
      await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
      await worker.stop();
      runner.stop();
    });

    let bundles = 0;
    /** Runs one bundle of the groups; its response and (when it succeeded) its output. */
    async function bundle(
      descriptorId: string,
      groups: Record<string, number[]>,
    ): Promise<{ response: fnApi.InstructionResponse; output: Uint8Array }> {
      const id = `${descriptorId}-${++bundles}`;
      const pending = runner.processBundle(descriptorId, id);
      await runner.sendData(id, "source", encodeGroups(runner, groups));
      const response = await pending;
      const output = response.error ? new Uint8Array() : await runner.output(id, "sink");
      return { response, output };
    }

    async function outputs<T>(
      descriptorId: string,
      groups: Record<string, number[]>,
      spec: CoderSpec = GROUPS,
    ): Promise<T[]> {
      const { response, output } = await bundle(descriptorId, groups);
      assertOk(response);
      return valuesOf<T>(spec, output);
    }

    test("a DoFn sees a state-backed group as an array (.length) and emits it", async () => {
      const gets = runner.stateRequests.get;
      const values = await outputs("arrays", { big: BIG, small: [1, 2] });
      assert.deepEqual(values, [
        { key: "big:length", value: [500, 1] },
        { key: "big", value: BIG },
        { key: "small:length", value: [2, 1] },
        { key: "small", value: [1, 2] },
      ]);
      assert.ok(runner.stateRequests.get - gets > 5, "the big group's tail was read in pages");
    });

    test("a DoFn with lazyIterables: true iterates the async iterable and can emit it", async () => {
      const values = await outputs("lazy", { big: BIG, small: [3] });
      assert.deepEqual(values, [
        { key: "big:sum", value: [sum(BIG), 0] },
        { key: "big", value: BIG },
        { key: "small:sum", value: [3, 1] },
        { key: "small", value: [3] },
      ]);
    });

    test("combine_grouped_values reads the pages (no limit: it never holds the group)", async () => {
      const values = await outputs("combine", { huge: HUGE, big: BIG }, SUMS);
      assert.deepEqual(values, [
        { key: "huge", value: sum(HUGE) },
        { key: "big", value: sum(BIG) },
      ]);
    });

    test("a group past firefly_max_iterable_bytes fails its bundle clearly; the next bundle runs", async () => {
      const failed = (await bundle("arrays", { huge: HUGE })).response.error;
      assert.match(failed, /"arrays-fn"/);
      assert.match(
        failed,
        /larger than the pipeline option firefly_max_iterable_bytes \(4000 bytes/,
      );
      assert.match(failed, /"lazyIterables: true"/);
      assert.deepEqual(await outputs("lazySum", { huge: HUGE }), [
        { key: "huge", value: [sum(HUGE)] },
      ]);
      const emitted = (await bundle("lazy", { huge: HUGE })).response.error;
      assert.match(
        emitted,
        /"lazy-fn".*a value the DoFn emitted holds a state-backed iterable larger than the pipeline option firefly_max_iterable_bytes/,
      );
      assert.equal((await outputs("arrays", { big: BIG })).length, 2);
    });
  });
}
