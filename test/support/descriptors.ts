/**
 * Builders of ProcessBundleDescriptors for integration tests.
 */
import {
  coderFromSpec,
  ByteWriter,
  StreamDecoder,
  GLOBAL_WINDOW,
  NO_FIRING,
  type Coder,
  type WindowedValue,
} from "../../coders/index.js";
import { endpointsApi, fnApi, pipelineApi } from "../../proto/index.js";

export type CoderSpec = { urn: string; components?: CoderSpec[] };

export const STR: CoderSpec = { urn: "beam:coder:string_utf8:v1" };
export const VARINT: CoderSpec = { urn: "beam:coder:varint:v1" };
export const BYTES: CoderSpec = { urn: "beam:coder:bytes:v1" };
export const GLOBAL: CoderSpec = { urn: "beam:coder:global_window:v1" };
export const INTERVAL: CoderSpec = { urn: "beam:coder:interval_window:v1" };
export const kv = (k: CoderSpec, v: CoderSpec): CoderSpec => ({
  urn: "beam:coder:kv:v1",
  components: [k, v],
});
export const iterable = (e: CoderSpec): CoderSpec => ({
  urn: "beam:coder:iterable:v1",
  components: [e],
});
export const windowed = (v: CoderSpec, w: CoderSpec = GLOBAL): CoderSpec => ({
  urn: "beam:coder:windowed_value:v1",
  components: [v, w],
});

/** Adds a coder spec (and its components) to a coder map; returns its id. */
export function addCoder(coders: Map<string, pipelineApi.Coder>, spec: CoderSpec): string {
  const components = (spec.components ?? []).map((c) => addCoder(coders, c));
  const id =
    components.length === 0
      ? spec.urn.split(":")[2]
      : `${spec.urn.split(":")[2]}(${components.join(",")})`;
  if (!coders.has(id)) {
    coders.set(
      id,
      new pipelineApi.Coder({
        spec: new pipelineApi.FunctionSpec({ urn: spec.urn }),
        component_coder_ids: components,
      }),
    );
  }
  return id;
}

export function dofnPayload(
  spec: { source?: string; module?: string; export?: string; config?: unknown; batch?: object },
  extra: Partial<ConstructorParameters<typeof pipelineApi.ParDoPayload>[0] & object> = {},
): Uint8Array {
  return new pipelineApi.ParDoPayload({
    do_fn: new pipelineApi.FunctionSpec({
      urn: "firefly:dofn:v1",
      payload: new TextEncoder().encode(JSON.stringify(spec)),
    }),
    ...extra,
  }).serializeBinary();
}

/** A ParDo step running `source` (a `firefly:dofn:v1` ES module text). */
export function pardoStep(
  id: string,
  source: string,
  extra: Parameters<typeof dofnPayload>[1] = {},
): Step {
  return { id, urn: "beam:transform:pardo:v1", payload: dofnPayload({ source }, extra) };
}

export interface Step {
  id: string;
  urn: string;
  payload: Uint8Array;
  /** Output coder (element, windowed); defaults to the input's. */
  output?: CoderSpec;
  /** Extra named inputs (side inputs): local name → PCollection id. */
  sideInputs?: Record<string, string>;
}

/**
 * A linear descriptor: source → steps → sink. PCollection `pc0` is the
 * source's output; step i reads `pc{i}` and writes `pc{i+1}`.
 */
export function linearDescriptor(options: {
  id: string;
  url: string;
  input: CoderSpec;
  steps: Step[];
  state?: boolean;
  timers?: boolean;
  extraPCollections?: Record<string, CoderSpec>;
}): fnApi.ProcessBundleDescriptor {
  const coders = new Map<string, pipelineApi.Coder>();
  const pcollections = new Map<string, pipelineApi.PCollection>();
  const transforms = new Map<string, pipelineApi.PTransform>();
  const port = (coderId: string) =>
    new fnApi.RemoteGrpcPort({
      api_service_descriptor: new endpointsApi.ApiServiceDescriptor({ url: options.url }),
      coder_id: coderId,
    }).serializeBinary();
  let coder = options.input;
  const windowing = new Map([
    [
      "global",
      new pipelineApi.WindowingStrategy({
        window_coder_id: addCoder(coders, GLOBAL),
        window_fn: new pipelineApi.FunctionSpec({ urn: "beam:window_fn:global_windows:v1" }),
      }),
    ],
  ]);
  const pcollection = (name: string, spec: CoderSpec) =>
    new pipelineApi.PCollection({
      unique_name: name,
      coder_id: addCoder(coders, spec),
      windowing_strategy_id: "global",
    });
  pcollections.set("pc0", pcollection("pc0", coder));
  transforms.set(
    "source",
    new pipelineApi.PTransform({
      unique_name: "source",
      spec: new pipelineApi.FunctionSpec({
        urn: "beam:runner:source:v1",
        payload: port(addCoder(coders, windowed(coder))),
      }),
      outputs: new Map([["out", "pc0"]]),
    }),
  );
  options.steps.forEach((step, i) => {
    coder = step.output ?? coder;
    pcollections.set(`pc${i + 1}`, pcollection(`pc${i + 1}`, coder));
    transforms.set(
      step.id,
      new pipelineApi.PTransform({
        unique_name: step.id,
        spec: new pipelineApi.FunctionSpec({ urn: step.urn, payload: step.payload }),
        inputs: new Map([["in", `pc${i}`], ...Object.entries(step.sideInputs ?? {})]),
        outputs: new Map([["out", `pc${i + 1}`]]),
      }),
    );
  });
  for (const [id, spec] of Object.entries(options.extraPCollections ?? {})) {
    pcollections.set(id, pcollection(id, spec));
  }
  const last = `pc${options.steps.length}`;
  transforms.set(
    "sink",
    new pipelineApi.PTransform({
      unique_name: "sink",
      spec: new pipelineApi.FunctionSpec({
        urn: "beam:runner:sink:v1",
        payload: port(addCoder(coders, windowed(coder))),
      }),
      inputs: new Map([["in", last]]),
    }),
  );
  const descriptor = new fnApi.ProcessBundleDescriptor({
    id: options.id,
    transforms,
    pcollections,
    coders,
    windowing_strategies: windowing,
  });
  if (options.state)
    descriptor.state_api_service_descriptor = new endpointsApi.ApiServiceDescriptor({
      url: options.url,
    });
  if (options.timers)
    descriptor.timer_api_service_descriptor = new endpointsApi.ApiServiceDescriptor({
      url: options.url,
    });
  return descriptor;
}

export function coderOf<T>(spec: CoderSpec): Coder<T> {
  return coderFromSpec(spec) as Coder<T>;
}

/** Encodes values as global-window windowed values (nested, concatenated). */
export function encodeGlobal(spec: CoderSpec, values: unknown[], timestamp = 0n): Uint8Array {
  const coder = coderOf<WindowedValue<unknown>>(windowed(spec));
  const writer = new ByteWriter();
  for (const value of values)
    coder.encodeTo(
      { value, timestamp, windows: [GLOBAL_WINDOW], pane: NO_FIRING },
      writer,
      "nested",
    );
  return writer.finish();
}

/** Decodes a stream of nested-encoded values. */
export function decodeAll<T>(spec: CoderSpec, bytes: Uint8Array): T[] {
  const decoder = new StreamDecoder(coderOf<T>(spec));
  decoder.push(bytes);
  const out: T[] = [];
  for (let v = decoder.next(); v !== undefined; v = decoder.next()) out.push(v);
  decoder.finish();
  return out;
}

/** Values of decoded windowed values. */
export function valuesOf<T>(spec: CoderSpec, bytes: Uint8Array): T[] {
  return decodeAll<WindowedValue<T>>(windowed(spec), bytes).map((wv) => wv.value);
}
