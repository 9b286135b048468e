/**
 * Cross-language transforms: `pc.apply(external(urn, payload, {expansionService}))`
 * sends the transform to another SDK's expansion service (Beam Python's
 * `expansion_service_main`, Java's IO expansion services), merges what comes
 * back into the graph and returns its outputs as PCollections. The foreign
 * environment is kept as the service returned it (see `--environment_overrides`).
 */
import { isCoderRegistered, JSON_URN } from "../../coders/index.js";
import { pipelineApi } from "../../proto/index.js";
import { normalizeCoder, type CoderProtoSpec, type CoderType } from "./coder-types.js";
import { DEFAULT_EXPANSION_TIMEOUT_MS, ExpansionError, expandSync } from "./expansion-client.js";
import { mergeExpansion } from "./expansion-merge.js";
import { expansionRequest } from "./expansion-request.js";
import type { PipelineGraph } from "./graph.js";
import { PCollection } from "./pcollection.js";
import type { NameOption, Pipeline } from "./pipeline.js";
import { globalWindows, type WindowFnSpec } from "./windowing.js";

export { ExpansionError } from "./expansion-client.js";

export interface ExternalOptions extends NameOption {
  /** The expansion service, `host:port`. */
  expansionService: string;
  /**
   * The coder to ask for the (single) output, sent as `output_coder_requests`
   * (e.g. `"string"`, `kv("string", "varint")`): without it the service picks
   * (a Python `Map` without type hints gives `beam:coder:pickled_python:v1`,
   * which Firefly cannot read).
   */
  outputCoder?: CoderType;
  /** How long the expansion may take. @default 60000 */
  timeoutMs?: number;
}

/** A transform expanded by an expansion service; apply it with `pc.apply(t)` or `p.apply(t)`. */
export class ExternalTransform<R = PCollection<any>> {
  constructor(
    readonly urn: string,
    readonly payload: Uint8Array,
    readonly options: ExternalOptions,
    /** The default step name. */
    readonly defaultName: string,
    /** Whether `apply` returns every output by tag (else the one output). */
    readonly tagged: boolean,
  ) {
    if (typeof urn !== "string" || urn === "")
      throw new TypeError("external(urn, ...): urn must be a non-empty string");
    if (!(payload instanceof Uint8Array))
      throw new TypeError(`external ${urn}: payload must be a Uint8Array`);
    if (typeof options?.expansionService !== "string" || !/.+:\d+$/.test(options.expansionService))
      throw new TypeError(
        `external ${urn}: options.expansionService must be "host:port", got ${String(options?.expansionService)}`,
      );
  }

  /** @internal Expands on the pipeline with these inputs (tag → PCollection). */
  expandOn(pipeline: Pipeline, inputs: Record<string, PCollection<unknown>>): R {
    const graph = pipeline.graph;
    const name = this.options.name ?? this.defaultName;
    const id = graph.uniqueName(name.replace(/\//g, "_"), this.options.name !== undefined);
    const step = `external ${JSON.stringify(id)}`;
    for (const [tag, pc] of Object.entries(inputs)) {
      if (pc.pipeline !== pipeline)
        throw new TypeError(`${step}: input ${tag} belongs to another pipeline`);
      checkPortableCoder(pc, `${step}: input ${tag} (${pc.id})`);
      pc.coderFixed = true;
    }
    const outputCoders: Record<string, string> =
      this.options.outputCoder === undefined
        ? {}
        : { out: graph.coderId(normalizeCoder(this.options.outputCoder, `${step} outputCoder`)) };
    const { request, sent } = expansionRequest(graph, {
      urn: this.urn,
      payload: this.payload,
      inputs: Object.fromEntries(Object.entries(inputs).map(([tag, pc]) => [tag, pc.id])),
      uniqueName: id,
      namespace: nextNamespace(graph),
      outputCoders,
    });
    const response = expandSync(
      this.options.expansionService,
      request,
      step,
      this.options.timeoutMs ?? DEFAULT_EXPANSION_TIMEOUT_MS,
    );
    if (response.error)
      throw new ExpansionError(
        `${step} (${this.urn}): the expansion service ${this.options.expansionService} failed:\n${response.error}`,
      );
    const outputs = mergeExpansion(graph, response, sent, id);
    const windowFns = Object.values(inputs).map((pc) => pc.windowFn);
    const pcs = Object.fromEntries(
      Object.entries(outputs).map(([tag, pcId]) => [
        tag,
        foreignPCollection(pipeline, pcId, id, windowFns),
      ]),
    );
    if (this.tagged) return pcs as R;
    const values = Object.values(pcs);
    if (values.length !== 1)
      throw new TypeError(
        `${step} has ${values.length} outputs (${Object.keys(pcs).join(", ") || "none"}): use externalTagged(...) to get them by tag`,
      );
    return values[0] as R;
  }
}

/** A transform of another SDK, expanded by `options.expansionService`; `apply` returns its one output. */
export function external<O = any>(
  urn: string,
  payload: Uint8Array,
  options: ExternalOptions,
): ExternalTransform<PCollection<O>> {
  return new ExternalTransform(urn, payload, options, `External(${urn})`, false);
}

/** Like {@link external}, for transforms with no or several outputs: `apply` returns them by tag. */
export function externalTagged(
  urn: string,
  payload: Uint8Array,
  options: ExternalOptions,
): ExternalTransform<Record<string, PCollection<any>>> {
  return new ExternalTransform(urn, payload, options, `External(${urn})`, true);
}

const namespaces = new WeakMap<PipelineGraph, number>();

function nextNamespace(graph: PipelineGraph): string {
  const n = (namespaces.get(graph) ?? 0) + 1;
  namespaces.set(graph, n);
  return `firefly_external_${n}`;
}

/** Throws when a coder of the input is Firefly's own (the service cannot read it). */
function checkPortableCoder(pc: PCollection<unknown>, where: string): void {
  const fireflyUrn = (spec: CoderProtoSpec): string | undefined =>
    spec.urn.startsWith("firefly:")
      ? spec.urn
      : (spec.components ?? []).map((c) => fireflyUrn(c as CoderProtoSpec)).find((u) => u);
  const urn = fireflyUrn(pc.coder);
  if (urn === undefined) return;
  const hint =
    urn === JSON_URN
      ? `values without a declared coder travel as JSON (${JSON_URN}), which other SDKs cannot read`
      : `${urn} is Firefly's own coder, which other SDKs cannot read`;
  throw new TypeError(
    `${where}: ${hint}; declare a standard coder where it is made, e.g. {coder: "string"}, {coder: kv("string", "varint")}`,
  );
}

const windowFnsByUrn: Record<string, (strategy: pipelineApi.WindowingStrategy) => WindowFnSpec> = {
  "beam:window_fn:global_windows:v1": () => globalWindows(),
};

/** The window fn of an output: an input's when the same, global windows, else unsupported. */
function outputWindowFn(
  graph: PipelineGraph,
  pcId: string,
  inputWindowFns: WindowFnSpec[],
  step: string,
): WindowFnSpec {
  const pc = graph.pcollections.get(pcId) as pipelineApi.PCollection;
  const strategy = graph.windowingStrategies.get(pc.windowing_strategy_id);
  const fn = strategy?.window_fn;
  if (!strategy || !fn) throw new Error(`${step}: output ${pcId} has no windowing strategy`);
  const same = inputWindowFns.find(
    (w) => w.urn === fn.urn && Buffer.from(w.payload).equals(Buffer.from(fn.payload)),
  );
  if (same) return same;
  const known = windowFnsByUrn[fn.urn];
  if (known) return known(strategy);
  throw new TypeError(
    `${step}: output ${pcId} has window fn ${fn.urn}; Firefly continues from global windows or its inputs' window fn only`,
  );
}

function foreignPCollection(
  pipeline: Pipeline,
  pcId: string,
  transformId: string,
  inputWindowFns: WindowFnSpec[],
): PCollection<unknown> {
  const graph = pipeline.graph;
  const step = `external ${JSON.stringify(transformId)}`;
  const coder = graph.coderSpec((graph.pcollections.get(pcId) as pipelineApi.PCollection).coder_id);
  const pc = new PCollection(
    pipeline,
    pcId,
    coder,
    true,
    outputWindowFn(graph, pcId, inputWindowFns, step),
  );
  pc.coderFixed = true;
  pc.foreignProducer = transformId;
  return pc;
}

/**
 * Throws when a Firefly DoFn would read a PCollection made by a foreign
 * transform in a coder Firefly does not implement (a runner would hand it
 * over length-prefixed, as opaque bytes).
 */
export function checkReadableByFirefly(pc: PCollection<unknown>, where: string): void {
  if (pc.foreignProducer === undefined) return;
  const unknown = (spec: CoderProtoSpec): string | undefined =>
    isCoderRegistered(spec.urn)
      ? (spec.components ?? []).map((c) => unknown(c as CoderProtoSpec)).find((u) => u)
      : spec.urn;
  const urn = unknown(pc.coder);
  if (urn === undefined) return;
  throw new TypeError(
    `${where} reads ${pc.id}, which the cross-language transform "${pc.foreignProducer}" makes with coder ${urn}: Firefly cannot decode it (a runner would hand it over length-prefixed, as opaque bytes). Ask for a standard coder with {outputCoder: ...} on the external transform (sent as output_coder_requests), e.g. outputCoder: "string" or kv("string", "varint")`,
  );
}
