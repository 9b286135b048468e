/**
 * The transform URN registry. Each operation module registers its URN on
 * import (`operations/index.ts` imports them all); an engine can add its own
 * URNs by loading a plugin module that calls `registerOperation`.
 */
import type { Coder } from "../coders/index.js";
import type { fnApi, pipelineApi } from "../proto/index.js";
import type { BundleServices } from "./bundle-services.js";
import type { Operation, Receiver } from "./operation.js";
import type { DataSamplingSettings } from "./sampling/element-sampler.js";

/** What a factory gets to build the operation of one transform. */
export interface OperationContext {
  readonly transformId: string;
  readonly transform: pipelineApi.PTransform;
  readonly descriptor: fnApi.ProcessBundleDescriptor;
  /** The receiver of a local output name (consumers already wired; discards if none). */
  output(localName: string): Receiver;
  /** Local output names in the transform's declaration order. */
  readonly outputNames: readonly string[];
  /** A coder of the descriptor by id (cached). */
  coder(coderId: string): Coder<unknown>;
  /** The coder of a PCollection of the descriptor. */
  pcollectionCoder(pcollectionId: string): Coder<unknown>;
  /** Limits the worker was configured with. */
  readonly limits: OperationLimits;
  /** The services of the bundle being processed (valid from startBundle to finishBundle). */
  bundle(): BundleServices;
}

export interface OperationLimits {
  /** Largest single element a data source accepts, in bytes (a clear error past it). */
  maxElementBytes: number;
  /** The pipeline's options, visible to user code as `ctx.options`. */
  pipelineOptions: Readonly<Record<string, unknown>>;
  /** Sample elements of every PCollection (`sample_data`); off when absent. */
  dataSampling?: DataSamplingSettings;
}

export const DEFAULT_LIMITS: OperationLimits = {
  maxElementBytes: 512 * 1024 * 1024,
  pipelineOptions: {},
};

/**
 * A positive integer pipeline option (a number, or a numeric string as
 * command lines give it), or `fallback` when absent; anything else is an
 * Error naming the option.
 */
export function positiveIntegerOption(
  options: Readonly<Record<string, unknown>>,
  name: string,
  fallback: number,
): number {
  const raw = options[name];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const n = typeof raw === "string" ? Number(raw) : raw;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(
      `pipeline option ${name} must be a positive integer, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

export type OperationFactory = (ctx: OperationContext) => Operation;

const factories = new Map<string, OperationFactory>();

/** Registers the factory for a transform URN; registering a URN twice is an error. */
export function registerOperation(urn: string, factory: OperationFactory): void {
  if (factories.has(urn)) throw new Error(`operation for URN ${urn} is already registered`);
  factories.set(urn, factory);
}

export function operationFactory(urn: string): OperationFactory | undefined {
  return factories.get(urn);
}

export function registeredOperationUrns(): string[] {
  return [...factories.keys()].sort();
}

/**
 * Operations loaded only when a descriptor needs them (their modules, and
 * what those import, stay out of workers that never run them): `load`
 * imports modules that register operations or variants.
 */
export interface OperationPlugin {
  name: string;
  needed(descriptor: fnApi.ProcessBundleDescriptor): boolean;
  load(): Promise<unknown>;
}

const plugins: OperationPlugin[] = [];
const loading = new Map<OperationPlugin, Promise<unknown>>();

export function registerOperationPlugin(plugin: OperationPlugin): void {
  plugins.push(plugin);
}

/** Loads the plugins a descriptor needs (each once per process or thread). */
export async function loadOperationPlugins(
  descriptor: fnApi.ProcessBundleDescriptor,
): Promise<void> {
  for (const plugin of plugins) {
    if (!loading.has(plugin) && !plugin.needed(descriptor)) continue;
    let pending = loading.get(plugin);
    if (!pending) loading.set(plugin, (pending = plugin.load()));
    await pending;
  }
}
