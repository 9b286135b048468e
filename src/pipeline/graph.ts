/**
 * The pipeline graph as it is built: Beam `Components` (transforms,
 * PCollections, coders, windowing strategies, the environment), the root
 * transforms, composite scopes and requirements. Transform ids are the
 * transforms' unique names (`Outer/Inner`); a PCollection's id is
 * `<producer>.<output tag>`; coder ids are readable and shared.
 */
import { createHash } from "node:crypto";
import { pipelineApi } from "../../proto/index.js";
import { normalizeCoder, type CoderProtoSpec, type CoderType } from "./coder-types.js";
import { windowingStrategy, type WindowFnSpec } from "./windowing.js";

export interface TransformSpec {
  /** The transform's local name (made unique within its scope). */
  name: string;
  /** True when the user gave the name: a duplicate is then an error. */
  explicitName?: boolean;
  urn: string;
  payload?: Uint8Array;
  inputs?: Record<string, string>;
  /** Runs user code in the Firefly environment. */
  usesEnvironment?: boolean;
}

interface Scope {
  id: string;
  subtransforms: string[];
}

const BOUNDED = pipelineApi.IsBounded.Enum.BOUNDED;

export class PipelineGraph {
  readonly transforms = new Map<string, pipelineApi.PTransform>();
  readonly pcollections = new Map<string, pipelineApi.PCollection>();
  readonly coders = new Map<string, pipelineApi.Coder>();
  readonly windowingStrategies = new Map<string, pipelineApi.WindowingStrategy>();
  readonly rootIds: string[] = [];
  readonly requirements = new Set<string>();
  /** Environments of cross-language transforms, as their expansion services returned them. */
  readonly foreignEnvironments = new Map<string, pipelineApi.Environment>();
  private readonly scopes: Scope[] = [];
  private readonly autoNameCounts = new Map<string, number>();

  constructor(readonly environmentId: string) {}

  /** The id of a coder (added with its components on first use). */
  coderId(type: CoderType): string {
    const spec = normalizeCoder(type);
    const components = (spec.components ?? []).map((c) => this.coderId(c));
    let id = spec.urn.replace(/^beam:coder:/, "").replace(/^firefly:coder:/, "");
    id = id.replace(/:v\d+$/, "").replace(/[^A-Za-z0-9_]/g, "_");
    if (spec.payload && spec.payload.length > 0)
      id += `_${createHash("sha256").update(spec.payload).digest("hex").slice(0, 12)}`;
    if (components.length > 0) id += `(${components.join(",")})`;
    if (!this.coders.has(id)) {
      this.coders.set(
        id,
        new pipelineApi.Coder({
          spec: new pipelineApi.FunctionSpec({ urn: spec.urn, payload: spec.payload }),
          component_coder_ids: components,
        }),
      );
    }
    return id;
  }

  /** The id of the windowing strategy of a window fn (shared by equal strategies). */
  windowingStrategyId(windowFn: WindowFnSpec, alreadyMerged = false): string {
    const strategy = windowingStrategy(
      windowFn,
      this.coderId(windowFn.windowCoder),
      this.environmentId,
    );
    if (alreadyMerged && windowFn.merging)
      strategy.merge_status = pipelineApi.MergeStatus.Enum.ALREADY_MERGED;
    const payloadHash = createHash("sha256").update(windowFn.payload).digest("hex").slice(0, 8);
    const id = `${windowFn.kind}${windowFn.payload.length > 0 ? `_${payloadHash}` : ""}${strategy.merge_status === pipelineApi.MergeStatus.Enum.ALREADY_MERGED ? "_merged" : ""}`;
    if (!this.windowingStrategies.has(id)) this.windowingStrategies.set(id, strategy);
    return id;
  }

  private fullName(name: string): string {
    const scope = this.scopes[this.scopes.length - 1];
    return scope ? `${scope.id}/${name}` : name;
  }

  /** A unique transform id for a name in the current scope. */
  uniqueName(name: string, explicit: boolean): string {
    if (name === "" || name.includes("/"))
      throw new TypeError(`transform name ${JSON.stringify(name)} must be non-empty, without "/"`);
    let id = this.fullName(name);
    if (this.transforms.has(id)) {
      if (explicit)
        throw new TypeError(
          `a transform named ${JSON.stringify(id)} already exists: transform names must be unique`,
        );
      let n = this.autoNameCounts.get(id) ?? 1;
      do n++;
      while (this.transforms.has(`${id}_${n}`));
      this.autoNameCounts.set(id, n);
      id = `${id}_${n}`;
    }
    return id;
  }

  private attach(id: string, transform: pipelineApi.PTransform): void {
    this.transforms.set(id, transform);
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.subtransforms.push(id);
    else this.rootIds.push(id);
  }

  /** Adds a transform expanded by an expansion service (its parts are already in the maps). */
  addExpanded(id: string, transform: pipelineApi.PTransform): void {
    this.attach(id, transform);
  }

  /** The spec of a coder in the graph (components resolved), e.g. of an expansion's output. */
  coderSpec(id: string): CoderProtoSpec {
    const coder = this.coders.get(id);
    if (!coder) throw new Error(`unknown coder ${id}`);
    const payload = coder.spec.payload;
    return {
      urn: coder.spec.urn,
      components: coder.component_coder_ids.map((c) => this.coderSpec(c)),
      ...(payload.length > 0 ? { payload } : {}),
    };
  }

  /** Adds a primitive transform; returns its id. Outputs are added with {@link addOutput}. */
  addTransform(spec: TransformSpec): string {
    const id = this.uniqueName(spec.name, spec.explicitName ?? false);
    for (const [local, pc] of Object.entries(spec.inputs ?? {})) {
      if (!this.pcollections.has(pc))
        throw new Error(`transform ${id}: input ${local} is an unknown PCollection ${pc}`);
    }
    this.attach(
      id,
      new pipelineApi.PTransform({
        unique_name: id,
        spec: new pipelineApi.FunctionSpec({ urn: spec.urn, payload: spec.payload }),
        inputs: new Map(Object.entries(spec.inputs ?? {})),
        outputs: new Map(),
        environment_id: spec.usesEnvironment ? this.environmentId : undefined,
      }),
    );
    return id;
  }

  /** Adds an output PCollection to a transform; returns the PCollection id. */
  addOutput(transformId: string, tag: string, coder: CoderProtoSpec, windowingId: string): string {
    const transform = this.transforms.get(transformId);
    if (!transform) throw new Error(`unknown transform ${transformId}`);
    const id = `${transformId}.${tag}`;
    transform.outputs.set(tag, id);
    this.pcollections.set(
      id,
      new pipelineApi.PCollection({
        unique_name: id,
        coder_id: this.coderId(coder),
        is_bounded: BOUNDED,
        windowing_strategy_id: windowingId,
      }),
    );
    return id;
  }

  /** Replaces a PCollection's coder (e.g. a defaulted json coder that a GroupByKey needs as KV). */
  setCoder(pcollectionId: string, coder: CoderProtoSpec): void {
    const pc = this.pcollections.get(pcollectionId);
    if (!pc) throw new Error(`unknown PCollection ${pcollectionId}`);
    pc.coder_id = this.coderId(coder);
  }

  /**
   * Runs `build` inside a composite transform: transforms it adds become the
   * composite's subtransforms. Its inputs are the PCollections they read from
   * outside; its outputs are what `outputsOf` reports of the result.
   */
  composite<R>(
    name: string,
    explicitName: boolean,
    build: (id: string) => R,
    outputsOf: (result: R) => Record<string, string>,
    spec?: { urn: string; payload?: Uint8Array; usesEnvironment?: boolean },
  ): R {
    const id = this.uniqueName(name, explicitName);
    const transform = new pipelineApi.PTransform({ unique_name: id });
    this.attach(id, transform);
    const scope: Scope = { id, subtransforms: [] };
    this.scopes.push(scope);
    let result: R;
    try {
      result = build(id);
    } finally {
      this.scopes.pop();
    }
    transform.subtransforms = scope.subtransforms;
    const produced = new Set<string>();
    const consumed: [string, string][] = [];
    for (const sub of this.descendants(id)) {
      for (const pc of sub.outputs.values()) produced.add(pc);
      for (const [local, pc] of sub.inputs) consumed.push([local, pc]);
    }
    const inputs = new Map<string, string>();
    for (const [local, pc] of consumed) {
      if (produced.has(pc) || [...inputs.values()].includes(pc)) continue;
      inputs.set(inputs.has(local) ? `${local}${inputs.size}` : local, pc);
    }
    transform.inputs = inputs;
    transform.outputs = new Map(Object.entries(outputsOf(result)));
    if (spec) {
      transform.spec = new pipelineApi.FunctionSpec({ urn: spec.urn, payload: spec.payload });
      if (spec.usesEnvironment) transform.environment_id = this.environmentId;
    }
    return result;
  }

  private *descendants(id: string): Generator<pipelineApi.PTransform> {
    for (const sub of this.transforms.get(id)?.subtransforms ?? []) {
      const t = this.transforms.get(sub) as pipelineApi.PTransform;
      yield t;
      yield* this.descendants(sub);
    }
  }

  /** Whether the transform is a descendant of the innermost open composite (for validation). */
  get currentScope(): string | undefined {
    return this.scopes[this.scopes.length - 1]?.id;
  }
}
