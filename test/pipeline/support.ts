/**
 * Helpers for pipeline-builder tests: structural checks of a Pipeline proto,
 * decoding payloads, and loading shipped user code the way the worker does.
 */
import assert from "node:assert/strict";
import { coderFromProto } from "../../coders/index.js";
import { instantiateDoFn, type DoFn } from "../../operations/pardo/dofn.js";
import { loadUserExport } from "../../operations/user-code/load-user-code.js";
import { parseUserCodeSpec } from "../../operations/user-code/user-code-spec.js";
import { pipelineApi } from "../../proto/index.js";
import { fireflyCapabilities } from "../../src/boot/capabilities.js";

const USER_CODE_URNS = new Set([
  "beam:transform:pardo:v1",
  "beam:transform:combine_per_key:v1",
  "beam:transform:combine_grouped_values:v1",
  "beam:transform:window_into:v1",
]);

export function transform(proto: pipelineApi.Pipeline, id: string): pipelineApi.PTransform {
  const t = proto.components.transforms.get(id);
  assert.ok(
    t,
    `transform ${id} (transforms: ${[...proto.components.transforms.keys()].join(", ")})`,
  );
  return t;
}

/** The coder URN tree of a coder id, e.g. `kv(string_utf8,varint)` → "kv(string_utf8,varint)". */
export function coderShape(proto: pipelineApi.Pipeline, coderId: string): string {
  const coder = proto.components.coders.get(coderId);
  assert.ok(coder, `coder ${coderId}`);
  const name = coder.spec.urn.replace(/^(beam|firefly):coder:/, "").replace(/:v\d+$/, "");
  const components = coder.component_coder_ids.map((c) => coderShape(proto, c));
  return components.length === 0 ? name : `${name}(${components.join(",")})`;
}

/** The coder shape of a transform's output (by tag, default the only one). */
export function outputCoder(
  proto: pipelineApi.Pipeline,
  transformId: string,
  tag?: string,
): string {
  const t = transform(proto, transformId);
  const pcId = tag === undefined ? [...t.outputs.values()][0] : t.outputs.get(tag);
  assert.ok(pcId, `output ${tag ?? "(only)"} of ${transformId}`);
  return coderShape(
    proto,
    (proto.components.pcollections.get(pcId) as pipelineApi.PCollection).coder_id,
  );
}

export function windowingOf(
  proto: pipelineApi.Pipeline,
  pcollectionId: string,
): pipelineApi.WindowingStrategy {
  const pc = proto.components.pcollections.get(pcollectionId);
  assert.ok(pc, `PCollection ${pcollectionId}`);
  const ws = proto.components.windowing_strategies.get(pc.windowing_strategy_id);
  assert.ok(ws, `windowing strategy ${pc.windowing_strategy_id}`);
  return ws;
}

/**
 * Checks what every Firefly pipeline must satisfy: references resolve, coders
 * build, each PCollection has one producing primitive, producers come before
 * consumers, user code runs in the Firefly environment, windowing complete.
 */
export function assertWellFormed(proto: pipelineApi.Pipeline): void {
  const c = proto.components;
  // Survives the wire.
  const again = pipelineApi.Pipeline.deserializeBinary(proto.serializeBinary());
  assert.deepEqual(again.toObject(), proto.toObject());
  assert.equal(c.environments.size, 1);
  const [envId, env] = [...c.environments.entries()][0];
  assert.deepEqual(env.capabilities, fireflyCapabilities());
  for (const [id, coder] of c.coders) {
    for (const comp of coder.component_coder_ids)
      assert.ok(c.coders.has(comp), `coder ${id} component ${comp}`);
    assert.doesNotThrow(() => coderFromProto(id, c), `coder ${id} builds`);
  }
  for (const [id, ws] of c.windowing_strategies) {
    assert.ok(c.coders.has(ws.window_coder_id), `windowing ${id} window coder`);
    assert.ok(ws.window_fn.urn.startsWith("beam:window_fn:"), `windowing ${id} window fn`);
    assert.equal(ws.trigger.trigger, "default");
    assert.equal(ws.accumulation_mode, pipelineApi.AccumulationMode.Enum.DISCARDING);
    assert.equal(ws.output_time, pipelineApi.OutputTime.Enum.END_OF_WINDOW);
    assert.equal(ws.closing_behavior, pipelineApi.ClosingBehavior.Enum.EMIT_ALWAYS);
    assert.equal(ws.on_time_behavior, pipelineApi.OnTimeBehavior.Enum.FIRE_ALWAYS);
    assert.equal(ws.allowed_lateness, "0");
    assert.equal(ws.environment_id, envId);
    assert.notEqual(ws.merge_status, pipelineApi.MergeStatus.Enum.UNSPECIFIED);
  }
  for (const [id, pc] of c.pcollections) {
    assert.ok(c.coders.has(pc.coder_id), `PCollection ${id} coder ${pc.coder_id}`);
    assert.ok(c.windowing_strategies.has(pc.windowing_strategy_id), `PCollection ${id} windowing`);
    assert.equal(pc.is_bounded, pipelineApi.IsBounded.Enum.BOUNDED);
  }
  const producers = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (id: string) => {
    const t = c.transforms.get(id);
    assert.ok(t, `transform ${id} exists`);
    assert.equal(t.unique_name, id);
    seen.add(id);
    for (const pc of t.inputs.values()) assert.ok(c.pcollections.has(pc), `${id} input ${pc}`);
    for (const pc of t.outputs.values()) assert.ok(c.pcollections.has(pc), `${id} output ${pc}`);
    if (t.subtransforms.length === 0) {
      assert.ok(t.spec?.urn, `primitive ${id} has a URN`);
      for (const pc of t.inputs.values())
        assert.ok(producers.has(pc), `${id} reads ${pc} before it is produced`);
      for (const pc of t.outputs.values()) {
        assert.ok(!producers.has(pc), `${pc} produced twice`);
        producers.set(pc, id);
      }
    }
    if (USER_CODE_URNS.has(t.spec?.urn ?? ""))
      assert.equal(t.environment_id, envId, `${id} environment`);
    else if (t.subtransforms.length === 0)
      assert.equal(t.environment_id, "", `${id} runs in the runner`);
    for (const sub of t.subtransforms) {
      assert.ok(sub.startsWith(`${id}/`), `${sub} is named under ${id}`);
      visit(sub);
    }
  };
  for (const root of proto.root_transform_ids) visit(root);
  assert.equal(seen.size, c.transforms.size, "every transform is reachable from the roots");
  for (const pc of c.pcollections.keys()) assert.ok(producers.has(pc), `${pc} has a producer`);
}

export function parDoPayload(proto: pipelineApi.Pipeline, id: string): pipelineApi.ParDoPayload {
  const t = transform(proto, id);
  assert.equal(t.spec.urn, "beam:transform:pardo:v1");
  const payload = pipelineApi.ParDoPayload.deserializeBinary(t.spec.payload);
  assert.equal(payload.do_fn.urn, "firefly:dofn:v1");
  return payload;
}

/** The DoFn payload JSON of a ParDo. */
export function dofnJson(proto: pipelineApi.Pipeline, id: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(parDoPayload(proto, id).do_fn.payload).toString("utf8")) as Record<
    string,
    unknown
  >;
}

/** Loads a ParDo's DoFn as the worker does (data: URL import, instantiate). */
export async function loadDoFn(
  proto: pipelineApi.Pipeline,
  id: string,
): Promise<{ dofn: DoFn; config: unknown }> {
  const spec = parseUserCodeSpec(parDoPayload(proto, id).do_fn.payload, "DoFn");
  const dofn = instantiateDoFn(await loadUserExport(spec), id);
  await dofn.setup?.(spec.config);
  return { dofn, config: spec.config };
}

/** A minimal ctx: config, timestamp, outputs collected. */
export function fakeContext(config: unknown, extra: Record<string, unknown> = {}) {
  const outputs: { value: unknown; timestamp?: bigint | number; tag?: string }[] = [];
  return {
    outputs,
    ctx: {
      config,
      timestamp: 0n,
      output: (value: unknown, tag?: string) => outputs.push({ value, tag }),
      outputWithTimestamp: (value: unknown, timestamp: bigint | number, tag?: string) =>
        outputs.push({ value, timestamp, tag }),
      flushOutputs: () => undefined,
      ...extra,
    },
  };
}

/** Runs process on each element; returns the returned and ctx.output values in order. */
export async function runDoFn(
  loaded: { dofn: DoFn; config: unknown },
  elements: unknown[],
  extra: Record<string, unknown> = {},
): Promise<unknown[]> {
  const { outputs, ctx } = fakeContext(loaded.config, extra);
  const out: unknown[] = [];
  await loaded.dofn.startBundle?.(ctx);
  for (const element of elements) {
    const result = await loaded.dofn.process(element, ctx);
    if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      for await (const v of result as AsyncIterable<unknown>) out.push(v);
    } else if (result) out.push(...(result as Iterable<unknown>));
    out.push(...outputs.splice(0).map((o) => o.value));
  }
  return out;
}
