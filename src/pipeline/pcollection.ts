/**
 * `PCollection<T>`: a collection of values of the pipeline, and the
 * transforms that make new ones from it. Each method adds Beam transforms to
 * the pipeline's graph and returns the output PCollection(s).
 */
import type { DoFnContext } from "../../operations/pardo/dofn-context.js";
import { pipelineApi } from "../../proto/index.js";
import {
  DEFAULT_CODER,
  isKvCoder,
  iterable,
  kv,
  kvComponents,
  normalizeCoder,
  type CoderProtoSpec,
  type CoderType,
} from "./coder-types.js";
import type { Table } from "apache-arrow";
import { asBatchDoFn, hasProcessBatch, mapBatchesDoFn, type BatchingOptions } from "./batches.js";
import type { CombineFnArg, CombineOptions } from "./combine-fns.js";
import { combineGlobally, combinePerKey, writeText, type WriteTextOptions } from "./composites.js";
import {
  ITERABLE_SIDE_INPUT_URN,
  MULTIMAP_SIDE_INPUT_URN,
  OFFSET_RANGE_CODER,
  type SideInputSource,
  type StateDeclaration,
  type TimerDeclaration,
} from "./pardo-payload.js";
import type { NameOption, OutputDecl, Pipeline } from "./pipeline.js";
import { checkSelfContained } from "./free-variables.js";
import { ExternalTransform } from "./external.js";
import { shipUserCode, type ModuleRef } from "./ship-function.js";
import type { WindowFnSpec } from "./windowing.js";
import { filterDoFn, flatMapDoFn, mapDoFn, withTimestampsDoFn } from "./wrappers.js";

export const GROUP_BY_KEY_URN = "beam:transform:group_by_key:v1";
export const WINDOW_INTO_URN = "beam:transform:window_into:v1";
export const RESHUFFLE_URN = "beam:transform:reshuffle:v1";

/** The `ctx` user functions receive (README "Writing DoFns"); `config` is the transform's config. */
export type Context = Omit<DoFnContext, "config" | "current"> & { readonly config: any };

export type KV<K, V> = { key: K; value: V };

export interface MapOptions extends NameOption {
  /** The output coder. @default "json" (firefly:coder:json:v1) */
  coder?: CoderType;
  /** JSON handed to the function as `ctx.config` (and to `setup(config)`). */
  config?: unknown;
}

/** Options of `mapBatches` (README "Vectorized DoFns"); the output coder defaults to the input's. */
export interface MapBatchesOptions extends MapOptions, BatchingOptions {}

export interface ParDoOptions extends MapOptions, BatchingOptions {
  /** Side inputs by name: `other.asIterable()` / `other.asMultimap()`; read with `await ctx.sideInput(name)`. */
  sideInputs?: Record<string, SideInputView>;
  /** User state by name (needs KV input); `ctx.state(name)`. */
  state?: Record<string, StateDeclaration>;
  /** Timer families by name (needs KV input); `ctx.timer(family)`, `onTimer[family]`. */
  timers?: Record<string, TimerDeclaration>;
  /** The DoFn registers bundle finalization callbacks. */
  requestsFinalization?: boolean;
  /**
   * A splittable DoFn (one with `initialRestriction`; README "Splittable
   * DoFns"): found by itself for DoFn objects and classes; say `true` for a
   * `{module, export}` reference.
   */
  splittable?: boolean;
  /** The coder of a splittable DoFn's restrictions. @default the offset-range coder ({start, stop} bigints) */
  restrictionCoder?: CoderType;
}

/** Tagged outputs of a ParDo: tag → its coder. The main output is "main", else the first tag. */
export type OutputsDecl = Record<string, { coder?: CoderType }>;

/** A DoFn: a function (its `process`), a DoFn object or class, or a module reference. */
export type DoFnArg = ((element: any, ctx: Context) => unknown) | object | ModuleRef;

/** Whether a DoFn argument is splittable: it (or its class's prototype) has initialRestriction. */
function isSplittableDoFn(dofn: DoFnArg, options: ParDoOptions): boolean {
  if (options.splittable !== undefined) return options.splittable;
  const target =
    typeof dofn === "function" ? (dofn as { prototype?: unknown }).prototype : (dofn as unknown);
  return (
    target !== null &&
    typeof target === "object" &&
    typeof (target as { initialRestriction?: unknown }).initialRestriction === "function"
  );
}

/** A PCollection read by a ParDo as a side input. */
export class SideInputView {
  constructor(
    readonly pcollection: PCollection<unknown>,
    readonly accessUrn: string,
  ) {}

  /** @internal */
  source(): SideInputSource {
    return {
      pcollectionId: this.pcollection.id,
      windowFn: this.pcollection.windowFn,
      accessUrn: this.accessUrn,
    };
  }
}

/** A step for messages: `map "Scale"`. */
const step = (kind: string, name: string) => `${kind} ${JSON.stringify(name)}`;

function nameOf(base: string, fn: unknown, options: NameOption) {
  const fnName = typeof fn === "function" && fn.name ? fn.name.replace(/\//g, "_") : "";
  return {
    name: options.name ?? (fnName ? `${base}(${fnName})` : base),
    explicitName: options.name !== undefined,
  };
}

export class PCollection<T> {
  constructor(
    readonly pipeline: Pipeline,
    readonly id: string,
    /** The coder of the values (may be refined from json to KV, see `keyed`). */
    public coder: CoderProtoSpec,
    /** False when the coder is the json default (not declared or inferred). */
    public coderDeclared: boolean,
    readonly windowFn: WindowFnSpec,
    readonly alreadyMerged = false,
  ) {
    pipeline.registerPCollection(this as PCollection<unknown>);
  }

  /** Set when a transform relies on this coder staying as it is (a Flatten input). */
  coderFixed = false;

  /** The cross-language transform that made this PCollection, if one did. */
  foreignProducer?: string;

  private output(coder: CoderType | undefined, where: string, same = false): OutputDecl {
    const windowing = { windowFn: this.windowFn, alreadyMerged: this.alreadyMerged };
    if (coder !== undefined)
      return { coder: normalizeCoder(coder, `${where} coder`), declared: true, ...windowing };
    if (same) return { coder: this.coder, declared: this.coderDeclared, ...windowing };
    return { coder: DEFAULT_CODER, declared: false, ...windowing };
  }

  /**
   * The key and value coders of this KV PCollection. A json default becomes
   * kv(json, json) (the elements must be `{key, value}` objects).
   */
  keyed(where: string): [CoderProtoSpec, CoderProtoSpec] {
    if (!isKvCoder(this.coder)) {
      if (this.coderDeclared || this.coderFixed)
        throw new TypeError(
          `${where} needs KV elements ({key, value}), but ${this.id} has coder ${this.coder.urn}: declare {coder: kv(keyCoder, valueCoder)} where it is made`,
        );
      this.coder = kv(DEFAULT_CODER, DEFAULT_CODER);
      this.pipeline.graph.setCoder(this.id, this.coder);
    }
    return kvComponents(this.coder);
  }

  /** One output per element: `fn(element, ctx)` (may be async). */
  map<O>(
    fn: (element: T, ctx: Context) => O | Promise<O>,
    options: MapOptions = {},
  ): PCollection<O> {
    const name = nameOf("Map", fn, options);
    checkSelfContained(fn, step("map", name.name));
    const code = mapDoFn(fn, name.name, options.config);
    return this.pipeline.addParDo(this as PCollection<unknown>, name, code, {
      out: this.output(options.coder, name.name),
    }).out as PCollection<O>;
  }

  /**
   * A batch DoFn (README "Vectorized DoFns"): `fn(batch, ctx)` gets an Apache
   * Arrow Table of elements (columns `key`/`value`, or `value`) and returns a
   * batch (Table, RecordBatch or an object of columns) or an iterable of
   * elements. The output coder defaults to this PCollection's.
   */
  mapBatches<O = T>(
    fn: (batch: Table, ctx: Context) => unknown,
    options: MapBatchesOptions = {},
  ): PCollection<O> {
    const name = nameOf("MapBatches", fn, options);
    checkSelfContained(fn, step("mapBatches", name.name));
    const code = mapBatchesDoFn(fn, name.name, options.config, options);
    const out =
      options.coder === undefined
        ? this.output(undefined, name.name, true)
        : this.output(options.coder, name.name);
    return this.pipeline.addParDo(this as PCollection<unknown>, name, code, { out })
      .out as PCollection<O>;
  }

  /** Any number of outputs per element: `fn` returns an iterable or async iterable (or a promise of one). */
  flatMap<O>(
    fn: (element: T, ctx: Context) => Iterable<O> | AsyncIterable<O> | Promise<Iterable<O>>,
    options: MapOptions = {},
  ): PCollection<O> {
    const name = nameOf("FlatMap", fn, options);
    checkSelfContained(fn, step("flatMap", name.name));
    const code = flatMapDoFn(fn, name.name, options.config);
    return this.pipeline.addParDo(this as PCollection<unknown>, name, code, {
      out: this.output(options.coder, name.name),
    }).out as PCollection<O>;
  }

  /** The elements for which `fn` is truthy (same coder). */
  filter(
    fn: (element: T, ctx: Context) => unknown,
    options: NameOption & { config?: unknown } = {},
  ): PCollection<T> {
    const name = nameOf("Filter", fn, options);
    checkSelfContained(fn, step("filter", name.name));
    const code = filterDoFn(fn, name.name, options.config);
    return this.pipeline.addParDo(this as PCollection<unknown>, name, code, {
      out: this.output(undefined, name.name, true),
    }).out as PCollection<T>;
  }

  /** A DoFn (function, object, class or `{module, export}`) with one output. */
  parDo<O = unknown>(dofn: DoFnArg, options?: ParDoOptions): PCollection<O>;
  /** A DoFn with tagged outputs: returns the output PCollections by tag. */
  parDo(
    dofn: DoFnArg,
    options: ParDoOptions & { outputs: OutputsDecl },
  ): Record<string, PCollection<unknown>>;
  parDo(
    dofn: DoFnArg,
    options: ParDoOptions & { outputs?: OutputsDecl } = {},
  ): PCollection<unknown> | Record<string, PCollection<unknown>> {
    const name = nameOf("ParDo", dofn, options);
    checkSelfContained(dofn, step("parDo", name.name));
    const shipped = shipUserCode(dofn, name.name, options.config);
    const batched = hasProcessBatch(dofn);
    if (batched && (options.state !== undefined || options.timers !== undefined))
      throw new TypeError(
        `${name.name}: a batch DoFn (processBatch) cannot use state or timers (they are per key; a batch holds many keys)`,
      );
    const code = batched ? asBatchDoFn(shipped, options, name.name) : shipped;
    const outputs: Record<string, OutputDecl> = {};
    if (options.outputs) {
      if (options.coder !== undefined)
        throw new TypeError(`${name.name}: with outputs, give each output's coder in outputs`);
      for (const [tag, decl] of Object.entries(options.outputs))
        outputs[tag] = this.output(decl?.coder, `${name.name} output ${tag}`);
      if (Object.keys(outputs).length === 0)
        throw new TypeError(`${name.name}: outputs must name at least one output`);
    } else outputs.out = this.output(options.coder, name.name);
    for (const [stateName, decl] of Object.entries(options.state ?? {}))
      if (decl?.kind === "combining")
        checkSelfContained(
          decl.combineFn,
          `${step("parDo", name.name)} state ${JSON.stringify(stateName)}`,
          "setup",
        );
    const stateful =
      Object.keys(options.state ?? {}).length + Object.keys(options.timers ?? {}).length;
    const keyed = stateful > 0 ? this.keyed(`${name.name} (state and timers)`) : undefined;
    const sideInputs: Record<string, SideInputSource> = {};
    for (const [side, view] of Object.entries(options.sideInputs ?? {})) {
      if (!(view instanceof SideInputView))
        throw new TypeError(
          `${name.name}: side input ${side} must be a view (pcollection.asIterable() or .asMultimap())`,
        );
      sideInputs[side] = view.source();
    }
    const result = this.pipeline.addParDo(
      this as PCollection<unknown>,
      name,
      code,
      outputs,
      {
        sideInputs,
        state: options.state,
        timers: options.timers,
        requestsFinalization: options.requestsFinalization,
        restrictionCoder: isSplittableDoFn(dofn, options)
          ? normalizeCoder(
              options.restrictionCoder ?? OFFSET_RANGE_CODER,
              `${name.name} restrictionCoder`,
            )
          : undefined,
      },
      keyed && { keyCoder: keyed[0], windowCoder: this.windowFn.windowCoder },
    );
    return options.outputs ? result : (result.out as PCollection<unknown>);
  }

  /** Groups KV values by key (and window): `{key, value: values[]}`. */
  groupByKey<
    K = T extends KV<infer K0, unknown> ? K0 : unknown,
    V = T extends KV<unknown, infer V0> ? V0 : unknown,
  >(options: NameOption = {}): PCollection<KV<K, V[]>> {
    const name = options.name ?? "GroupByKey";
    const [k, v] = this.keyed(name);
    return this.pipeline.addPrimitive(
      {
        name,
        explicitName: options.name !== undefined,
        urn: GROUP_BY_KEY_URN,
        inputs: { input: this as PCollection<unknown> },
      },
      {
        out: {
          coder: kv(k, iterable(v)),
          declared: true,
          windowFn: this.windowFn,
          alreadyMerged: this.windowFn.merging,
        },
      },
    ).out as PCollection<KV<K, V[]>>;
  }

  /**
   * Combines the values of each key (`combine_per_key`, a composite of
   * GroupByKey + combine_grouped_values, so runners may lift it).
   */
  combinePerKey<O = unknown>(
    fn: CombineFnArg,
    options: NameOption & CombineOptions = {},
  ): PCollection<KV<T extends KV<infer K0, unknown> ? K0 : unknown, O>> {
    checkSelfContained(fn, step("combinePerKey", options.name ?? "CombinePerKey"), "setup");
    return combinePerKey(this as PCollection<unknown>, fn, options) as PCollection<any>;
  }

  /** Combines all values (per window) into one: keys by a fixed key, combinePerKey, drops the key. */
  combineGlobally<O = unknown>(
    fn: CombineFnArg,
    options: NameOption & CombineOptions = {},
  ): PCollection<O> {
    checkSelfContained(fn, step("combineGlobally", options.name ?? "CombineGlobally"), "setup");
    return combineGlobally(this as PCollection<unknown>, fn, options) as PCollection<O>;
  }

  /** Assigns windows (fixedWindows, slidingWindows, sessions, globalWindows). */
  windowInto(windowFn: WindowFnSpec, options: NameOption = {}): PCollection<T> {
    const payload = new pipelineApi.WindowIntoPayload({
      window_fn: new pipelineApi.FunctionSpec({ urn: windowFn.urn, payload: windowFn.payload }),
    }).serializeBinary();
    return this.pipeline.addPrimitive(
      {
        name: options.name ?? "WindowInto",
        explicitName: options.name !== undefined,
        urn: WINDOW_INTO_URN,
        payload,
        inputs: { input: this as PCollection<unknown> },
        usesEnvironment: true,
      },
      { out: { coder: this.coder, declared: this.coderDeclared, windowFn } },
    ).out as PCollection<T>;
  }

  /** Sets each element's timestamp to `fn(element, ctx)` (millis, number or bigint). */
  withTimestamps(
    fn: (element: T, ctx: Context) => number | bigint | Promise<number | bigint>,
    options: NameOption & { config?: unknown } = {},
  ): PCollection<T> {
    const name = nameOf("WithTimestamps", fn, options);
    checkSelfContained(fn, step("withTimestamps", name.name));
    return this.pipeline.addParDo(
      this as PCollection<unknown>,
      name,
      withTimestampsDoFn(fn, name.name, options.config),
      {
        out: this.output(undefined, name.name, true),
      },
    ).out as PCollection<T>;
  }

  /**
   * Redistributes the elements (a `beam:transform:reshuffle:v1` composite:
   * random keys, GroupByKey, then each value at its original timestamp).
   */
  reshuffle(options: NameOption = {}): PCollection<T> {
    if (this.windowFn.merging)
      throw new TypeError(
        `reshuffle of ${this.id}: merging windows (sessions) are not supported; reshuffle before windowInto`,
      );
    const name = options.name ?? "Reshuffle";
    return this.pipeline.graph.composite(
      name,
      options.name !== undefined,
      () => {
        const keyed = this.map(
          (value, ctx) => ({
            key: Math.floor(Math.random() * 2 ** 31),
            value: { key: value, value: ctx.timestamp },
          }),
          { name: "AddRandomKeys", coder: kv("varint", kv(this.coder, "varint")) },
        );
        const grouped = keyed.groupByKey<number, KV<T, bigint>>();
        return grouped.flatMap(
          (group, ctx) => {
            for (const v of group.value) ctx.outputWithTimestamp(v.key, v.value);
            return [];
          },
          { name: "RestoreTimestamps", coder: this.coder },
        );
      },
      (pc) => ({ out: pc.id }),
      { urn: RESHUFFLE_URN },
    );
  }

  /** This PCollection as a side input read as an array. */
  asIterable(): SideInputView {
    return new SideInputView(this as PCollection<unknown>, ITERABLE_SIDE_INPUT_URN);
  }

  /** This KV PCollection as a side input read by key (`get(key)` → values, `keys()`). */
  asMultimap(): SideInputView {
    this.keyed(`${this.id}.asMultimap()`);
    return new SideInputView(this as PCollection<unknown>, MULTIMAP_SIDE_INPUT_URN);
  }

  /** Applies a cross-language transform (`external(...)`, `pythonTransform(...)`) to this PCollection. */
  apply<R>(transform: ExternalTransform<R>): R;
  /** Applies a composite transform: the transforms `build` adds are named `<name>/...`. */
  apply<R extends PCollection<any> | Record<string, PCollection<any>> | void>(
    name: string,
    build: (input: this) => R,
  ): R;
  apply<R>(
    nameOrTransform: string | ExternalTransform<R>,
    build?: (input: this) => R,
  ): R | PCollection<any> | Record<string, PCollection<any>> | void {
    if (nameOrTransform instanceof ExternalTransform)
      return nameOrTransform.expandOn(this.pipeline, { input: this as PCollection<unknown> });
    const composite = build as (input: this) => PCollection<any> | void;
    return this.pipeline.graph.composite(nameOrTransform, true, () => composite(this), outputsOf);
  }

  /**
   * Writes the elements as lines (strings as they are, other values as JSON)
   * to `<prefix>-SSSSS-of-NNNNN<suffix>`; returns the written file names.
   */
  writeText(prefix: string, options: WriteTextOptions = {}): PCollection<string> {
    return writeText(this as PCollection<unknown>, prefix, options);
  }
}

/** The outputs of a composite's result, by tag. */
export function outputsOf(
  result: PCollection<unknown> | Record<string, PCollection<unknown>> | void,
): Record<string, string> {
  if (result instanceof PCollection) return { out: result.id };
  if (result === undefined || result === null) return {};
  return Object.fromEntries(Object.entries(result).map(([tag, pc]) => [tag, pc.id]));
}
