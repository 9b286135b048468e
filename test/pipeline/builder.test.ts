import assert from "node:assert/strict";
import { test } from "node:test";
import { pipelineApi, windowFnsApi } from "../../proto/index.js";
import {
  fixedWindows,
  kv,
  Pipeline,
  sessions,
  slidingWindows,
  top,
} from "../../src/pipeline/index.js";
import {
  assertWellFormed,
  coderShape,
  dofnJson,
  loadDoFn,
  outputCoder,
  parDoPayload,
  runDoFn,
  transform,
  windowingOf,
} from "./support.js";

const newPipeline = () => new Pipeline({ runner: "local" });

test("create: Impulse + a ParDo emitting the values, coder inferred, values round-trip", async () => {
  const p = newPipeline();
  p.create([1, 2, 3]);
  p.create([{ key: "a", value: 1n }], { name: "Kvs" });
  p.create([new Uint8Array([1, 2]), new Uint8Array()], { name: "Bytes" });
  p.create([{ nested: [1, "x"] }, null], { name: "Json" });
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.deepEqual(proto.root_transform_ids, ["Create", "Kvs", "Bytes", "Json"]);
  assert.deepEqual(transform(proto, "Create").subtransforms, ["Create/Impulse", "Create/Values"]);
  assert.equal(transform(proto, "Create/Impulse").spec.urn, "beam:transform:impulse:v1");
  assert.equal(outputCoder(proto, "Create/Impulse"), "bytes");
  assert.equal(outputCoder(proto, "Create"), "varint");
  assert.equal(outputCoder(proto, "Kvs"), "kv(string_utf8,varint)");
  assert.equal(outputCoder(proto, "Bytes"), "bytes");
  assert.equal(outputCoder(proto, "Json"), "json");
  const impulse = [new Uint8Array()];
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Create/Values"), impulse), [1, 2, 3]);
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Kvs/Values"), impulse), [
    { key: "a", value: 1n },
  ]);
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Bytes/Values"), impulse), [
    new Uint8Array([1, 2]),
    new Uint8Array(),
  ]);
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Json/Values"), impulse), [
    { nested: [1, "x"] },
    null,
  ]);
});

test("create: an explicit coder wins; a value it cannot encode is an error naming the value", () => {
  const p = newPipeline();
  p.create([1, 2], { coder: "double" });
  assert.equal(outputCoder(p.toProto(), "Create"), "double");
  assert.throws(
    () => p.create(["x", 3], { coder: "string", name: "Bad" }),
    /Bad: value 1 cannot be encoded/,
  );
  assert.throws(() => p.create([() => 1]), /value 0 cannot be encoded/);
});

test("map, flatMap, filter: ParDos whose shipped sources load and behave, config reaches ctx.config", async () => {
  const p = newPipeline();
  const nums = p.create([1, 2, 3]);
  nums.map((x, ctx) => x * ctx.config.factor, { config: { factor: 10 }, name: "Scale" });
  nums.flatMap((x) => Array.from({ length: x }, () => x), { coder: "varint" });
  nums.filter(function isOdd(x) {
    return x % 2 === 1;
  });
  nums.map(async (x) => `${x}!`, { coder: "string", name: "Async" });
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.deepEqual(dofnJson(proto, "Scale").config, { factor: 10 });
  assert.equal(outputCoder(proto, "Scale"), "json");
  assert.equal(outputCoder(proto, "FlatMap"), "varint");
  assert.equal(outputCoder(proto, "Filter(isOdd)"), "varint", "filter keeps its input's coder");
  assert.equal(outputCoder(proto, "Async"), "string_utf8");
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Scale"), [1, 2, 3]), [10, 20, 30]);
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "FlatMap"), [1, 2]), [1, 2, 2]);
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Filter(isOdd)"), [1, 2, 3]), [1, 3]);
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Async"), [1]), ["1!"]);
});

test("transform names: explicit names are unique, automatic names are numbered", () => {
  const p = newPipeline();
  const a = p.create(["a"]);
  a.map((x) => x);
  a.map((x) => x);
  a.map((x) => x, { name: "Same" });
  assert.throws(() => a.map((x) => x, { name: "Same" }), /a transform named "Same" already exists/);
  assert.throws(() => a.map((x) => x, { name: "a/b" }), /without "\/"/);
  const ids = [...p.toProto().components.transforms.keys()];
  assert.ok(ids.includes("Map") && ids.includes("Map_2") && ids.includes("Same"), ids.join(","));
});

test("parDo: DoFn objects and classes with tagged outputs, side inputs as iterable and multimap views", async () => {
  const p = newPipeline();
  const words = p.create(["a", "bb", "ccc"]);
  const lengths = p.create([{ key: "a", value: 1 }], { name: "Lengths" });
  const limit = p.create([2], { name: "Limit" });
  const outs = words.parDo(
    {
      async process(word: string, ctx: any) {
        const [max] = (await ctx.sideInput("limit")) as number[];
        if (word.length > max) ctx.output(word, "long");
        else ctx.output(word.length);
      },
    },
    {
      name: "Split",
      outputs: { main: { coder: "varint" }, long: { coder: "string" } },
      sideInputs: { limit: limit.asIterable(), lengths: lengths.asMultimap() },
    },
  );
  assert.deepEqual(Object.keys(outs), ["main", "long"]);
  class Upper {
    prefix = "";
    setup(config: { prefix: string }) {
      this.prefix = config.prefix;
    }
    process(word: string) {
      return [this.prefix + word.toUpperCase()];
    }
  }
  outs.long.parDo(Upper, { name: "Upper", config: { prefix: ">" }, coder: "string" });
  const proto = p.toProto();
  assertWellFormed(proto);
  const split = transform(proto, "Split");
  assert.deepEqual(Object.fromEntries(split.inputs), {
    input: "Create/Values.out",
    limit: "Limit/Values.out",
    lengths: "Lengths/Values.out",
  });
  assert.deepEqual(Object.fromEntries(split.outputs), { main: "Split.main", long: "Split.long" });
  assert.equal(outputCoder(proto, "Split", "main"), "varint");
  assert.equal(outputCoder(proto, "Split", "long"), "string_utf8");
  const payload = parDoPayload(proto, "Split");
  assert.equal(payload.side_inputs.get("limit")?.access_pattern.urn, "beam:side_input:iterable:v1");
  assert.equal(
    payload.side_inputs.get("lengths")?.access_pattern.urn,
    "beam:side_input:multimap:v1",
  );
  assert.equal(
    payload.side_inputs.get("limit")?.window_mapping_fn.urn,
    "beam:window_fn:global_windows:v1",
  );
  const loaded = await loadDoFn(proto, "Split");
  const sideInput = async (name: string) => (name === "limit" ? [2] : []);
  assert.deepEqual(await runDoFn(loaded, ["a", "bb", "ccc"], { sideInput }), [1, 2, "ccc"]);
  assert.deepEqual(await runDoFn(await loadDoFn(proto, "Upper"), ["x"]), [">X"]);
});

test("parDo: {module, export} references pass through; a side input named input is refused", () => {
  const p = newPipeline();
  const a = p.create(["a"]);
  a.parDo({ module: "./fns/upper.mjs", export: "upper" }, { config: { suffix: "!" } });
  assert.deepEqual(dofnJson(p.toProto(), "ParDo"), {
    module: "./fns/upper.mjs",
    export: "upper",
    config: { suffix: "!" },
  });
  assert.throws(
    () => a.parDo((x: unknown) => [x], { sideInputs: { input: a.asIterable() } }),
    /"input" names the main input/,
  );
  assert.throws(
    () => a.parDo((x: unknown) => [x], { sideInputs: { s: a as never } }),
    /must be a view/,
  );
});

test("parDo with state and timers: specs, timer coder kv key + window, stateful requirement", () => {
  const p = newPipeline();
  const events = p.create([{ key: "k", value: 1 }]).windowInto(fixedWindows(60_000));
  events.parDo(
    {
      process(_kv: unknown, ctx: any) {
        ctx.state("seen").add(1);
      },
      onTimer: {
        flush(_timer: unknown, _ctx: unknown) {
          return [];
        },
      },
    },
    {
      name: "Stateful",
      state: {
        seen: { kind: "bag", coder: "varint" },
        last: { kind: "value" },
        total: { kind: "combining", combineFn: "sum", coder: "varint" },
        names: { kind: "set", coder: "string" },
        index: { kind: "map", keyCoder: "string", coder: "double" },
      },
      timers: { flush: "event", poll: { domain: "processing" } },
    },
  );
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.deepEqual(proto.requirements, ["beam:requirement:pardo:stateful:v1"]);
  const payload = parDoPayload(proto, "Stateful");
  const shape = (id: string) => coderShape(proto, id);
  assert.equal(shape(payload.state_specs.get("seen")!.bag_spec.element_coder_id), "varint");
  assert.equal(payload.state_specs.get("seen")!.protocol.urn, "beam:user_state:bag:v1");
  assert.equal(shape(payload.state_specs.get("last")!.read_modify_write_spec.coder_id), "json");
  const total = payload.state_specs.get("total")!.combining_spec;
  assert.equal(total.combine_fn.urn, "firefly:combinefn:v1");
  assert.deepEqual(JSON.parse(Buffer.from(total.combine_fn.payload).toString()), {
    builtin: "sum",
  });
  assert.equal(shape(total.accumulator_coder_id), "varint");
  assert.equal(shape(payload.state_specs.get("names")!.set_spec.element_coder_id), "string_utf8");
  const index = payload.state_specs.get("index")!;
  assert.equal(index.protocol.urn, "beam:user_state:multimap:v1");
  assert.equal(shape(index.map_spec.key_coder_id), "string_utf8");
  assert.equal(shape(index.map_spec.value_coder_id), "double");
  const flush = payload.timer_family_specs.get("flush")!;
  assert.equal(flush.time_domain, pipelineApi.TimeDomain.Enum.EVENT_TIME);
  assert.equal(shape(flush.timer_family_coder_id), "timer(string_utf8,interval_window)");
  assert.equal(
    payload.timer_family_specs.get("poll")!.time_domain,
    pipelineApi.TimeDomain.Enum.PROCESSING_TIME,
  );
});

test("state needs KV input: a declared non-KV coder is refused, a json default becomes kv(json, json)", () => {
  const p = newPipeline();
  assert.throws(
    () => p.create(["a"]).parDo((x: unknown) => [x], { state: { s: { kind: "bag" } } }),
    /needs KV elements.*beam:coder:string_utf8:v1/,
  );
  const pairs = p.create(["a"], { name: "A" }).map((w) => ({ key: w, value: 1 }), { name: "Pair" });
  pairs.parDo((x: unknown) => [x], { name: "S", state: { s: { kind: "bag" } } });
  assert.equal(outputCoder(p.toProto(), "Pair"), "kv(json,json)");
  const flattened = p
    .create(["b"], { name: "B" })
    .map((w) => ({ key: w, value: 1 }), { name: "PairB" });
  p.flatten([flattened, flattened.filter(() => true)]);
  assert.throws(() => flattened.groupByKey({ name: "G" }), /G needs KV elements/);
});

test("groupByKey: KV<K, Iterable<V>> in the input's windowing; merging windows become ALREADY_MERGED", () => {
  const p = newPipeline();
  const pairs = p.create([{ key: "a", value: 1 }]);
  pairs.groupByKey();
  pairs.windowInto(sessions(1000)).groupByKey({ name: "Sessions" });
  assert.throws(() => p.create(["x"], { name: "X" }).groupByKey(), /GroupByKey needs KV elements/);
  const proto = p.toProto();
  assertWellFormed(proto);
  const gbk = transform(proto, "GroupByKey");
  assert.equal(gbk.spec.urn, "beam:transform:group_by_key:v1");
  assert.equal(gbk.environment_id, "");
  assert.equal(outputCoder(proto, "GroupByKey"), "kv(string_utf8,iterable(varint))");
  const merged = windowingOf(proto, "Sessions.out");
  assert.equal(merged.merge_status, pipelineApi.MergeStatus.Enum.ALREADY_MERGED);
  const before = windowingOf(proto, "WindowInto.out");
  assert.equal(before.merge_status, pipelineApi.MergeStatus.Enum.NEEDS_MERGE);
});

test("combinePerKey: combine_per_key composite (GroupByKey + combine_grouped_values), built-ins and user fns", async () => {
  const p = newPipeline();
  const pairs = p.create([{ key: "a", value: 2 }]);
  const cases: [string, Parameters<typeof pairs.combinePerKey>[0], object, string, string][] = [
    ["Sum", "sum", { builtin: "sum" }, "varint", "varint"],
    ["Count", "count", { builtin: "count" }, "varint", "varint"],
    ["Min", "min", { builtin: "min" }, "nullable(varint)", "varint"],
    ["Max", "max", { builtin: "max" }, "nullable(varint)", "varint"],
    ["Mean", "mean", { builtin: "mean" }, "iterable(double)", "nullable(double)"],
    ["Top", top(2), { builtin: "top", config: { n: 2 } }, "iterable(varint)", "iterable(varint)"],
    [
      "Top3",
      "top(3)",
      { builtin: "top", config: { n: 3 } },
      "iterable(varint)",
      "iterable(varint)",
    ],
  ];
  for (const [name, fn] of cases) pairs.combinePerKey(fn, { name });
  pairs.combinePerKey(
    {
      createAccumulator: () => [0, 0],
      addInput: (acc: number[], x: number) => [acc[0] + x, acc[1] + 1],
      mergeAccumulators: (accs: number[][]) =>
        accs.reduce((a, b) => [a[0] + b[0], a[1] + b[1]], [0, 0]),
      extractOutput: (acc: number[]) => acc[0] / acc[1],
    },
    { name: "User", coder: "double", accumulatorCoder: kv("varint", "varint") },
  );
  const proto = p.toProto();
  assertWellFormed(proto);
  for (const [name, , json, acc, out] of cases) {
    const composite = transform(proto, name);
    assert.equal(composite.spec.urn, "beam:transform:combine_per_key:v1");
    assert.deepEqual(composite.subtransforms, [`${name}/GroupByKey`, `${name}/Combine`]);
    assert.equal(transform(proto, `${name}/GroupByKey`).spec.urn, "beam:transform:group_by_key:v1");
    const combine = transform(proto, `${name}/Combine`);
    assert.equal(combine.spec.urn, "beam:transform:combine_grouped_values:v1");
    assert.deepEqual(combine.spec.payload, composite.spec.payload);
    const payload = pipelineApi.CombinePayload.deserializeBinary(composite.spec.payload);
    assert.equal(payload.combine_fn.urn, "firefly:combinefn:v1");
    assert.deepEqual(JSON.parse(Buffer.from(payload.combine_fn.payload).toString()), json, name);
    assert.equal(coderShape(proto, payload.accumulator_coder_id), acc, name);
    assert.equal(outputCoder(proto, name), `kv(string_utf8,${out})`, name);
    assert.deepEqual(Object.fromEntries(composite.inputs), { input: "Create/Values.out" });
    assert.deepEqual(Object.fromEntries(composite.outputs), { out: `${name}/Combine.out` });
  }
  const user = pipelineApi.CombinePayload.deserializeBinary(transform(proto, "User").spec.payload);
  assert.equal(coderShape(proto, user.accumulator_coder_id), "kv(varint,varint)");
  const { loadCombineFn } = await import("../../operations/combine/combine-fn.js");
  const fn = await loadCombineFn(user.combine_fn);
  const acc = fn.mergeAccumulators([
    fn.addInput(fn.createAccumulator(), 4),
    fn.addInput(fn.createAccumulator(), 2),
  ]);
  assert.equal(fn.extractOutput(acc), 3);
  assert.throws(
    () => pairs.combinePerKey("median" as never),
    /unknown built-in CombineFn "median"/,
  );
  assert.throws(
    () => pairs.combinePerKey({ addInput: () => 0 } as never),
    /missing: createAccumulator/,
  );
  assert.throws(() => pairs.combinePerKey((() => 0) as never), /not a plain function/);
});

test("combineGlobally: key with a fixed key, combinePerKey, drop the key", async () => {
  const p = newPipeline();
  p.create([1, 2, 3]).combineGlobally("sum");
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.deepEqual(transform(proto, "CombineGlobally").subtransforms, [
    "CombineGlobally/KeyWithVoid",
    "CombineGlobally/CombinePerKey",
    "CombineGlobally/UnKey",
  ]);
  assert.equal(outputCoder(proto, "CombineGlobally/KeyWithVoid"), "kv(bytes,varint)");
  assert.equal(outputCoder(proto, "CombineGlobally"), "varint");
  const keyed = await runDoFn(await loadDoFn(proto, "CombineGlobally/KeyWithVoid"), [5]);
  assert.deepEqual(keyed, [{ key: new Uint8Array(0), value: 5 }]);
  assert.deepEqual(
    await runDoFn(await loadDoFn(proto, "CombineGlobally/UnKey"), [
      { key: new Uint8Array(0), value: 6 },
    ]),
    [6],
  );
});

test("flatten: one Flatten with every input; different coders are refused", () => {
  const p = newPipeline();
  const a = p.create(["a"], { name: "A" });
  const b = p.create(["b"], { name: "B" });
  p.flatten([a, b]);
  assert.throws(
    () => p.flatten([a, p.create([1], { name: "C" }) as never]),
    /flatten: .* has coder/,
  );
  const proto = p.toProto();
  assertWellFormed(proto);
  const f = transform(proto, "Flatten");
  assert.equal(f.spec.urn, "beam:transform:flatten:v1");
  assert.deepEqual([...f.inputs.values()], ["A/Values.out", "B/Values.out"]);
  assert.equal(outputCoder(proto, "Flatten"), "string_utf8");
});

test("windowInto: WindowIntoPayload with the standard window fns, strategies as Beam sets them", () => {
  const p = newPipeline();
  const a = p.create([1]);
  a.windowInto(fixedWindows(60_000, 1_500), { name: "Fixed" });
  a.windowInto(slidingWindows(60_000, 10_000), { name: "Sliding" });
  a.windowInto(sessions(30_000), { name: "Sessions" });
  const proto = p.toProto();
  assertWellFormed(proto);
  const windowFn = (id: string) => {
    const t = transform(proto, id);
    assert.equal(t.spec.urn, "beam:transform:window_into:v1");
    return pipelineApi.WindowIntoPayload.deserializeBinary(t.spec.payload).window_fn;
  };
  const fixed = windowFn("Fixed");
  assert.equal(fixed.urn, "beam:window_fn:fixed_windows:v1");
  const fixedPayload = windowFnsApi.FixedWindowsPayload.deserializeBinary(fixed.payload);
  assert.equal(fixedPayload.size.seconds, 60);
  assert.equal(fixedPayload.offset.seconds, 1);
  assert.equal(fixedPayload.offset.nanos, 500_000_000);
  const sliding = windowFnsApi.SlidingWindowsPayload.deserializeBinary(windowFn("Sliding").payload);
  assert.equal(sliding.period.seconds, 10);
  const gap = windowFnsApi.SessionWindowsPayload.deserializeBinary(windowFn("Sessions").payload);
  assert.equal(gap.gap_size.seconds, 30);
  const global = windowingOf(proto, "Create/Values.out");
  assert.equal(global.window_fn.urn, "beam:window_fn:global_windows:v1");
  assert.equal(coderShape(proto, global.window_coder_id), "global_window");
  assert.equal(global.merge_status, pipelineApi.MergeStatus.Enum.NON_MERGING);
  assert.equal(global.assigns_to_one_window, true);
  const fixedWs = windowingOf(proto, "Fixed.out");
  assert.equal(coderShape(proto, fixedWs.window_coder_id), "interval_window");
  assert.deepEqual(fixedWs.window_fn.payload, fixed.payload);
  assert.equal(windowingOf(proto, "Sliding.out").assigns_to_one_window, false);
  assert.equal(
    windowingOf(proto, "Sessions.out").merge_status,
    pipelineApi.MergeStatus.Enum.NEEDS_MERGE,
  );
  assert.equal(outputCoder(proto, "Fixed"), "varint");
  assert.throws(() => fixedWindows(0), /positive whole number/);
});

test("withTimestamps and reshuffle: timestamps set by the function, reshuffle a composite that restores them", async () => {
  const p = newPipeline();
  const events = p.create([{ t: 5 }]).withTimestamps((e) => e.t * 1000);
  events.reshuffle();
  const proto = p.toProto();
  assertWellFormed(proto);
  assert.equal(outputCoder(proto, "WithTimestamps"), "json");
  const stamped: unknown[] = [];
  const loaded = await loadDoFn(proto, "WithTimestamps");
  await loaded.dofn.process(
    { t: 7 },
    { outputWithTimestamp: (v: unknown, ts: number) => stamped.push([v, ts]) },
  );
  assert.deepEqual(stamped, [[{ t: 7 }, 7000]]);
  const reshuffle = transform(proto, "Reshuffle");
  assert.equal(reshuffle.spec.urn, "beam:transform:reshuffle:v1");
  assert.deepEqual(reshuffle.subtransforms, [
    "Reshuffle/AddRandomKeys",
    "Reshuffle/GroupByKey",
    "Reshuffle/RestoreTimestamps",
  ]);
  assert.equal(outputCoder(proto, "Reshuffle/AddRandomKeys"), "kv(varint,kv(json,varint))");
  assert.equal(outputCoder(proto, "Reshuffle"), "json");
  const restored: unknown[] = [];
  const restore = await loadDoFn(proto, "Reshuffle/RestoreTimestamps");
  await restore.dofn.process(
    { key: 3, value: [{ key: "x", value: 9n }] },
    { outputWithTimestamp: (v: unknown, ts: bigint) => restored.push([v, ts]) },
  );
  assert.deepEqual(restored, [["x", 9n]]);
});

test("apply: a composite whose parts are named under it, with the inputs it reads and outputs it returns", () => {
  const p = newPipeline();
  const words = p.create(["a b"]);
  const counted = words.apply("CountWords", (lines) =>
    lines
      .flatMap((l) => l.split(" "), { coder: "string" })
      .map((w) => ({ key: w, value: 1 }), { coder: kv("string", "varint") })
      .combinePerKey("sum"),
  );
  const proto = p.toProto();
  assertWellFormed(proto);
  const composite = transform(proto, "CountWords");
  assert.equal(composite.spec, undefined);
  assert.deepEqual(composite.subtransforms, [
    "CountWords/FlatMap",
    "CountWords/Map",
    "CountWords/CombinePerKey",
  ]);
  assert.deepEqual(Object.fromEntries(composite.inputs), { input: "Create/Values.out" });
  assert.deepEqual(Object.fromEntries(composite.outputs), { out: counted.id });
  assert.deepEqual(proto.root_transform_ids, ["Create", "CountWords"]);
});

test("environment: PROCESS by default, DOCKER and EXTERNAL from options, capabilities listed", () => {
  const env = (options: Record<string, string>) =>
    [...new Pipeline(options).toProto().components.environments.values()][0];
  const processEnv = env({});
  assert.equal(processEnv.urn, "beam:env:process:v1");
  assert.match(
    pipelineApi.ProcessPayload.deserializeBinary(processEnv.payload).command,
    /bin\/firefly boot$/,
  );
  const custom = env({
    environment_type: "PROCESS",
    environment_config: '{"command": "/opt/firefly boot"}',
  });
  assert.equal(
    pipelineApi.ProcessPayload.deserializeBinary(custom.payload).command,
    "/opt/firefly boot",
  );
  const docker = env({ environment_type: "DOCKER", environment_config: "img:1" });
  assert.equal(docker.urn, "beam:env:docker:v1");
  assert.equal(
    pipelineApi.DockerPayload.deserializeBinary(docker.payload).container_image,
    "img:1",
  );
  const external = env({ environment_type: "external", environment_config: "127.0.0.1:50000" });
  assert.equal(external.urn, "beam:env:external:v1");
  assert.equal(
    pipelineApi.ExternalPayload.deserializeBinary(external.payload).endpoint.url,
    "127.0.0.1:50000",
  );
  assert.ok(processEnv.capabilities.includes("beam:coder:varint:v1"));
  assert.ok(processEnv.capabilities.includes("beam:protocol:progress_reporting:v1"));
  assert.throws(
    () => env({ environment_type: "EXTERNAL" }),
    /needs --environment_config=HOST:PORT/,
  );
  assert.throws(
    () => env({ environment_type: "LAMBDA" }),
    /LAMBDA is not supported \(PROCESS, DOCKER, EXTERNAL\)/,
  );
});

test("run: an unknown runner is an error listing the registered ones; a registered runner gets the proto and options", async () => {
  const { registerRunner } = await import("../../src/pipeline/index.js");
  const p = new Pipeline(["--runner=nowhere", "--custom=1"]);
  p.create([1]);
  await assert.rejects(p.run(), /unknown runner "nowhere" \(registered runners: .*\)/);
  let seen: { proto: pipelineApi.Pipeline; custom: unknown } | undefined;
  registerRunner("test-recorder", async (proto, options) => {
    seen = { proto, custom: options.get("custom") };
    return { state: "DONE" };
  });
  const result = await p.run({ runner: "test-recorder" });
  assert.equal(result.state, "DONE");
  assert.equal(seen?.custom, "1");
  assert.deepEqual(seen?.proto.root_transform_ids, ["Create"]);
});
