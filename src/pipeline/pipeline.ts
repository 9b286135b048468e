/**
 * `Pipeline`: options, the graph being built, root transforms
 * (`create`, `readText`, `flatten`, `apply`), `toProto()` and `run()`.
 */
import { pipelineApi } from "../../proto/index.js";
import {
  checkCoder,
  checkValues,
  inferCoder,
  normalizeCoder,
  type CoderProtoSpec,
  type CoderType,
} from "./coder-types.js";
import { ENVIRONMENT_ID, fireflyEnvironment } from "./environment.js";
import { overrideEnvironments } from "./environment-overrides.js";
import { checkReadableByFirefly, ExternalTransform } from "./external.js";
import { PipelineGraph } from "./graph.js";
import { optionTypoWarnings } from "./option-suggestions.js";
import { PipelineOptions, type OptionValue } from "./options.js";
import {
  OFFSET_RANGE_CODER,
  parDoPayload,
  PARDO_URN,
  type ParDoFeatures,
} from "./pardo-payload.js";
import { outputsOf, PCollection } from "./pcollection.js";
import { findRunner, type PipelineResult } from "./runners.js";
import type { UserCodePayload } from "./ship-function.js";
import { DEFAULT_READ_SPLIT_BYTES, expandGlobDoFn, readLinesDoFn } from "./text-io.js";
import { generateSequenceDoFn, sequenceBoundsDoFn } from "./sequence.js";
import { globalWindows, type WindowFnSpec } from "./windowing.js";
import { createDoFn } from "./wrappers.js";
import * as path from "node:path";

/** The one output of a source step: a declared coder, global windows. */
const globalOutput = (coder: CoderProtoSpec): Record<string, OutputDecl> => ({
  out: { coder, declared: true, windowFn: globalWindows() },
});

export const IMPULSE_URN = "beam:transform:impulse:v1";
export const FLATTEN_URN = "beam:transform:flatten:v1";

export interface NameOption {
  /** The transform's name (unique within its composite). */
  name?: string;
}

/** An output of a primitive: its coder (declared or defaulted) and windowing. */
export interface OutputDecl {
  coder: CoderProtoSpec;
  declared: boolean;
  windowFn: WindowFnSpec;
  alreadyMerged?: boolean;
}

export class Pipeline {
  readonly options: PipelineOptions;
  /** @internal The graph being built. */
  readonly graph = new PipelineGraph(ENVIRONMENT_ID);
  private readonly environment: pipelineApi.Environment;
  /**
   * Where `run()` reports command-line options that look like typos of known
   * ones (`--thread=2: unknown option; did you mean --threads?`). @default stderr
   */
  warn: (message: string) => void = (message) => {
    process.stderr.write(`${message}\n`);
  };
  private optionsChecked = false;

  /**
   * @param options an argv array (`process.argv.slice(2)`), an object of
   * options, or PipelineOptions. @default the process's command line
   */
  constructor(
    options:
      | PipelineOptions
      | readonly string[]
      | Record<string, OptionValue | undefined> = process.argv.slice(2),
  ) {
    this.options = PipelineOptions.from(options);
    this.environment = fireflyEnvironment(this.options);
  }

  /** @internal Adds a primitive transform and its outputs; returns the outputs by tag. */
  addPrimitive(
    spec: {
      name: string;
      explicitName: boolean;
      urn: string;
      payload?: Uint8Array;
      inputs?: Record<string, PCollection<unknown>>;
      usesEnvironment?: boolean;
    },
    outputs: Record<string, OutputDecl>,
  ): Record<string, PCollection<unknown>> {
    const inputs: Record<string, string> = {};
    for (const [local, pc] of Object.entries(spec.inputs ?? {})) {
      if (pc.pipeline !== this)
        throw new TypeError(`${spec.name}: input ${local} belongs to another pipeline`);
      checkReadableByFirefly(pc, spec.name);
      inputs[local] = pc.id;
    }
    const id = this.graph.addTransform({ ...spec, inputs });
    const result: Record<string, PCollection<unknown>> = {};
    for (const [tag, decl] of Object.entries(outputs)) {
      const out = { ...decl, coder: normalizeCoder(decl.coder, `${id} output ${tag}`) };
      checkCoder(out.coder, `${id} output ${tag}`);
      const windowingId = this.graph.windowingStrategyId(out.windowFn, out.alreadyMerged);
      const pcId = this.graph.addOutput(id, tag, out.coder, windowingId);
      result[tag] = new PCollection(this, pcId, out.coder, out.declared, out.windowFn);
    }
    return result;
  }

  /** @internal Adds a `firefly:dofn:v1` ParDo. */
  addParDo(
    input: PCollection<unknown>,
    name: { name: string; explicitName: boolean },
    userCode: UserCodePayload,
    outputs: Record<string, OutputDecl>,
    features: ParDoFeatures = {},
    keyed?: { keyCoder: CoderProtoSpec; windowCoder: CoderProtoSpec },
  ): Record<string, PCollection<unknown>> {
    const where = this.graph.currentScope ? `${this.graph.currentScope}/${name.name}` : name.name;
    const payload = parDoPayload(this.graph, userCode, features, keyed, where);
    const inputs: Record<string, PCollection<unknown>> = { input };
    for (const [sideName, side] of Object.entries(features.sideInputs ?? {})) {
      if (sideName === "input")
        throw new TypeError(`${where}: "input" names the main input; rename the side input`);
      inputs[sideName] = this.pcollectionById(side.pcollectionId);
    }
    return this.addPrimitive(
      {
        ...name,
        urn: PARDO_URN,
        payload: payload.serializeBinary(),
        inputs,
        usesEnvironment: true,
      },
      outputs,
    );
  }

  private readonly byId = new Map<string, PCollection<unknown>>();

  /** @internal */
  registerPCollection(pc: PCollection<unknown>): void {
    this.byId.set(pc.id, pc);
  }

  /** @internal */
  pcollectionById(id: string): PCollection<unknown> {
    const pc = this.byId.get(id);
    if (!pc) throw new Error(`unknown PCollection ${id}`);
    return pc;
  }

  /** @internal An Impulse (one empty byte array in the global window). */
  impulse(name = "Impulse"): PCollection<Uint8Array> {
    return this.addPrimitive(
      { name, explicitName: false, urn: IMPULSE_URN },
      globalOutput({ urn: "beam:coder:bytes:v1" }),
    ).out as PCollection<Uint8Array>;
  }

  /**
   * A PCollection of the values (Impulse + a ParDo emitting them). The coder
   * is inferred from the values unless given; every value must encode with it.
   */
  create<T>(
    values: readonly T[],
    options: NameOption & { coder?: CoderType } = {},
  ): PCollection<T> {
    if (!Array.isArray(values)) throw new TypeError("create(values): values must be an array");
    const name = options.name ?? "Create";
    const coder = options.coder
      ? normalizeCoder(options.coder, `${name} coder`)
      : inferCoder(values);
    checkCoder(coder, name);
    checkValues(coder, values, name);
    return this.graph.composite(
      name,
      options.name !== undefined,
      () => {
        const impulse = this.impulse();
        return this.addParDo(
          impulse,
          { name: "Values", explicitName: false },
          createDoFn(values, `${name} value`),
          globalOutput(coder),
        ).out as PCollection<T>;
      },
      (pc) => ({ out: pc.id }),
    );
  }

  /**
   * The integers of [from, to) (numbers, or bigints past 2^53), made by a
   * splittable DoFn: the range is cut into pieces of `splitSize` that the
   * workers read in parallel.
   */
  generateSequence(
    options: NameOption & {
      from: number | bigint;
      to: number | bigint;
      /** Numbers per piece. @default 1000000 */
      splitSize?: number | bigint;
    },
  ): PCollection<number> {
    const int = (v: unknown, what: string): bigint => {
      if (typeof v === "bigint") return v;
      if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
      throw new TypeError(
        `generateSequence: ${what} must be a safe integer or a bigint, got ${String(v)}`,
      );
    };
    const from = int(options?.from, "from");
    const to = int(options?.to, "to");
    const splitSize = int(options.splitSize ?? 1_000_000, "splitSize");
    if (from > to) throw new TypeError(`generateSequence: from (${from}) is after to (${to})`);
    if (splitSize < 1n)
      throw new TypeError(`generateSequence: splitSize must be ≥ 1, got ${splitSize}`);
    return this.graph.composite(
      options.name ?? "GenerateSequence",
      options.name !== undefined,
      () => {
        const bounds = this.addParDo(
          this.impulse(),
          { name: "Range", explicitName: false },
          sequenceBoundsDoFn(from, to),
          globalOutput({ urn: "firefly:coder:json:v1" }),
        ).out as PCollection<unknown>;
        return this.addParDo(
          bounds,
          { name: "Generate", explicitName: false },
          generateSequenceDoFn(splitSize),
          globalOutput({ urn: "beam:coder:varint:v1" }),
          { restrictionCoder: OFFSET_RANGE_CODER },
        ).out as PCollection<number>;
      },
      (pc) => ({ out: pc.id }),
    );
  }

  /** The lines of the files matching a glob (relative to the working directory), as strings. */
  readText(
    glob: string,
    options: NameOption & {
      /** Bytes of a file each parallel read covers. @default 33554432 (32 MiB) */
      splitBytes?: number;
    } = {},
  ): PCollection<string> {
    if (typeof glob !== "string" || glob === "")
      throw new TypeError("readText(glob): glob must be a non-empty string");
    const pattern = path.resolve(glob);
    const splitBytes = options.splitBytes ?? DEFAULT_READ_SPLIT_BYTES;
    if (!Number.isSafeInteger(splitBytes) || splitBytes < 1)
      throw new TypeError(`readText: splitBytes must be a positive integer, got ${splitBytes}`);
    const string = { urn: "beam:coder:string_utf8:v1" };
    return this.graph.composite(
      options.name ?? "ReadText",
      options.name !== undefined,
      () => {
        const files = this.addParDo(
          this.impulse(),
          { name: "ExpandGlob", explicitName: false },
          expandGlobDoFn(pattern),
          globalOutput(string),
        ).out as PCollection<string>;
        return this.addParDo(
          files.reshuffle(),
          { name: "ReadLines", explicitName: false },
          readLinesDoFn(splitBytes),
          globalOutput(string),
          { restrictionCoder: OFFSET_RANGE_CODER },
        ).out as PCollection<string>;
      },
      (pc) => ({ out: pc.id }),
    );
  }

  /** The union of PCollections (same coder and windowing). */
  flatten<T>(pcollections: readonly PCollection<T>[], options: NameOption = {}): PCollection<T> {
    if (!Array.isArray(pcollections) || pcollections.length === 0)
      throw new TypeError("flatten needs at least one PCollection");
    const [first] = pcollections;
    const coderId = this.graph.coderId(first.coder);
    for (const pc of pcollections) {
      if (this.graph.coderId(pc.coder) !== coderId)
        throw new TypeError(
          `flatten: ${pc.id} has coder ${this.graph.coderId(pc.coder)}, ${first.id} has ${coderId}; give them one coder (e.g. {coder} on the transforms that make them)`,
        );
      if (
        pc.windowFn.urn !== first.windowFn.urn ||
        !sameBytes(pc.windowFn.payload, first.windowFn.payload)
      )
        throw new TypeError(`flatten: ${pc.id} and ${first.id} have different windowing`);
    }
    for (const pc of pcollections) pc.coderFixed = true;
    const inputs = Object.fromEntries(pcollections.map((pc, i) => [`input${i}`, pc]));
    return this.addPrimitive(
      {
        name: options.name ?? "Flatten",
        explicitName: options.name !== undefined,
        urn: FLATTEN_URN,
        inputs,
      },
      { out: { coder: first.coder, declared: first.coderDeclared, windowFn: first.windowFn } },
    ).out as PCollection<T>;
  }

  /** Applies a cross-language transform without inputs (a source, e.g. a Java IO read). */
  apply<R>(transform: ExternalTransform<R>): R;
  /** Applies a composite: transforms `build` adds are its parts, named `<name>/...`. */
  apply<R extends PCollection<unknown> | Record<string, PCollection<unknown>> | void>(
    name: string,
    build: (pipeline: Pipeline) => R,
  ): R;
  apply<R>(
    nameOrTransform: string | ExternalTransform<R>,
    build?: (pipeline: Pipeline) => R,
  ): R | PCollection<unknown> | Record<string, PCollection<unknown>> | void {
    if (nameOrTransform instanceof ExternalTransform) return nameOrTransform.expandOn(this, {});
    const composite = build as (pipeline: Pipeline) => PCollection<unknown> | void;
    return this.graph.composite(nameOrTransform, true, () => composite(this), outputsOf);
  }

  /** The Beam Pipeline proto (foreign environments as `--environment_overrides` in `options` say). */
  toProto(options: PipelineOptions = this.options): pipelineApi.Pipeline {
    const copy = <T extends { serializeBinary(): Uint8Array }>(
      m: T,
      cls: { deserializeBinary(b: Uint8Array): T },
    ) => cls.deserializeBinary(m.serializeBinary());
    const components = new pipelineApi.Components({
      transforms: this.graph.transforms,
      pcollections: this.graph.pcollections,
      windowing_strategies: this.graph.windowingStrategies,
      coders: this.graph.coders,
      environments: new Map([
        [ENVIRONMENT_ID, this.environment],
        ...overrideEnvironments(this.graph.foreignEnvironments, options),
      ]),
    });
    return copy(
      new pipelineApi.Pipeline({
        components,
        root_transform_ids: [...this.graph.rootIds],
        requirements: [...this.graph.requirements].sort(),
      }),
      pipelineApi.Pipeline,
    );
  }

  /** Runs the pipeline on the runner named by `--runner` (default "local"). */
  async run(overrides: Record<string, OptionValue | undefined> = {}): Promise<PipelineResult> {
    if (!this.optionsChecked) {
      this.optionsChecked = true;
      for (const warning of optionTypoWarnings(this.options)) this.warn(warning);
    }
    const options = Object.keys(overrides).length > 0 ? this.options.with(overrides) : this.options;
    const runner = await findRunner(options.runner);
    return runner(this.toProto(options), options);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
