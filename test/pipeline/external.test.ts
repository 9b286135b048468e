/**
 * Cross-language transforms against a fake expansion service
 * (test/support/fake-expansion-service.ts): the request's shape, the merge of
 * the response (stubs and echoed ids skipped, clashing ids renamed with their
 * references), the service's errors, and build-time coder checks.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { expansionApi, externalApi, pipelineApi } from "../../proto/index.js";
import {
  ExpansionError,
  external,
  fixedWindows,
  kv,
  Pipeline,
  pythonTransform,
} from "../../src/pipeline/index.js";
import {
  startFakeExpansionService,
  type FakeExpansionService,
} from "../support/fake-expansion-service.js";

let pardo: FakeExpansionService;
let clash: FakeExpansionService;
let failing: FakeExpansionService;

before(async () => {
  [pardo, clash, failing] = await Promise.all([
    startFakeExpansionService("pardo"),
    startFakeExpansionService("clash"),
    startFakeExpansionService("error"),
  ]);
});

after(async () => {
  await Promise.all([pardo.stop(), clash.stop(), failing.stop()]);
});

const newPipeline = (options: Record<string, string> = {}) =>
  new Pipeline({ runner: "local", ...options });

async function lastRequest(service: FakeExpansionService): Promise<expansionApi.ExpansionRequest> {
  const requests = await service.requests();
  assert.ok(requests.length > 0, "the service got a request");
  return requests[requests.length - 1]!;
}

test("the request carries only the inputs (stub Impulse producers, coders, windowing), the transform, namespace, unique name and output coder", async () => {
  const p = newPipeline();
  const words = p
    .create(["a", "b"])
    .map((w) => w.toUpperCase(), { coder: "string", name: "Upper" });
  words.apply(
    external("beam:transform:test:v1", new Uint8Array([7, 8]), {
      expansionService: pardo.address,
      outputCoder: kv("string", "varint"),
      name: "Foreign",
    }),
  );
  const request = await lastRequest(pardo);
  const c = request.components;
  assert.deepEqual([...c.pcollections.keys()], ["Upper.out"]);
  assert.equal(c.transforms.size, 1, "one stub producer, no Firefly ParDo");
  const [stub] = [...c.transforms.values()];
  assert.equal(stub!.spec.urn, "beam:transform:impulse:v1");
  assert.deepEqual([...stub!.outputs.values()], ["Upper.out"]);
  assert.equal(c.environments.size, 0, "Firefly's environment is not sent");
  for (const w of c.windowing_strategies.values()) assert.equal(w.environment_id, "");
  assert.ok(c.coders.has("string_utf8"));
  assert.ok(c.coders.has("global_window"), "the window coder");
  assert.equal(request.transform.unique_name, "Foreign");
  assert.equal(request.transform.spec.urn, "beam:transform:test:v1");
  assert.deepEqual([...request.transform.spec.payload], [7, 8]);
  assert.deepEqual([...request.transform.inputs], [["input", "Upper.out"]]);
  assert.match(request.namespace, /^firefly_external_\d+$/);
  const [requested] = [...request.output_coder_requests.values()];
  assert.equal(c.coders.get(requested!)?.spec.urn, "beam:coder:kv:v1");
});

test("the response is merged: stubs and echoed ids skipped, the composite with its parts, outputs wired, environment and requirements kept", () => {
  const p = newPipeline();
  const out = p.create(["a", "b"]).apply(
    external("beam:transform:test:v1", new Uint8Array(), {
      expansionService: pardo.address,
      outputCoder: "string",
      name: "Foreign",
    }),
  );
  const formatted = out.map((s) => `<${s}>`, { coder: "string", name: "Format" });
  const proto = p.toProto();
  const c = proto.components;
  assert.ok(!c.transforms.has("firefly_external_1_input_0"), "the stub is not merged");
  const foreign = c.transforms.get("Foreign");
  assert.ok(foreign, "the expanded composite under its unique name");
  assert.ok(proto.root_transform_ids.includes("Foreign"));
  const [partId] = foreign.subtransforms;
  assert.equal(c.transforms.get(partId!)?.spec.urn, "beam:transform:pardo:v1");
  assert.equal(out.id, [...foreign.outputs.values()][0]);
  assert.equal(out.coder.urn, "beam:coder:string_utf8:v1", "the requested coder");
  assert.deepEqual(
    [...c.transforms.get(formatted.id.replace(/\.out$/, ""))!.inputs.values()],
    [out.id],
  );
  const env = c.environments.get(foreign.environment_id);
  assert.equal(env?.urn, "beam:env:docker:v1", "the foreign environment as returned");
  assert.equal(c.environments.get("firefly")?.urn, "beam:env:process:v1");
  assert.deepEqual(proto.requirements, ["beam:requirement:pardo:stateful:v1"]);
});

test("ids the graph already uses are renamed, with every reference (and a combine's accumulator coder) rewritten", () => {
  const p = newPipeline();
  const numbers = p.create([1, 2, 3]);
  const out = p
    .create(["x"], { name: "Words" })
    .apply(
      external("beam:transform:test:v1", new Uint8Array(), { expansionService: clash.address }),
    );
  const c = p.toProto().components;
  assert.equal(c.coders.get("varint")?.spec.urn, "beam:coder:varint:v1", "Firefly's varint kept");
  assert.equal(c.coders.get("varint_2")?.spec.urn, "beam:coder:bytes:v1", "the service's own");
  assert.equal(c.coders.get("varint_3")?.spec.urn, "beam:coder:pickled_python:v1", "renamed");
  assert.deepEqual(c.coders.get("kv_varint")?.component_coder_ids, ["varint_3", "varint_3"]);
  assert.equal(numbers.id, "Create/Values.out");
  assert.equal(c.pcollections.get("Create/Values.out")?.coder_id, "varint");
  assert.equal(out.id, "Create/Values.out_2");
  assert.equal(c.pcollections.get(out.id)?.coder_id, "kv_varint");
  assert.equal(
    c.environments.get("firefly")?.urn,
    "beam:env:process:v1",
    "Firefly's environment kept",
  );
  assert.equal(c.environments.get("firefly_2")?.urn, "beam:env:docker:v1");
  const combine = c.transforms.get("Create_2");
  assert.ok(combine, "the foreign transform renamed");
  assert.ok(c.transforms.get("Create")?.subtransforms.length, "Firefly's Create kept");
  assert.equal(combine.environment_id, "firefly_2");
  assert.deepEqual([...combine.outputs.values()], ["Create/Values.out_2"]);
  assert.equal(
    pipelineApi.CombinePayload.deserializeBinary(combine.spec.payload).accumulator_coder_id,
    "varint_3",
  );
  const expanded = [...c.transforms.values()].find((t) => t.subtransforms.includes("Create_2"));
  assert.ok(expanded, "the composite names the renamed part");
});

test("the service's error is thrown with the transform's name", () => {
  const p = newPipeline();
  assert.throws(
    () =>
      p
        .create(["a"])
        .apply(pythonTransform("apache_beam.Map", { expansionService: failing.address })),
    (err: unknown) =>
      err instanceof ExpansionError &&
      /external "Map" \(beam:transforms:python:fully_qualified_named\)/.test(err.message) &&
      /KeyError: 'firefly:coder:json:v1'/.test(err.message),
  );
});

test("an unreachable service is an ExpansionError naming the transform and the address", async () => {
  const closed = await startFakeExpansionService("pardo");
  const address = closed.address;
  await closed.stop();
  const p = newPipeline();
  assert.throws(
    () =>
      p.create(["a"]).apply(
        external("beam:transform:test:v1", new Uint8Array(), {
          expansionService: address,
          name: "Gone",
          timeoutMs: 5000,
        }),
      ),
    (err: unknown) =>
      err instanceof ExpansionError &&
      err.message.includes(`external "Gone": expansion service ${address} failed`) &&
      /is it running\?/.test(err.message),
  );
});

test("an input in Firefly's JSON coder is refused before anything is sent", async () => {
  const before = (await pardo.requests()).length;
  const p = newPipeline();
  const json = p.create([{ a: 1 }]);
  assert.throws(
    () =>
      json.apply(
        external("beam:transform:test:v1", new Uint8Array(), {
          expansionService: pardo.address,
          name: "J",
        }),
      ),
    /external "J": input input \(Create\/Values\.out\): values without a declared coder travel as JSON \(firefly:coder:json:v1\), which other SDKs cannot read; declare a standard coder/,
  );
  assert.equal((await pardo.requests()).length, before, "nothing was sent");
});

test("a Firefly step reading a foreign coder it cannot decode is a build-time error that says it would get bytes", () => {
  const p = newPipeline();
  const pickled = p.create(["a"]).apply(
    external("beam:transform:test:v1", new Uint8Array(), {
      expansionService: pardo.address,
      name: "Py",
    }),
  );
  assert.equal(pickled.coder.urn, "beam:coder:pickled_python:v1");
  assert.throws(
    () => pickled.map((x) => x, { name: "Use" }),
    /Use reads .* which the cross-language transform "Py" makes with coder beam:coder:pickled_python:v1: Firefly cannot decode it \(a runner would hand it over length-prefixed, as opaque bytes\)\. Ask for a standard coder with \{outputCoder: \.\.\.\}/,
  );
  assert.throws(
    () => pickled.windowInto(fixedWindows(1000), { name: "Window" }),
    /Window reads .* coder beam:coder:pickled_python:v1: Firefly cannot decode it/,
    "any Firefly step, not only ParDos",
  );
});

/** Keyword arguments of every inferred kind (INT64, STRING, DOUBLE, ARRAY of BOOLEAN, ROW of BYTES). */
const KWARGS = {
  k: 3,
  label: "x",
  ratio: 0.5,
  flags: [true, false],
  nested: { b: new Uint8Array([1]) },
};

test("pythonTransform sends Beam's fully qualified named payload: constructor, args and kwargs rows", async () => {
  const { configRow, pythonCallable } = await import("../../src/pipeline/index.js");
  const { RowCoder } = await import("../../coders/row.js");
  const { parseSchemaProto } = await import("../../coders/row-schema.js");
  const p = newPipeline();
  p.create([1, 2]).apply(
    pythonTransform("apache_beam.Map", {
      args: [pythonCallable("lambda x, k: x * k")],
      kwargs: KWARGS,
      outputCoder: "varint",
      expansionService: pardo.address,
    }),
  );
  const request = await lastRequest(pardo);
  assert.equal(request.transform.spec.urn, "beam:transforms:python:fully_qualified_named");
  const payload = externalApi.ExternalConfigurationPayload.deserializeBinary(
    request.transform.spec.payload,
  );
  const schema = parseSchemaProto(payload.schema.serializeBinary());
  assert.deepEqual(
    schema.fields.map((f) => f.name),
    ["constructor", "args", "kwargs"],
  );
  const args = schema.fields[1]!.type;
  assert.equal(args.kind, "row");
  const arg0 = args.kind === "row" ? args.schema.fields[0]! : undefined;
  assert.equal(arg0?.name, "arg0");
  assert.deepEqual(arg0?.type, {
    nullable: false,
    kind: "logical",
    urn: "beam:logical_type:python_callable:v1",
    payload: new Uint8Array(),
    representation: { nullable: false, kind: "atomic", atomic: "STRING" },
  });
  assert.match(payload.schema.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const row = new RowCoder(schema).decode(payload.payload, "outer");
  assert.deepEqual(row, {
    constructor: "apache_beam.Map",
    args: { arg0: "lambda x, k: x * k" },
    kwargs: KWARGS,
  });
  assert.throws(
    () => configRow({ missing: null }),
    /config\.missing: cannot infer a Beam schema type for null/,
  );
  assert.throws(() => configRow({ mixed: [1, "a"] }), /config\.mixed\[1\] has another type/);
});

test("--environment_overrides rewrites the expanded environment in toProto and run's options, never Firefly's", () => {
  const p = newPipeline({ environment_overrides: "*=127.0.0.1:50100" });
  const out = p.create(["a"]).apply(
    external("beam:transform:test:v1", new Uint8Array(), {
      expansionService: pardo.address,
      outputCoder: "string",
      name: "Py",
    }),
  );
  const envId = p.graph.transforms.get("Py")!.environment_id;
  const url = (env: pipelineApi.Environment | undefined) =>
    pipelineApi.ExternalPayload.deserializeBinary(env!.payload).endpoint.url;
  const envs = p.toProto().components.environments;
  assert.equal(envs.get(envId)?.urn, "beam:env:external:v1");
  assert.equal(url(envs.get(envId)), "127.0.0.1:50100");
  assert.equal(envs.get("firefly")?.urn, "beam:env:process:v1");
  const other = p.toProto(p.options.with({ environment_overrides: `${envId}=h:1` }));
  assert.equal(url(other.components.environments.get(envId)), "h:1");
  assert.equal(p.graph.foreignEnvironments.get(envId)?.urn, "beam:env:docker:v1", "as expanded");
  assert.ok(out.id);
});
