/**
 * `beam:transform:combine_per_key_precombine:v1` (payload: CombinePayload):
 * the lifted, mapper-side part of CombinePerKey. Input `KV<K, V>`, output
 * `KV<K, Acc>`: inputs are added to an accumulator per (key, window) in a
 * bounded table (keyed by the encoded key and the encoded window, so equal
 * keys of different windows stay apart and an element in several windows
 * counts in each). When the table holds more than `maxKeys` entries the
 * oldest tenth is emitted, as Beam Python's PGBKCVOperation does; the rest is
 * emitted at finishBundle. Emitted accumulators are compacted.
 *
 * Output timestamps follow the input windowing strategy's timestamp combiner
 * (`output_time`): the end of the window (default), or the earliest or the
 * latest input timestamp, so the runner's GroupByKey combines them right.
 *
 * `maxKeys` is the pipeline option `firefly_precombine_max_keys` (default 10000).
 */
import {
  ByteWriter,
  NO_FIRING,
  type BoundedWindow,
  type Coder,
  type WindowedValue,
} from "../../coders/index.js";
import { pipelineApi } from "../../proto/index.js";
import { errorMessage, OperationError } from "../errors.js";
import { kvInput, onlyOutput } from "../flatten.js";
import type { MaybePromise, Operation, Receiver } from "../operation.js";
import { pcollectionCoders } from "../pardo/coder-components.js";
import { positiveIntegerOption, registerOperation, type OperationContext } from "../registry.js";
import { CombineFnHost } from "./combine-fn-host.js";

export const COMBINE_PER_KEY_PRECOMBINE_URN = "beam:transform:combine_per_key_precombine:v1";
export const PRECOMBINE_MAX_KEYS_OPTION = "firefly_precombine_max_keys";
export const DEFAULT_PRECOMBINE_MAX_KEYS = 10_000;

/** How an entry's output timestamp is derived from its inputs' timestamps. */
export type TimestampCombiner = "END_OF_WINDOW" | "EARLIEST" | "LATEST";

/** One (key, window) of the table: its accumulator and output timestamp so far. */
export interface PrecombineEntry {
  key: unknown;
  window: BoundedWindow;
  accumulator: unknown;
  timestamp: bigint;
}

export interface PrecombineOptions {
  keyCoder: Coder<unknown>;
  windowCoder: Coder<unknown>;
  timestampCombiner: TimestampCombiner;
  maxKeys: number;
}

export class PrecombineOperation implements Operation {
  readonly urn = COMBINE_PER_KEY_PRECOMBINE_URN;
  /** Entries by table id: the nested encoding of the key, then of the window (latin1). */
  protected readonly table = new Map<string, PrecombineEntry>();
  private readonly writer = new ByteWriter(256);

  constructor(
    readonly transformId: string,
    protected readonly host: CombineFnHost,
    protected readonly out: Receiver,
    protected readonly options: PrecombineOptions,
  ) {}

  setup(): Promise<void> {
    return this.host.setup();
  }

  startBundle(): void {
    this.table.clear();
  }

  process(element: WindowedValue<unknown>): MaybePromise {
    const kv = kvInput(this.transformId, this.urn, element, "KV<K, V>");
    const { keyCoder, windowCoder } = this.options;
    const writer = this.writer;
    writer.reset();
    this.encode("key", keyCoder, kv.key);
    const keyLength = writer.length;
    const windows = element.windows;
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i];
      writer.pos = keyLength; // the encoded key, then this window
      this.encode("window", windowCoder, window);
      const id = writer.buf.toString("latin1", 0, writer.pos);
      const entry = this.entryFor(id, kv.key, window, element.timestamp);
      entry.accumulator = this.host.addInput(entry.accumulator, kv.value);
    }
    return this.evictIfFull();
  }

  /**
   * The entry of table id `id` (created with a fresh accumulator if absent),
   * its timestamp updated with `timestamp` as the timestamp combiner says.
   */
  protected entryFor(
    id: string,
    key: unknown,
    window: BoundedWindow,
    timestamp: bigint,
  ): PrecombineEntry {
    let entry = this.table.get(id);
    if (entry === undefined) {
      entry = { key, window, accumulator: this.host.createAccumulator(), timestamp };
      this.table.set(id, entry);
    } else {
      this.combineTimestamp(entry, timestamp);
    }
    return entry;
  }

  /** Takes an input timestamp into an existing entry's (EARLIEST or LATEST). */
  protected combineTimestamp(entry: PrecombineEntry, timestamp: bigint): void {
    const combiner = this.options.timestampCombiner;
    if (combiner === "EARLIEST") {
      if (timestamp < entry.timestamp) entry.timestamp = timestamp;
    } else if (combiner === "LATEST") {
      if (timestamp > entry.timestamp) entry.timestamp = timestamp;
    }
  }

  /** The nested encoding of a key or window, as the latin1 string table ids are made of. */
  protected encoded(what: "key" | "window", value: unknown): string {
    const writer = this.writer;
    writer.reset();
    this.encode(what, what === "key" ? this.options.keyCoder : this.options.windowCoder, value);
    return writer.buf.toString("latin1", 0, writer.pos);
  }

  /** Appends the nested encoding of a key or window to the table-key writer. */
  private encode(what: string, coder: Coder<unknown>, value: unknown): void {
    try {
      coder.encodeTo(value, this.writer, "nested");
    } catch (err) {
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot encode the ${what} with ${coder.toString()}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  /** Past `maxKeys` entries, emits the oldest ones down to nine tenths of it. */
  protected evictIfFull(): MaybePromise {
    if (this.table.size > this.options.maxKeys) {
      return this.flush(this.table.size - Math.floor((this.options.maxKeys * 9) / 10));
    }
    return undefined;
  }

  finishBundle(): MaybePromise {
    return this.flush(this.table.size);
  }

  /** Emits (and removes) the `count` oldest entries. */
  private flush(count: number): MaybePromise {
    const iterator = this.table.entries();
    for (let emitted = 0; emitted < count; emitted++) {
      const next = iterator.next();
      if (next.done) break;
      const [id, entry] = next.value;
      this.table.delete(id);
      const pending = this.out.process(this.outputOf(entry));
      if (pending) return pending.then(() => this.flush(count - emitted - 1));
    }
    return undefined;
  }

  private outputOf(entry: PrecombineEntry): WindowedValue<unknown> {
    return {
      value: { key: entry.key, value: this.host.compact(entry.accumulator) },
      timestamp:
        this.options.timestampCombiner === "END_OF_WINDOW"
          ? entry.window.maxTimestamp
          : entry.timestamp,
      windows: [entry.window],
      pane: NO_FIRING,
    };
  }
}

/** The timestamp combiner of a windowing strategy's `output_time`. */
export function timestampCombinerOf(
  strategy: pipelineApi.WindowingStrategy | undefined,
): TimestampCombiner {
  switch (strategy?.output_time) {
    case pipelineApi.OutputTime.Enum.EARLIEST_IN_PANE:
      return "EARLIEST";
    case pipelineApi.OutputTime.Enum.LATEST_IN_PANE:
      return "LATEST";
    default:
      return "END_OF_WINDOW";
  }
}

/** `firefly_precombine_max_keys` from the pipeline options (a positive integer), or the default. */
export function precombineMaxKeys(options: Readonly<Record<string, unknown>>): number {
  return positiveIntegerOption(options, PRECOMBINE_MAX_KEYS_OPTION, DEFAULT_PRECOMBINE_MAX_KEYS);
}

/** What the precombine factory built, for a variant to build on. */
export interface PrecombineParts {
  transformId: string;
  host: CombineFnHost;
  out: Receiver;
  options: PrecombineOptions;
}

/** Another precombine operation for some inputs (e.g. columnar batches), or undefined. */
export type PrecombineVariant = (parts: PrecombineParts) => PrecombineOperation | undefined;

const variants: PrecombineVariant[] = [];

/** Adds a precombine variant, tried before the element-wise precombine. */
export function registerPrecombineVariant(variant: PrecombineVariant): void {
  variants.push(variant);
}

registerOperation(COMBINE_PER_KEY_PRECOMBINE_URN, (op: OperationContext) => {
  const urn = COMBINE_PER_KEY_PRECOMBINE_URN;
  const host = new CombineFnHost(op.transformId, urn, op.transform.spec.payload);
  const inputs = [...op.transform.inputs.values()];
  if (inputs.length !== 1) {
    throw new OperationError(op.transformId, urn, `expected one input, found ${inputs.length}`);
  }
  const out = onlyOutput(op, urn);
  let parts: PrecombineParts;
  try {
    const coders = pcollectionCoders(op.descriptor, inputs[0]);
    if (coders.keyCoderId === undefined) {
      throw new Error(`the input PCollection ${JSON.stringify(inputs[0])} is not of KVs`);
    }
    const pcollection = op.descriptor.pcollections.get(inputs[0]);
    const strategy = op.descriptor.windowing_strategies.get(
      pcollection?.windowing_strategy_id ?? "",
    );
    parts = {
      transformId: op.transformId,
      host,
      out,
      options: {
        keyCoder: op.coder(coders.keyCoderId),
        windowCoder: op.coder(coders.windowCoderId),
        timestampCombiner: timestampCombinerOf(strategy),
        maxKeys: precombineMaxKeys(op.limits.pipelineOptions),
      },
    };
  } catch (err) {
    throw new OperationError(op.transformId, urn, errorMessage(err), {
      cause: err,
    });
  }
  for (const variant of variants) {
    const operation = variant(parts);
    if (operation) return operation;
  }
  return new PrecombineOperation(parts.transformId, parts.host, parts.out, parts.options);
});
