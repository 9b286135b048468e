/**
 * Combine phases, the lifted combine, window merging, flatten, window_into and
 * ordered list user state through the real worker process (`bin/firefly boot`) over gRPC on 127.0.0.1,
 * inline (threads = 0) and with a thread pool (threads = 2).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ByteWriter,
  GLOBAL_WINDOW,
  intervalWindow,
  NO_FIRING,
  type IntervalWindow,
  type KV,
  type WindowedValue,
} from "../../coders/index.js";
import { endpointsApi, fnApi, pipelineApi, windowFnsApi, wkt } from "../../proto/index.js";
import { FakeRunner } from "../support/fake-runner.js";
import {
  addCoder,
  coderOf,
  decodeAll,
  dofnPayload,
  GLOBAL,
  INTERVAL,
  iterable,
  kv,
  STR,
  VARINT,
  windowed,
  type CoderSpec,
} from "../support/descriptors.js";
import { startWorker, type WorkerProcess } from "../support/worker-process.js";
import { assertOk } from "./support.js";

const DOUBLE: CoderSpec = { urn: "beam:coder:double:v1" };
const FIXED_10: pipelineApi.FunctionSpec = new pipelineApi.FunctionSpec({
  urn: "beam:window_fn:fixed_windows:v1",
  payload: new windowFnsApi.FixedWindowsPayload({
    size: new wkt.Duration({ seconds: 0, nanos: 10_000_000 }),
  }).serializeBinary(),
});
const SESSIONS_10: pipelineApi.FunctionSpec = new pipelineApi.FunctionSpec({
  urn: "beam:window_fn:session_windows:v1",
  payload: new windowFnsApi.SessionWindowsPayload({
    gap_size: new wkt.Duration({ seconds: 0, nanos: 10_000_000 }),
  }).serializeBinary(),
});

type Windowing = "global" | "fixed";
const WINDOW_CODER: Record<Windowing, CoderSpec> = { global: GLOBAL, fixed: INTERVAL };

interface GraphStep {
  id: string;
  urn: string;
  payload?: Uint8Array;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/**
 * A descriptor of any shape: PCollections with their coders and windowing,
 * data sources (transform id → the PCollection they feed), steps, and data
 * sinks (transform id → the PCollection they read).
 */
function graphDescriptor(options: {
  id: string;
  url: string;
  pcollections: Record<string, { coder: CoderSpec; windowing?: Windowing }>;
  sources: Record<string, string>;
  steps: GraphStep[];
  sinks: Record<string, string>;
  /** Serve the State API on the runner's url (stateful ParDos). */
  state?: boolean;
}): fnApi.ProcessBundleDescriptor {
  const coders = new Map<string, pipelineApi.Coder>();
  const strategies = new Map<string, pipelineApi.WindowingStrategy>([
    [
      "global",
      new pipelineApi.WindowingStrategy({
        window_coder_id: addCoder(coders, GLOBAL),
        window_fn: new pipelineApi.FunctionSpec({ urn: "beam:window_fn:global_windows:v1" }),
        output_time: pipelineApi.OutputTime.Enum.END_OF_WINDOW,
      }),
    ],
    [
      "fixed",
      new pipelineApi.WindowingStrategy({
        window_coder_id: addCoder(coders, INTERVAL),
        window_fn: FIXED_10,
        output_time: pipelineApi.OutputTime.Enum.END_OF_WINDOW,
      }),
    ],
  ]);
  const pcollections = new Map<string, pipelineApi.PCollection>();
  for (const [id, pc] of Object.entries(options.pcollections)) {
    pcollections.set(
      id,
      new pipelineApi.PCollection({
        unique_name: id,
        coder_id: addCoder(coders, pc.coder),
        windowing_strategy_id: pc.windowing ?? "global",
      }),
    );
  }
  const port = (pcollectionId: string) => {
    const pc = options.pcollections[pcollectionId];
    const wireCoder = windowed(pc.coder, WINDOW_CODER[pc.windowing ?? "global"]);
    return new fnApi.RemoteGrpcPort({
      api_service_descriptor: new endpointsApi.ApiServiceDescriptor({ url: options.url }),
      coder_id: addCoder(coders, wireCoder),
    }).serializeBinary();
  };
  const transforms = new Map<string, pipelineApi.PTransform>();
  const add = (step: GraphStep) =>
    transforms.set(
      step.id,
      new pipelineApi.PTransform({
        unique_name: step.id,
        spec: new pipelineApi.FunctionSpec({
          urn: step.urn,
          payload: step.payload ?? new Uint8Array(),
        }),
        inputs: new Map(Object.entries(step.inputs)),
        outputs: new Map(Object.entries(step.outputs)),
      }),
    );
  for (const [id, pc] of Object.entries(options.sources)) {
    add({ id, urn: "beam:runner:source:v1", payload: port(pc), inputs: {}, outputs: { out: pc } });
  }
  for (const step of options.steps) add(step);
  for (const [id, pc] of Object.entries(options.sinks)) {
    add({ id, urn: "beam:runner:sink:v1", payload: port(pc), inputs: { in: pc }, outputs: {} });
  }
  const descriptor = new fnApi.ProcessBundleDescriptor({
    id: options.id,
    transforms,
    pcollections,
    coders,
    windowing_strategies: strategies,
  });
  if (options.state) {
    descriptor.state_api_service_descriptor = new endpointsApi.ApiServiceDescriptor({
      url: options.url,
    });
  }
  return descriptor;
}

/** A single-step descriptor: source → step → sink, for one combine phase. */
function oneStep(
  url: string,
  id: string,
  urn: string,
  payload: Uint8Array,
  input: CoderSpec,
  output: CoderSpec,
): fnApi.ProcessBundleDescriptor {
  return graphDescriptor({
    id,
    url,
    pcollections: { in: { coder: input }, out: { coder: output } },
    sources: { source: "in" },
    steps: [{ id: "phase", urn, payload, inputs: { in: "in" }, outputs: { out: "out" } }],
    sinks: { sink: "out" },
  });
}

const combinePayload = (fn: object) =>
  new pipelineApi.CombinePayload({
    combine_fn: new pipelineApi.FunctionSpec({
      urn: "firefly:combinefn:v1",
      payload: new TextEncoder().encode(JSON.stringify(fn)),
    }),
    accumulator_coder_id: "varint",
  }).serializeBinary();

/** Encodes windowed values (nested, concatenated) with a windowed_value coder. */
function encode(
  spec: CoderSpec,
  elements: { value: unknown; timestamp?: bigint; windows?: IntervalWindow[] }[],
  windowing: Windowing = "global",
): Uint8Array {
  const coder = coderOf<WindowedValue<unknown>>(windowed(spec, WINDOW_CODER[windowing]));
  const writer = new ByteWriter();
  for (const e of elements) {
    coder.encodeTo(
      {
        value: e.value,
        timestamp: e.timestamp ?? 0n,
        windows: e.windows ?? [GLOBAL_WINDOW],
        pane: NO_FIRING,
      },
      writer,
      "nested",
    );
  }
  return writer.finish();
}

const decode = <T>(spec: CoderSpec, bytes: Uint8Array, windowing: Windowing = "global") =>
  decodeAll<WindowedValue<T>>(windowed(spec, WINDOW_CODER[windowing]), bytes);

const sortByKey = <T extends KV<string, unknown>>(kvs: T[]) =>
  [...kvs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

const SUM = { builtin: "sum" };
const KV_STR_INT = kv(STR, VARINT);
const KV_STR_INTS = kv(STR, iterable(VARINT));

for (const threads of [0, 2]) {
  describe(`combine phases and windows through the worker, threads=${threads}`, () => {
    let runner: FakeRunner;
    let worker: WorkerProcess;
    let bundles = 0;

    /** Runs one bundle: sends every source's bytes, returns the sinks' decoded bytes. */
    async function run(
      descriptorId: string,
      inputs: Record<string, Uint8Array>,
      sinks: string[] = ["sink"],
      cacheTokens: fnApi.ProcessBundleRequest.CacheToken[] = [],
    ): Promise<Record<string, Uint8Array>> {
      const id = `${descriptorId}-${threads}-${bundles++}`;
      const response = runner.processBundle(descriptorId, id, cacheTokens);
      for (const [source, bytes] of Object.entries(inputs)) {
        await runner.sendData(id, source, bytes, [7, 64]);
      }
      assertOk(await response);
      const out: Record<string, Uint8Array> = {};
      for (const sink of sinks) out[sink] = await runner.output(id, sink);
      return out;
    }

    before(async () => {
      runner = await FakeRunner.start();
      worker = startWorker(runner.url, { threads });
      await runner.controlStream();
      const url = runner.url;
      const set = (d: fnApi.ProcessBundleDescriptor) => runner.descriptors.set(d.id, d);
      set(
        oneStep(
          url,
          "precombine",
          "beam:transform:combine_per_key_precombine:v1",
          combinePayload(SUM),
          KV_STR_INT,
          KV_STR_INT,
        ),
      );
      set(
        oneStep(
          url,
          "merge",
          "beam:transform:combine_per_key_merge_accumulators:v1",
          combinePayload(SUM),
          KV_STR_INTS,
          KV_STR_INT,
        ),
      );
      set(
        oneStep(
          url,
          "extract-mean",
          "beam:transform:combine_per_key_extract_outputs:v1",
          combinePayload({ builtin: "mean" }),
          KV_STR_INTS,
          kv(STR, DOUBLE),
        ),
      );
      set(
        oneStep(
          url,
          "convert-count",
          "beam:transform:combine_per_key_convert_to_accumulators:v1",
          combinePayload({ builtin: "count" }),
          KV_STR_INT,
          KV_STR_INT,
        ),
      );
      set(
        oneStep(
          url,
          "grouped-user",
          "beam:transform:combine_grouped_values:v1",
          combinePayload({
            source: `export default {
              createAccumulator: () => ({ sum: 0, max: -Infinity }),
              addInput: (a, x) => ({ sum: a.sum + x, max: Math.max(a.max, x) }),
              mergeAccumulators: (as) => as.reduce((m, a) => ({ sum: m.sum + a.sum, max: Math.max(m.max, a.max) })),
              extractOutput: (a) => a.sum + "/" + a.max,
            };`,
          }),
          KV_STR_INTS,
          kv(STR, STR),
        ),
      );
      set(
        oneStep(
          url,
          "precombine-bad-fn",
          "beam:transform:combine_per_key_precombine:v1",
          combinePayload({ builtin: "median" }),
          KV_STR_INT,
          KV_STR_INT,
        ),
      );
      set(
        graphDescriptor({
          id: "merge-extract",
          url,
          pcollections: {
            grouped: { coder: KV_STR_INTS },
            merged: { coder: KV_STR_INT },
            sums: { coder: KV_STR_INT },
          },
          sources: { source: "grouped" },
          steps: [
            {
              id: "merge",
              urn: "beam:transform:combine_per_key_merge_accumulators:v1",
              payload: combinePayload(SUM),
              inputs: { in: "grouped" },
              outputs: { out: "merged" },
            },
            {
              id: "extract",
              urn: "beam:transform:combine_per_key_extract_outputs:v1",
              payload: combinePayload(SUM),
              inputs: { in: "merged" },
              outputs: { out: "sums" },
            },
          ],
          sinks: { sink: "sums" },
        }),
      );
      const mergeResult = kv(
        STR,
        kv(iterable(INTERVAL), iterable(kv(INTERVAL, iterable(INTERVAL)))),
      );
      set(
        oneStep(
          url,
          "merge-sessions",
          "beam:transform:merge_windows:v1",
          SESSIONS_10.serializeBinary(),
          kv(STR, iterable(INTERVAL)),
          mergeResult,
        ),
      );
      set(
        graphDescriptor({
          id: "flatten",
          url,
          pcollections: { a: { coder: STR }, b: { coder: STR }, both: { coder: STR } },
          sources: { "source-a": "a", "source-b": "b" },
          steps: [
            {
              id: "flatten",
              urn: "beam:transform:flatten:v1",
              inputs: { x: "a", y: "b" },
              outputs: { out: "both" },
            },
          ],
          sinks: { sink: "both" },
        }),
      );
      set(
        graphDescriptor({
          id: "ordered-list",
          url,
          state: true,
          pcollections: { commands: { coder: kv(STR, STR) }, reads: { coder: kv(STR, STR) } },
          sources: { source: "commands" },
          steps: [
            {
              id: "timeline",
              urn: "beam:transform:pardo:v1",
              payload: dofnPayload(
                {
                  source: `export default {
                    async process(e, ctx) {
                      const list = ctx.state("timeline");
                      const [cmd, a, b] = e.value.split(":");
                      if (cmd === "add") { list.add({ timestamp: BigInt(a), value: b }); return []; }
                      if (cmd === "clear") { list.clearRange(Number(a), Number(b)); return []; }
                      const all = await list.read();
                      return [{ key: e.key, value: all.map((x) => x.timestamp + "=" + x.value).join(" ") }];
                    },
                  };`,
                },
                {
                  state_specs: new Map([
                    [
                      "timeline",
                      new pipelineApi.StateSpec({
                        ordered_list_spec: new pipelineApi.OrderedListStateSpec({
                          element_coder_id: "string_utf8",
                        }),
                      }),
                    ],
                  ]),
                },
              ),
              inputs: { in: "commands" },
              outputs: { out: "reads" },
            },
          ],
          sinks: { sink: "reads" },
        }),
      );
      set(
        graphDescriptor({
          id: "window-into",
          url,
          pcollections: {
            events: { coder: STR },
            windowed: { coder: STR, windowing: "fixed" },
            labelled: { coder: STR, windowing: "fixed" },
          },
          sources: { source: "events" },
          steps: [
            {
              id: "window",
              urn: "beam:transform:window_into:v1",
              payload: new pipelineApi.WindowIntoPayload({ window_fn: FIXED_10 }).serializeBinary(),
              inputs: { in: "events" },
              outputs: { out: "windowed" },
            },
            {
              id: "label",
              urn: "beam:transform:pardo:v1",
              payload: dofnPayload({
                source:
                  "export default (s, ctx) => [`${s}@[${ctx.window.start},${ctx.window.end})`]",
              }),
              inputs: { in: "windowed" },
              outputs: { out: "labelled" },
            },
          ],
          sinks: { sink: "labelled" },
        }),
      );
    });

    after(async () => {
      runner.closeControl();
      const outcome = await Promise.race([
        worker.exited,
        new Promise((r) => setTimeout(() => r("timeout"), 10_000)),
      ]);
      await worker.stop();
      runner.stop();
      assert.deepEqual(
        outcome,
        { code: 0, signal: null },
        `the worker exits cleanly\n${worker.stderr().slice(-2000)}`,
      );
    });

    test("precombine: one accumulator per key and bundle, exact sums", async () => {
      const input = Array.from({ length: 300 }, (_, i) => ({
        value: { key: `k${i % 7}`, value: i },
      }));
      const { sink } = await run("precombine", { source: encode(KV_STR_INT, input) });
      const out = decode<KV<string, number>>(KV_STR_INT, sink);
      assert.equal(out.length, 7, "one output per key");
      const want = Array.from({ length: 7 }, (_, k) => ({
        key: `k${k}`,
        value: input.filter((e) => e.value.key === `k${k}`).reduce((s, e) => s + e.value.value, 0),
      }));
      assert.deepEqual(sortByKey(out.map((e) => e.value)), want);
    });

    test("merge_accumulators, extract_outputs, convert_to_accumulators, combine_grouped_values", async () => {
      const merged = await run("merge", {
        source: encode(KV_STR_INTS, [
          { value: { key: "a", value: [1, 2, 3] } },
          { value: { key: "b", value: [] } },
        ]),
      });
      assert.deepEqual(
        decode(KV_STR_INT, merged.sink).map((e) => e.value),
        [
          { key: "a", value: 6 },
          { key: "b", value: 0 },
        ],
      );
      const mean = await run("extract-mean", {
        source: encode(KV_STR_INTS, [{ value: { key: "m", value: [10, 4] } }]),
      });
      assert.deepEqual(
        decode(kv(STR, DOUBLE), mean.sink).map((e) => e.value),
        [{ key: "m", value: 2.5 }],
      );
      const counts = await run("convert-count", {
        source: encode(KV_STR_INT, [
          { value: { key: "x", value: 17 } },
          { value: { key: "x", value: 99 } },
        ]),
      });
      assert.deepEqual(
        decode(KV_STR_INT, counts.sink).map((e) => e.value),
        [
          { key: "x", value: 1 },
          { key: "x", value: 1 },
        ],
      );
      const grouped = await run("grouped-user", {
        source: encode(KV_STR_INTS, [{ value: { key: "g", value: [4, 9, 2] } }]),
      });
      assert.deepEqual(
        decode(kv(STR, STR), grouped.sink).map((e) => e.value),
        [{ key: "g", value: "15/9" }],
      );
    });

    test("the full lifted combine: precombine bundles → runner grouping → merge → extract, exact sums past 2^53", async () => {
      const big = 2 ** 52;
      const input = Array.from({ length: 600 }, (_, i) => ({
        key: `key-${i % 13}`,
        value: i % 3 === 0 ? big + i : i,
      }));
      const expected = new Map<string, bigint>();
      for (const { key, value } of input)
        expected.set(key, (expected.get(key) ?? 0n) + BigInt(value));
      // Three "workers" precombine a third each; the runner groups their accumulators by key.
      const grouped = new Map<string, (number | bigint)[]>();
      for (let part = 0; part < 3; part++) {
        const slice = input.filter((_, i) => i % 3 === part).map((value) => ({ value }));
        const { sink } = await run("precombine", { source: encode(KV_STR_INT, slice) });
        for (const { value } of decode<KV<string, number | bigint>>(KV_STR_INT, sink)) {
          grouped.set(value.key, [...(grouped.get(value.key) ?? []), value.value]);
        }
      }
      assert.ok([...grouped.values()].every((accs) => accs.length === 3));
      const { sink } = await run("merge-extract", {
        source: encode(
          KV_STR_INTS,
          [...grouped].map(([key, value]) => ({ value: { key, value } })),
        ),
      });
      const sums = decode<KV<string, number | bigint>>(KV_STR_INT, sink).map((e) => e.value);
      assert.equal(sums.length, 13);
      for (const { key, value } of sums) {
        assert.equal(BigInt(value), expected.get(key), `sum of ${key}`);
      }
      assert.ok(
        [...expected.values()].some((v) => v > BigInt(Number.MAX_SAFE_INTEGER)),
        "the test reaches past 2^53",
      );
    });

    test("a CombineFn that cannot load fails the bundle with an error naming the transform; the worker goes on", async () => {
      const id = `bad-fn-${threads}`;
      const response = runner.processBundle("precombine-bad-fn", id);
      await runner.sendData(id, "source", encode(KV_STR_INT, [{ value: { key: "a", value: 1 } }]));
      const r = await response;
      assert.match(r.error, /"phase".*unknown builtin CombineFn "median"/s);
      const { sink } = await run("precombine", {
        source: encode(KV_STR_INT, [{ value: { key: "a", value: 1 } }]),
      });
      assert.deepEqual(
        decode(KV_STR_INT, sink).map((e) => e.value),
        [{ key: "a", value: 1 }],
      );
    });

    test("merge_windows merges overlapping session windows; touching ones stay apart", async () => {
      const iw = (s: number, e: number) => intervalWindow(BigInt(s), BigInt(e));
      const { sink } = await run("merge-sessions", {
        source: encode(kv(STR, iterable(INTERVAL)), [
          { value: { key: "n1", value: [iw(0, 10), iw(5, 15), iw(15, 25), iw(40, 50)] } },
        ]),
      });
      const [out] = decode<
        KV<string, KV<IntervalWindow[], KV<IntervalWindow, IntervalWindow[]>[]>>
      >(kv(STR, kv(iterable(INTERVAL), iterable(kv(INTERVAL, iterable(INTERVAL))))), sink);
      assert.equal(out.value.key, "n1");
      const unmerged = out.value.value.key.map((w) => [w.start, w.end]);
      const merges = out.value.value.value.map((m) => ({
        merged: [m.key.start, m.key.end],
        from: m.value.map((w) => [w.start, w.end]).sort((a, b) => Number(a[0] - b[0])),
      }));
      assert.deepEqual(
        unmerged.sort((a, b) => Number(a[0] - b[0])),
        [
          [15n, 25n],
          [40n, 50n],
        ],
      );
      assert.deepEqual(merges, [
        {
          merged: [0n, 15n],
          from: [
            [0n, 10n],
            [5n, 15n],
          ],
        },
      ]);
    });

    test("flatten of two inputs delivers every element of both", async () => {
      const a = Array.from({ length: 50 }, (_, i) => `a${i}`);
      const b = Array.from({ length: 30 }, (_, i) => `b${i}`);
      const { sink } = await run("flatten", {
        "source-a": encode(
          STR,
          a.map((value) => ({ value })),
        ),
        "source-b": encode(
          STR,
          b.map((value) => ({ value })),
        ),
      });
      const out = decode<string>(STR, sink).map((e) => e.value);
      assert.deepEqual([...out].sort(), [...a, ...b].sort());
      assert.deepEqual(
        out.filter((v) => v.startsWith("a")),
        a,
        "each input keeps its order",
      );
    });

    test("window_into fixed windows, then a DoFn that observes the window", async () => {
      const events = [
        { value: "e0", timestamp: 0n },
        { value: "e9", timestamp: 9n },
        { value: "e10", timestamp: 10n },
        { value: "e-1", timestamp: -1n },
        { value: "e25", timestamp: 25n },
      ];
      const { sink } = await run("window-into", { source: encode(STR, events) });
      const out = decode<string>(STR, sink, "fixed");
      assert.deepEqual(
        out.map((e) => [e.value, e.timestamp, (e.windows as IntervalWindow[]).map((w) => w.start)]),
        [
          ["e0@[0,10)", 0n, [0n]],
          ["e9@[0,10)", 9n, [0n]],
          ["e10@[10,20)", 10n, [10n]],
          ["e-1@[-10,0)", -1n, [-10n]],
          ["e25@[20,30)", 25n, [20n]],
        ],
      );
    });

    test("ordered list user state across bundles, with a user-state cache token", async () => {
      const token = new fnApi.ProcessBundleRequest.CacheToken({
        token: new TextEncoder().encode(`user-${threads}`),
        user_state: new fnApi.ProcessBundleRequest.CacheToken.UserState(),
      });
      const step = async (...cmds: string[]) => {
        const { sink } = await run(
          "ordered-list",
          {
            source: encode(
              kv(STR, STR),
              cmds.map((value) => ({ value: { key: `k${threads}`, value } })),
            ),
          },
          ["sink"],
          [token],
        );
        return decode<KV<string, string>>(kv(STR, STR), sink).map((e) => e.value.value);
      };
      assert.deepEqual(await step("add:30:c", "add:10:a", "read"), ["10=a 30=c"]);
      assert.deepEqual(await step("add:20:b", "add:-1:z", "read"), ["-1=z 10=a 20=b 30=c"]);
      assert.deepEqual(await step("clear:0:25", "read"), ["-1=z 30=c"]);
      assert.deepEqual(await step("read"), ["-1=z 30=c"], "the cached list saw the clear");
      assert.deepEqual(await step("add:5:m", "read"), ["-1=z 5=m 30=c"]);
    });
  });
}
