/**
 * An operation test harness: builds the operation of one transform through
 * the URN registry with an {@link OperationContext} like the one
 * harness/bundle/graph-builder.ts makes (coders by id from a descriptor),
 * except that each output is an in-memory receiver collecting what the
 * operation emits. Inputs are plain windowed values, no bytes, no gRPC.
 */
import pino from "pino";
import {
  ByteReader,
  ByteWriter,
  coderFromProto,
  GLOBAL_WINDOW,
  NO_FIRING,
  type BoundedWindow,
  type Coder,
  type WindowedValue,
} from "../../coders/index.js";
import "../../operations/index.js";
import type { BundleServices, StateAccess } from "../../operations/bundle-services.js";
import type { Operation, Receiver } from "../../operations/operation.js";
import {
  DEFAULT_LIMITS,
  operationFactory,
  type OperationContext,
  type OperationLimits,
} from "../../operations/registry.js";
import { fnApi, pipelineApi } from "../../proto/index.js";
import { addCoder, GLOBAL, type CoderSpec } from "../support/descriptors.js";

export interface TransformUnderTest {
  urn: string;
  payload?: Uint8Array;
  /** Local input name → element coder of that input PCollection (default: one input "in" of bytes). */
  inputs?: Record<string, CoderSpec>;
  /** Local output name → element coder (default: one output "out" with the first input's coder). */
  outputs?: Record<string, CoderSpec>;
  /** The windowing strategy of every PCollection (default: global windows). */
  windowing?: {
    windowCoder?: CoderSpec;
    windowFn?: pipelineApi.FunctionSpec;
    outputTime?: pipelineApi.OutputTime.Enum;
  };
  /** Extra coders by spec, for payloads that name a coder id (ids as `addCoder` makes them). */
  extraCoders?: CoderSpec[];
  limits?: Partial<OperationLimits>;
  transformId?: string;
  /** The State API the operation's bundles see (default: none). */
  state?: StateAccess;
}

/**
 * An in-memory State API with a runner's semantics: bags (and everything
 * else) keyed by the serialized StateKey; ordered lists keyed without their
 * range, kept sorted by sort key, read and cleared by `[start, end)` range
 * (entries are Beam's TimestampedValue encoding, `KV<varint, length-prefixed>`).
 */
export class MemoryState implements StateAccess {
  readonly bags = new Map<string, Uint8Array[]>();
  readonly orderedLists = new Map<string, { sortKey: bigint; bytes: Uint8Array }[]>();
  readonly requests: { kind: "get" | "append" | "clear"; key: fnApi.StateKey }[] = [];

  private static id(key: fnApi.StateKey): string {
    return Buffer.from(key.serializeBinary()).toString("base64");
  }

  private static orderedList(key: fnApi.StateKey): { id: string; start: bigint; end: bigint } {
    const o = key.ordered_list_user_state;
    const unranged = new fnApi.StateKey({
      ordered_list_user_state: new fnApi.StateKey.OrderedListUserState({
        transform_id: o.transform_id,
        user_state_id: o.user_state_id,
        window: o.window,
        key: o.key,
      }),
    });
    return o.has_range
      ? { id: MemoryState.id(unranged), start: BigInt(o.range.start), end: BigInt(o.range.end) }
      : { id: MemoryState.id(unranged), start: -(2n ** 63n), end: 2n ** 63n - 1n };
  }

  get(key: fnApi.StateKey): Promise<Uint8Array[]> {
    this.requests.push({ kind: "get", key });
    if (key.has_ordered_list_user_state) {
      const { id, start, end } = MemoryState.orderedList(key);
      const writer = new ByteWriter();
      for (const e of this.orderedLists.get(id) ?? []) {
        if (e.sortKey < start || e.sortKey >= end) continue;
        writer.writeVarInt(e.sortKey);
        writer.writeLengthPrefixed(e.bytes);
      }
      return Promise.resolve([writer.finish()]);
    }
    return Promise.resolve([...(this.bags.get(MemoryState.id(key)) ?? [])]);
  }

  append(key: fnApi.StateKey, data: Uint8Array): Promise<void> {
    this.requests.push({ kind: "append", key });
    if (key.has_ordered_list_user_state) {
      const { id } = MemoryState.orderedList(key);
      const list = this.orderedLists.get(id) ?? [];
      const reader = new ByteReader(data);
      while (reader.remaining > 0) {
        list.push({ sortKey: BigInt(reader.readVarInt()), bytes: reader.readLengthPrefixed() });
      }
      list.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
      this.orderedLists.set(id, list);
      return Promise.resolve();
    }
    const id = MemoryState.id(key);
    this.bags.set(id, [...(this.bags.get(id) ?? []), data.slice()]);
    return Promise.resolve();
  }

  clear(key: fnApi.StateKey): Promise<void> {
    this.requests.push({ kind: "clear", key });
    if (key.has_ordered_list_user_state) {
      const { id, start, end } = MemoryState.orderedList(key);
      const kept = (this.orderedLists.get(id) ?? []).filter(
        (e) => e.sortKey < start || e.sortKey >= end,
      );
      this.orderedLists.set(id, kept);
      return Promise.resolve();
    }
    this.bags.delete(MemoryState.id(key));
    return Promise.resolve();
  }

  async getPage(key: fnApi.StateKey): Promise<{ data: Uint8Array; continuationToken: Uint8Array }> {
    const pages = await this.get(key);
    return { data: Buffer.concat(pages), continuationToken: new Uint8Array() };
  }
}

/** A bundle's services with nothing behind them but an optional State API. */
export function noBundleServices(
  instructionId = "test-bundle",
  state?: StateAccess,
): BundleServices {
  const unavailable = (what: string) => () => {
    throw new Error(`${what} is not available in the operation test harness`);
  };
  return {
    instructionId,
    logger: pino({ enabled: false }),
    dataOutput: unavailable("dataOutput"),
    timerOutput: unavailable("timerOutput"),
    get state(): StateAccess {
      if (!state) return unavailable("state")();
      return state;
    },
    registerFinalization: unavailable("registerFinalization"),
    addResidual: unavailable("addResidual"),
  };
}

/** Collects what an operation emits on one output. */
export class CollectingReceiver implements Receiver {
  readonly elements: WindowedValue<unknown>[] = [];
  process(element: WindowedValue<unknown>): undefined {
    this.elements.push(element);
    return undefined;
  }
  get values(): unknown[] {
    return this.elements.map((e) => e.value);
  }
  clear(): void {
    this.elements.length = 0;
  }
}

export interface OperationUnderTest {
  readonly op: Operation;
  readonly ctx: OperationContext;
  readonly descriptor: fnApi.ProcessBundleDescriptor;
  /** The receivers of the outputs, by local name. */
  readonly outputs: Map<string, CollectingReceiver>;
  /** The receiver of the only (or the named) output. */
  out(name?: string): CollectingReceiver;
  /** Runs `setup` if the operation has one. */
  setup(): Promise<void>;
  /** startBundle, every element in order, finishBundle. */
  runBundle(elements: WindowedValue<unknown>[]): Promise<void>;
  teardown(): Promise<void>;
}

/** Builds the descriptor holding the transform, its PCollections and coders. */
export function descriptorFor(t: TransformUnderTest): {
  descriptor: fnApi.ProcessBundleDescriptor;
  transformId: string;
} {
  const transformId = t.transformId ?? "under-test";
  const coders = new Map<string, pipelineApi.Coder>();
  const inputs = t.inputs ?? { in: { urn: "beam:coder:bytes:v1" } };
  const firstInput = Object.values(inputs)[0] ?? { urn: "beam:coder:bytes:v1" };
  const outputs = t.outputs ?? { out: firstInput };
  const windowCoder = t.windowing?.windowCoder ?? GLOBAL;
  const strategy = new pipelineApi.WindowingStrategy({
    window_coder_id: addCoder(coders, windowCoder),
    window_fn:
      t.windowing?.windowFn ??
      new pipelineApi.FunctionSpec({ urn: "beam:window_fn:global_windows:v1" }),
    output_time: t.windowing?.outputTime ?? pipelineApi.OutputTime.Enum.END_OF_WINDOW,
  });
  const pcollections = new Map<string, pipelineApi.PCollection>();
  const pc = (id: string, spec: CoderSpec) => {
    pcollections.set(
      id,
      new pipelineApi.PCollection({
        unique_name: id,
        coder_id: addCoder(coders, spec),
        windowing_strategy_id: "strategy",
      }),
    );
    return id;
  };
  const transformInputs = new Map(
    Object.entries(inputs).map(([name, spec]) => [name, pc(`input-${name}`, spec)]),
  );
  const transformOutputs = new Map(
    Object.entries(outputs).map(([name, spec]) => [name, pc(`output-${name}`, spec)]),
  );
  for (const spec of t.extraCoders ?? []) addCoder(coders, spec);
  const transform = new pipelineApi.PTransform({
    unique_name: transformId,
    spec: new pipelineApi.FunctionSpec({ urn: t.urn, payload: t.payload ?? new Uint8Array() }),
    inputs: transformInputs,
    outputs: transformOutputs,
  });
  const descriptor = new fnApi.ProcessBundleDescriptor({
    id: `descriptor-${transformId}`,
    transforms: new Map([[transformId, transform]]),
    pcollections,
    coders,
    windowing_strategies: new Map([["strategy", strategy]]),
  });
  return { descriptor, transformId };
}

/**
 * Builds the operation of a transform through the registry; factory errors
 * propagate (tests assert on them).
 */
export function buildOperation(t: TransformUnderTest): OperationUnderTest {
  const { descriptor, transformId } = descriptorFor(t);
  const transform = descriptor.transforms.get(transformId) as pipelineApi.PTransform;
  const factory = operationFactory(t.urn);
  if (!factory) throw new Error(`no operation is registered for ${t.urn}`);
  const outputs = new Map<string, CollectingReceiver>();
  for (const name of transform.outputs.keys()) outputs.set(name, new CollectingReceiver());
  const coderCache = new Map<string, Coder<unknown>>();
  const coder = (coderId: string): Coder<unknown> => {
    let c = coderCache.get(coderId);
    if (!c) coderCache.set(coderId, (c = coderFromProto(coderId, descriptor)));
    return c;
  };
  const services = noBundleServices("test-bundle", t.state);
  const ctx: OperationContext = {
    transformId,
    transform,
    descriptor,
    outputNames: [...transform.outputs.keys()],
    output(localName) {
      const receiver = outputs.get(localName);
      if (!receiver) throw new Error(`transform has no output ${JSON.stringify(localName)}`);
      return receiver;
    },
    coder,
    pcollectionCoder(pcollectionId) {
      const pcollection = descriptor.pcollections.get(pcollectionId);
      if (!pcollection) throw new Error(`unknown PCollection ${JSON.stringify(pcollectionId)}`);
      return coder(pcollection.coder_id);
    },
    limits: { ...DEFAULT_LIMITS, ...t.limits },
    bundle: () => services,
  };
  const op = factory(ctx);
  return {
    op,
    ctx,
    descriptor,
    outputs,
    out(name) {
      const receiver = name === undefined ? [...outputs.values()][0] : outputs.get(name);
      if (!receiver) throw new Error(`no output ${name ?? "(only)"}`);
      return receiver;
    },
    async setup() {
      await op.setup?.();
    },
    async runBundle(elements) {
      await op.startBundle?.();
      for (const element of elements) await op.process(element);
      await op.finishBundle?.();
    },
    async teardown() {
      await op.teardown?.();
    },
  };
}

/** Builds, sets up and returns the operation of a transform. */
export async function setUpOperation(t: TransformUnderTest): Promise<OperationUnderTest> {
  const built = buildOperation(t);
  await built.setup();
  return built;
}

/** A windowed value (global window, timestamp 0, no firing, unless given). */
export function wv<T>(
  value: T,
  options: { timestamp?: bigint; windows?: BoundedWindow[] } = {},
): WindowedValue<T> {
  return {
    value,
    timestamp: options.timestamp ?? 0n,
    windows: options.windows ?? [GLOBAL_WINDOW],
    pane: NO_FIRING,
  };
}

/** UTF-8 JSON bytes (user-code payloads). */
export function json(o: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(o));
}
