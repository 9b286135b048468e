/**
 * The coder registry: one factory per coder URN. Each coder file registers
 * its URN on import (`coders/index.ts` imports them all); a plugin registers
 * more with {@link registerCoder}.
 *
 * `coderFromSpec` builds a coder from a spec shaped like a coder entry of
 * Beam's `standard_coders.yaml`; `coderFromProto` builds one from a
 * pipeline's `Components` (or a `ProcessBundleDescriptor`), caching the
 * result per (components, coder id).
 *
 * Runners wrap coders they do not know in `beam:coder:length_prefix:v1`: a
 * component with an unknown URN directly inside a length prefix becomes an
 * opaque coder (its values are the raw bytes). An unknown URN anywhere else
 * is a `CoderError` naming the URN and the coder id.
 */
import { compileCoder } from "./codegen.js";
import type { Coder } from "./coder.js";
import { buildError, CoderError } from "./errors.js";
import { OpaqueCoder } from "./opaque.js";

/** The URN of the length-prefix coder, the only place unknown URNs are allowed. */
export const LENGTH_PREFIX_URN = "beam:coder:length_prefix:v1";

/** What a coder factory receives. */
export interface CoderBuildContext {
  readonly urn: string;
  /** The spec's payload (empty when there is none). */
  readonly payload: Uint8Array;
  /** The component coders, already built. */
  readonly components: readonly Coder<unknown>[];
  /** The coder's id in `Components`, when built from a proto. */
  readonly coderId: string | undefined;
}

/** Builds a coder for one URN (must return a new instance: the id is per instance). */
export type CoderFactory = (ctx: CoderBuildContext) => Coder<unknown>;

const factories = new Map<string, CoderFactory>();

/** Registers (or replaces) the factory of a coder URN. */
export function registerCoder(urn: string, factory: CoderFactory): void {
  factories.set(urn, factory);
}

/** True when a factory is registered for `urn`. */
export function isCoderRegistered(urn: string): boolean {
  return factories.has(urn);
}

/** The registered URNs (e.g. for `Environment.capabilities`), sorted. */
export function registeredCoderUrns(): string[] {
  return [...factories.keys()].sort();
}

/** A coder spec shaped like a coder entry of `standard_coders.yaml`. */
export interface CoderSpec {
  readonly urn: string;
  readonly payload?: Uint8Array | undefined;
  readonly components?: readonly CoderSpec[] | undefined;
}

const EMPTY = new Uint8Array(0);

/** Options of {@link coderFromSpec} and {@link coderFromProto}. */
export interface CoderBuildOptions {
  /**
   * Compile coders into generated functions (see `codegen.ts`). `false` keeps
   * the interpreted coders, which produce the same bytes, values and errors.
   * @default true, unless the environment sets `FIREFLY_CODER_COMPILE=0`
   */
  compile?: boolean | undefined;
}

const COMPILE_BY_DEFAULT = process.env["FIREFLY_CODER_COMPILE"] !== "0";

function build(
  urn: string,
  payload: Uint8Array,
  coderId: string | undefined,
  compile: boolean,
  components: () => Coder<unknown>[],
): Coder<unknown> {
  const factory = factories.get(urn);
  if (factory === undefined) {
    throw buildError(
      urn,
      coderId,
      "a coder URN Firefly implements (or one inside beam:coder:length_prefix:v1)",
      "an unknown URN",
    );
  }
  const built = components();
  try {
    const coder = factory({ urn, payload, components: built, coderId });
    return compile ? compileCoder(coder) : coder;
  } catch (err) {
    if (err instanceof CoderError) throw err;
    throw buildError(
      urn,
      coderId,
      "a valid coder spec",
      err instanceof Error ? err.message : String(err),
      err,
    );
  }
}

/** Builds a coder from a spec (`{urn, payload?, components?}`). */
export function coderFromSpec<T = unknown>(spec: CoderSpec, options?: CoderBuildOptions): Coder<T> {
  return buildSpec(spec, undefined, options?.compile ?? COMPILE_BY_DEFAULT) as Coder<T>;
}

function buildSpec(
  spec: CoderSpec,
  parentUrn: string | undefined,
  compile: boolean,
): Coder<unknown> {
  if (typeof spec?.urn !== "string")
    throw buildError(String(spec?.urn), undefined, "a coder spec with a string urn");
  if (parentUrn === LENGTH_PREFIX_URN && !factories.has(spec.urn)) return new OpaqueCoder(spec.urn);
  const components = spec.components ?? [];
  return build(spec.urn, spec.payload ?? EMPTY, undefined, compile, () =>
    components.map((c) => buildSpec(c, spec.urn, compile)),
  );
}

/** A proto `Coder` as `coderFromProto` reads it (the generated class fits). */
export interface ProtoCoderLike {
  readonly spec?: { readonly urn: string; readonly payload: Uint8Array } | null | undefined;
  readonly component_coder_ids: readonly string[];
}

/** Anything with the coders of a pipeline: `Components`, `ProcessBundleDescriptor`. */
export interface ComponentsLike {
  readonly coders: ReadonlyMap<string, ProtoCoderLike>;
}

const cache = new WeakMap<ComponentsLike, Map<string, Coder<unknown>>>();

/**
 * Builds the coder `coderId` of `components` (cached per components object and
 * id). Missing ids, cycles and unknown URNs are `CoderError`s naming the id.
 */
export function coderFromProto<T = unknown>(coderId: string, components: ComponentsLike): Coder<T> {
  let built = cache.get(components);
  if (built === undefined) {
    built = new Map();
    cache.set(components, built);
  }
  return buildProto(coderId, components, built, new Set(), undefined) as Coder<T>;
}

function buildProto(
  coderId: string,
  components: ComponentsLike,
  built: Map<string, Coder<unknown>>,
  building: Set<string>,
  parentUrn: string | undefined,
): Coder<unknown> {
  const cached = built.get(coderId);
  if (cached !== undefined) return cached;
  const proto = components.coders.get(coderId);
  if (proto === undefined) {
    throw buildError(
      parentUrn ?? "(none)",
      coderId,
      `coder id ${JSON.stringify(coderId)} in the pipeline's coders`,
      "no such coder",
    );
  }
  const urn = proto.spec?.urn ?? "";
  if (parentUrn === LENGTH_PREFIX_URN && !factories.has(urn)) {
    // Not cached: the same id may also appear outside a length prefix, where it is an error.
    return new OpaqueCoder(urn, coderId);
  }
  if (building.has(coderId))
    throw buildError(urn, coderId, "coder components without cycles", "a cycle");
  building.add(coderId);
  const coder = build(urn, proto.spec?.payload ?? EMPTY, coderId, COMPILE_BY_DEFAULT, () =>
    proto.component_coder_ids.map((id) => buildProto(id, components, built, building, urn)),
  );
  building.delete(coderId);
  built.set(coderId, coder);
  return coder;
}
