/**
 * `beam:transform:combine_per_key_precombine:v1` that takes columnar batches
 * (README "Vectorized DoFns"): when the CombineFn is the built-in sum, count,
 * min, max or mean and a batch's `key` and `value` columns are of a kind it
 * reads (keys: dictionary-encoded strings, Utf8, Int64, Float64, Binary, Bool;
 * values: Float64, or Int64 of safe integers; no nulls), the rows are added
 * to the precombine's own table straight from the columns: each distinct key
 * of the batch is looked up once (and encoded only when the table does not
 * hold it yet, see `known`), and the accumulators are
 * updated in row order with the built-in's arithmetic, so the result is
 * exactly the per-element path's (same floating-point sums, same bigint
 * promotion: an add that would leave the safe-integer range goes through the
 * CombineFn itself). Entries, timestamps and the `maxKeys` eviction are those
 * of the per-element path. Any other batch goes row by row through `process`.
 */
import { DataType, Precision, type Data, type Vector } from "apache-arrow";
import { fromArrow, rowShape, type ElementBatch } from "../../coders/columnar/index.js";
import type { BoundedWindow } from "../../coders/index.js";
import {
  PrecombineOperation,
  registerPrecombineVariant,
  type PrecombineEntry,
} from "../combine/precombine.js";
import { errorMessage, OperationError } from "../errors.js";
import type { MaybePromise, Receiver } from "../operation.js";
import { deliverBatch } from "./batch-delivery.js";

/** The built-ins added on columns, by the code the row loop switches on. */
const FAST_FNS: ReadonlyMap<string, number> = new Map([
  ["sum", 0],
  ["count", 1],
  ["min", 2],
  ["max", 3],
  ["mean", 4],
]);
const SUM = 0;
const COUNT = 1;
const MIN = 2;
const MAX = 3;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** The high 32 bits of -2^53 (int64 values at or below it are not safe integers). */
const SAFE_HIGH = 2 ** 21;

/** The keys of a run of rows: a slot per row (rows with equal keys share it) and each slot's key. */
interface KeySlots {
  readonly slots: ArrayLike<number>;
  readonly slotCount: number;
  /** The key of a slot as the per-element path sees it (`fromArrow` of its cell). */
  keyOf(slot: number): unknown;
}

/** One Arrow record batch of the table, read for the row loop. */
interface Chunk {
  readonly keys: KeySlots;
  /** The values as numbers (unread for count). */
  readonly values: Float64Array;
  readonly length: number;
  /** The row of the batch (its timestamps) this chunk starts at. */
  readonly rowBase: number;
  /** The table entry of each (slot, window), once looked up; cleared when entries are evicted. */
  readonly entries: (PrecombineEntry | undefined)[];
  /** The encoded key of each slot, once encoded. */
  readonly keyIds: (string | undefined)[];
}

export class ColumnarPrecombineOperation extends PrecombineOperation {
  readonly takesBatches = true;
  /** The built-in's code when it is one added on columns (known after setup). */
  private fn: number | undefined;
  /** This precombine's per-element path, as a receiver of rows. */
  private readonly rows: Receiver = { process: (element) => this.process(element) };

  /**
   * Entries of the table by window id and key value, for key values a Map
   * tells apart exactly as their encodings do (strings, booleans, bigints,
   * numbers but -0 and NaN): a key of an earlier batch is found without
   * encoding it. It holds only entries in the table: cleared whenever
   * entries leave the table.
   */
  private readonly known = new Map<string, Map<unknown, PrecombineEntry>>();

  override async setup(): Promise<void> {
    await super.setup();
    this.fn = FAST_FNS.get(this.host.builtinName ?? "");
  }

  override startBundle(): void {
    super.startBundle();
    this.known.clear();
  }

  override finishBundle(): MaybePromise {
    this.known.clear();
    return super.finishBundle();
  }

  protected override evictIfFull(): MaybePromise {
    if (this.table.size > this.options.maxKeys) this.known.clear();
    return super.evictIfFull();
  }

  processBatch(batch: ElementBatch): MaybePromise {
    const fn = this.fn;
    const chunks = fn === undefined ? undefined : this.chunksOf(batch, fn);
    if (!chunks) return deliverBatch(this.rows, batch);
    const windowIds = batch.windows.map((w) => this.encoded("window", w));
    return this.addChunks(batch, chunks, windowIds, fn as number, 0, 0);
  }

  /** The batch's record batches read for the row loop, or undefined when a column is of no kind it reads. */
  private chunksOf(batch: ElementBatch, fn: number): Chunk[] | undefined {
    const table = batch.table;
    if (rowShape(table) !== "kv" || batch.windows.length === 0) return undefined;
    try {
      const chunks: Chunk[] = [];
      let rowBase = 0;
      for (const recordBatch of table.batches) {
        const length = recordBatch.numRows;
        const key = recordBatch.getChild("key") as Vector;
        const value = recordBatch.getChild("value") as Vector;
        if (key.data.length !== 1 || value.data.length !== 1) return undefined;
        const keys = keySlots(key);
        const values = fn === COUNT ? new Float64Array(length) : numbers(value.data[0]!);
        if (!keys || !values) return undefined;
        const cells = keys.slotCount * batch.windows.length;
        chunks.push({
          keys,
          values,
          length,
          rowBase,
          entries: new Array<PrecombineEntry | undefined>(cells).fill(undefined),
          keyIds: new Array<string | undefined>(keys.slotCount).fill(undefined),
        });
        rowBase += length;
      }
      return chunks;
    } catch (err) {
      throw new OperationError(
        this.transformId,
        this.urn,
        `cannot read the columns of a batch: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  private addChunks(
    batch: ElementBatch,
    chunks: Chunk[],
    windowIds: string[],
    fn: number,
    from: number,
    row: number,
  ): MaybePromise {
    for (let c = from; c < chunks.length; c++) {
      const pending = this.addRows(batch, chunks[c]!, windowIds, fn, c === from ? row : 0);
      if (pending)
        return pending.then((next) => this.addChunks(batch, chunks, windowIds, fn, c, next));
    }
    return undefined;
  }

  /**
   * Adds rows `[from, length)` of a chunk, in row order; when an eviction
   * must wait for the receiver, a promise of the row to go on from.
   */
  private addRows(
    batch: ElementBatch,
    chunk: Chunk,
    windowIds: string[],
    fn: number,
    from: number,
  ): Promise<number> | undefined {
    const { keys, values, entries, rowBase, length } = chunk;
    const rowSlots = keys.slots;
    const { windows, timestamps } = batch;
    const w = windowIds.length;
    const combines = this.options.timestampCombiner !== "END_OF_WINDOW";
    const maxKeys = this.options.maxKeys;
    for (let i = from; i < length; i++) {
      const slot = rowSlots[i]!;
      const x = values[i]!;
      let created = false;
      for (let k = 0; k < w; k++) {
        const cell = slot * w + k;
        let entry = entries[cell];
        if (entry === undefined) {
          const size = this.table.size;
          entry = this.entryOfSlot(
            chunk,
            slot,
            windowIds[k]!,
            windows[k]!,
            timestamps[rowBase + i]!,
          );
          if (this.table.size > size) created = true;
          entries[cell] = entry;
        } else if (combines) {
          this.combineTimestamp(entry, timestamps[rowBase + i]!);
        }
        this.add(entry, x, fn);
      }
      if (created && this.table.size > maxKeys) {
        entries.fill(undefined); // evicted entries leave the table
        const pending = this.evictIfFull();
        if (pending) return pending.then(() => i + 1);
      }
    }
    return undefined;
  }

  /** The entry of a slot's key in a window, as `entryFor` gives it (from `known` when there). */
  private entryOfSlot(
    chunk: Chunk,
    slot: number,
    windowId: string,
    window: BoundedWindow,
    timestamp: bigint,
  ): PrecombineEntry {
    const key = chunk.keys.keyOf(slot);
    const kind = typeof key;
    const knowable =
      kind === "string" ||
      kind === "bigint" ||
      kind === "boolean" ||
      (kind === "number" && key === key && !Object.is(key, -0));
    let known = this.known.get(windowId);
    const seen = knowable ? known?.get(key) : undefined;
    if (seen) {
      this.combineTimestamp(seen, timestamp);
      return seen;
    }
    const keyId = (chunk.keyIds[slot] ??= this.encoded("key", key));
    const entry = this.entryFor(keyId + windowId, key, window, timestamp);
    if (knowable) {
      if (!known) this.known.set(windowId, (known = new Map()));
      known.set(key, entry);
    }
    return entry;
  }

  /** `entry.accumulator = addInput(entry.accumulator, x)` with the built-in's own arithmetic. */
  private add(entry: PrecombineEntry, x: number, fn: number): void {
    const acc = entry.accumulator;
    switch (fn) {
      case SUM:
        if (typeof acc === "number") {
          const sum = acc + x;
          // The built-in turns an integer sum that leaves the safe range into a bigint.
          if (
            (sum <= MAX_SAFE && sum >= -MAX_SAFE) ||
            !Number.isInteger(acc) ||
            !Number.isInteger(x)
          ) {
            entry.accumulator = sum;
            return;
          }
        }
        entry.accumulator = this.host.addInput(acc, x);
        return;
      case COUNT:
        entry.accumulator = (acc as number) + 1;
        return;
      case MIN:
        if (acc === null || x < (acc as number)) entry.accumulator = x;
        return;
      case MAX:
        if (acc === null || x > (acc as number)) entry.accumulator = x;
        return;
      default: {
        // mean: [sum, count], a fresh array per entry, updated in place.
        const mean = acc as number[];
        mean[0] = mean[0]! + x;
        mean[1] = mean[1]! + 1;
      }
    }
  }
}

/** Marks the double key -0 (a Map takes it for 0; its encoding differs). */
const NEGATIVE_ZERO = Symbol("-0");

/** A slot per row of a key column, or undefined when the column is of no kind read here. */
function keySlots(key: Vector): KeySlots | undefined {
  const data = key.data[0]!;
  if (data.nullCount > 0) return undefined;
  const type = data.type as DataType;
  if (DataType.isDictionary(type)) {
    const dictionary = data.dictionary;
    const indices = data.values as unknown;
    if (
      !dictionary ||
      dictionary.nullCount > 0 ||
      !DataType.isUtf8(type.dictionary) ||
      !(
        indices instanceof Int32Array ||
        indices instanceof Int16Array ||
        indices instanceof Int8Array ||
        indices instanceof Uint8Array ||
        indices instanceof Uint16Array
      )
    ) {
      return undefined;
    }
    return {
      slots: indices.subarray(0, data.length),
      slotCount: dictionary.length,
      keyOf: (slot) => dictionary.get(slot) as unknown,
    };
  }
  let same: (cell: unknown) => unknown;
  if (DataType.isUtf8(type) || DataType.isBool(type)) same = (cell) => cell;
  else if (DataType.isInt(type) && type.bitWidth === 64 && type.isSigned) same = (cell) => cell;
  else if (DataType.isBinary(type))
    same = (cell) => Buffer.from(cell as Uint8Array).toString("latin1");
  else if (DataType.isFloat(type) && type.precision === Precision.DOUBLE)
    same = (cell) => (Object.is(cell, -0) ? NEGATIVE_ZERO : cell);
  else return undefined;
  return slotsByValue(key, data.length, same);
}

/**
 * Slots by equal cells (`same` maps a cell to a Map key that is equal
 * exactly when the per-element keys are; a NaN double gets a slot of its own,
 * and the table then tells whether it is new).
 */
function slotsByValue(key: Vector, length: number, same: (cell: unknown) => unknown): KeySlots {
  const slots = new Int32Array(length);
  const bySame = new Map<unknown, number>();
  const cells: unknown[] = [];
  for (let i = 0; i < length; i++) {
    const cell = key.get(i) as unknown;
    const k = same(cell);
    let slot = k !== k ? undefined : bySame.get(k);
    if (slot === undefined) {
      slot = cells.length;
      cells.push(cell);
      if (k === k) bySame.set(k, slot);
    }
    slots[i] = slot;
  }
  return { slots, slotCount: cells.length, keyOf: (slot) => fromArrow(cells[slot]) };
}

/**
 * A value column as numbers, as the per-element path reads them: doubles
 * as they are, int64s when every one is a safe integer (else undefined: the
 * batch goes row by row, where unsafe values stay bigints).
 */
function numbers(data: Data): Float64Array | undefined {
  if (data.nullCount > 0) return undefined;
  const type = data.type as DataType;
  if (DataType.isFloat(type) && type.precision === Precision.DOUBLE)
    return (data.values as Float64Array).subarray(0, data.length);
  if (!(DataType.isInt(type) && type.bitWidth === 64 && type.isSigned)) return undefined;
  const int64 = data.values as BigInt64Array;
  const halves = new Int32Array(int64.buffer, int64.byteOffset, data.length * 2);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const low = halves[2 * i]!;
    const high = halves[2 * i + 1]!;
    if (high < -SAFE_HIGH || high >= SAFE_HIGH || (high === -SAFE_HIGH && low === 0))
      return undefined;
    out[i] = high * 4294967296 + (low >>> 0);
  }
  return out;
}

registerPrecombineVariant(
  ({ transformId, host, out, options }) =>
    new ColumnarPrecombineOperation(transformId, host, out, options),
);
