/**
 * The state handles `ctx.state(name)` returns, one per kind, over buffered
 * cells (see user-state.ts). Handles are per (state, key, window) and live
 * for one bundle.
 */
import {
  ByteWriter,
  KvCoder,
  LengthPrefixCoder,
  VarIntCoder,
  type Coder,
} from "../../coders/index.js";
import { fnApi } from "../../proto/index.js";
import type { StateAccess } from "../bundle-services.js";
import type { CombineFn } from "../combine/combine-fn.js";
import { decodePages } from "./decode-pages.js";
import type { BagCell } from "./user-state.js";

export interface FlushableHandle {
  flush(): Promise<void>;
}

export function bagHandle(cell: BagCell) {
  return {
    read: () => cell.read(),
    add: (value: unknown) => cell.add(value),
    clear: () => cell.clear(),
    flush: () => cell.flush(),
  };
}

export function valueHandle(cell: BagCell) {
  return {
    read: async () => {
      const values = await cell.read();
      return values.length === 0 ? undefined : values[values.length - 1];
    },
    write: (value: unknown) => {
      cell.clear();
      cell.add(value);
    },
    clear: () => cell.clear(),
    flush: () => cell.flush(),
  };
}

export function setHandle(cell: BagCell, coder: Coder<unknown>) {
  const keyOf = (v: unknown) => Buffer.from(coder.encode(v, "nested")).toString("latin1");
  const distinct = (values: unknown[]) => {
    const seen = new Map<string, unknown>();
    for (const v of values) seen.set(keyOf(v), v);
    return [...seen.values()];
  };
  // remove reads first: later adds and clears wait for it, so none is lost.
  const { sequenced, settled } = sequencer();
  return {
    read: async () => {
      await settled();
      return distinct(await cell.read());
    },
    // With nothing pending the add runs now: an unencodable value fails in the caller's call.
    add: (value: unknown) => sequenced(() => cell.add(value)),
    remove: (value: unknown) =>
      sequenced(async () => {
        const drop = keyOf(value);
        const kept = distinct(await cell.read()).filter((v) => keyOf(v) !== drop);
        cell.clear();
        for (const v of kept) cell.add(v);
      }),
    clear: () => sequenced(() => cell.clear()),
    flush: async () => {
      await settled();
      await cell.flush();
    },
  };
}

/**
 * Orders a handle's changes that may be async and that callers need not
 * await: `sequenced(step)` runs the step now when nothing is pending, else
 * after everything sequenced before it; `settled()` waits for all of them.
 */
function sequencer() {
  let pending: Promise<void> | undefined;
  return {
    sequenced(step: () => void | Promise<void>): Promise<void> | undefined {
      const result = pending ? pending.then(step) : step();
      if (!result) return undefined;
      const tracked: Promise<void> = result.finally(() => {
        if (pending === tracked) pending = undefined;
      });
      pending = tracked;
      return tracked;
    },
    async settled(): Promise<void> {
      while (pending) await pending;
    },
  };
}

const isPromise = (v: unknown): v is Promise<unknown> =>
  v !== null && typeof v === "object" && typeof (v as { then?: unknown }).then === "function";

/**
 * Combining state: inputs are added to a local accumulator, written as one
 * accumulator at flush. Adds apply in call order even when the CombineFn is
 * async and nobody awaits `add` (a DoFn that adds twice in a row, or elements
 * of one key arriving back to back): each add runs after the one before it,
 * and `read`, `clear` and `flush` wait for them.
 */
export function combiningHandle(cell: BagCell, combineFn: CombineFn) {
  let local: unknown;
  let hasLocal = false;
  const apply = (input: unknown): void | Promise<void> => {
    const start = hasLocal ? local : combineFn.createAccumulator();
    const addTo = (accumulator: unknown): void | Promise<void> => {
      const next = combineFn.addInput(accumulator, input);
      const set = (value: unknown) => {
        local = value;
        hasLocal = true;
      };
      if (isPromise(next)) return next.then(set);
      set(next);
    };
    return isPromise(start) ? start.then(addTo) : addTo(start);
  };
  const { sequenced, settled } = sequencer();
  return {
    read: async () => {
      await settled();
      const accumulators = await cell.read();
      if (hasLocal) accumulators.push(local);
      const merged =
        accumulators.length === 0
          ? await combineFn.createAccumulator()
          : await combineFn.mergeAccumulators(accumulators);
      return combineFn.extractOutput(merged);
    },
    add: (input: unknown) => sequenced(() => apply(input)),
    clear: () =>
      sequenced(() => {
        cell.clear();
        hasLocal = false;
        local = undefined;
      }),
    flush: async () => {
      await settled();
      if (hasLocal) cell.add(local);
      hasLocal = false;
      local = undefined;
      await cell.flush();
    },
  };
}

/** A map (multimap user state with one value per key), buffered per bundle. */
export function mapHandle(
  base: { transformId: string; userStateId: string; window: Uint8Array; key: Uint8Array },
  keyCoder: Coder<unknown>,
  valueCoder: Coder<unknown>,
  state: () => StateAccess,
) {
  let clearedAll = false;
  const local = new Map<string, { key: unknown; value: unknown; removed: boolean }>();
  const keysKey = new fnApi.StateKey({
    multimap_keys_user_state: new fnApi.StateKey.MultimapKeysUserState({
      transform_id: base.transformId,
      user_state_id: base.userStateId,
      window: base.window,
      key: base.key,
    }),
  });
  const entryKey = (mapKey: Uint8Array) =>
    new fnApi.StateKey({
      multimap_user_state: new fnApi.StateKey.MultimapUserState({
        transform_id: base.transformId,
        user_state_id: base.userStateId,
        window: base.window,
        key: base.key,
        map_key: mapKey,
      }),
    });
  const encodeKey = (k: unknown) => keyCoder.encode(k, "nested");
  const id = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

  const get = async (k: unknown) => {
    const bytes = encodeKey(k);
    const entry = local.get(id(bytes));
    if (entry) return entry.removed ? undefined : entry.value;
    if (clearedAll) return undefined;
    const values = decodePages(await state().get(entryKey(bytes)), valueCoder);
    return values.length === 0 ? undefined : values[values.length - 1];
  };
  const keys = async () => {
    const result = new Map<string, unknown>();
    if (!clearedAll) {
      for (const k of decodePages(await state().get(keysKey), keyCoder))
        result.set(id(encodeKey(k)), k);
    }
    for (const [kid, entry] of local) {
      if (entry.removed) result.delete(kid);
      else result.set(kid, entry.key);
    }
    return [...result.values()];
  };
  return {
    get,
    set: (k: unknown, v: unknown) => {
      valueCoder.encode(v, "nested");
      local.set(id(encodeKey(k)), { key: k, value: v, removed: false });
    },
    remove: (k: unknown) => {
      local.set(id(encodeKey(k)), { key: k, value: undefined, removed: true });
    },
    keys,
    entries: async () => {
      const out: [unknown, unknown][] = [];
      for (const k of await keys()) out.push([k, await get(k)]);
      return out;
    },
    clear: () => {
      clearedAll = true;
      local.clear();
    },
    flush: async () => {
      const s = state();
      if (clearedAll) await s.clear(keysKey);
      for (const entry of local.values()) {
        const bytes = encodeKey(entry.key);
        if (!clearedAll) await s.clear(entryKey(bytes));
        if (!entry.removed)
          await s.append(entryKey(bytes), valueCoder.encode(entry.value, "nested"));
      }
      clearedAll = false;
      local.clear();
    },
  };
}

/** An entry of an ordered list: a value at a sort key (a timestamp in millis). */
export interface TimestampedValue {
  timestamp: bigint;
  value: unknown;
}

/** The whole sort key range (Java's `Long.MIN_VALUE`..`Long.MAX_VALUE`). */
const MIN_INT64_MILLIS = -(2n ** 63n);
const MAX_INT64_MILLIS = 2n ** 63n - 1n;

function sortKey(v: unknown, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  throw new TypeError(`${what} must be a bigint or a safe integer (millis), got ${String(v)}`);
}

/**
 * Ordered list user state (`beam:user_state:ordered_list:v1`), buffered per
 * bundle. Entries travel as Beam's TimestampedValue encoding,
 * `KV<varint millis, length_prefix(value)>`, under an `ordered_list_user_state`
 * key. Every request uses the key with the whole range
 * `[-2^63, 2^63 - 1)`: the harness's state cache is keyed by the exact
 * StateKey, so one key keeps cached reads coherent with appends and clears
 * across bundles; sub-ranges are selected and cleared here (a `clearRange`
 * rewrites the list at flush).
 *   add({timestamp, value}), read({from?, to?}) → entries sorted by timestamp,
 *   clearRange(from, to), clear()
 */
export function orderedListHandle(
  base: { transformId: string; userStateId: string; window: Uint8Array; key: Uint8Array },
  valueCoder: Coder<unknown>,
  state: () => StateAccess,
) {
  const entryCoder = new KvCoder(new VarIntCoder(), new LengthPrefixCoder(valueCoder));
  const stateKey = new fnApi.StateKey({
    ordered_list_user_state: new fnApi.StateKey.OrderedListUserState({
      transform_id: base.transformId,
      user_state_id: base.userStateId,
      window: base.window,
      key: base.key,
      range: new fnApi.OrderedListRange({
        start: String(MIN_INT64_MILLIS),
        end: String(MAX_INT64_MILLIS),
      }),
    }),
  });
  let cleared = false;
  let adds: TimestampedValue[] = [];
  let removes: [bigint, bigint][] = [];
  const inRange = (ts: bigint, from: bigint, to: bigint) => ts >= from && ts < to;
  const byTimestamp = (a: TimestampedValue, b: TimestampedValue) =>
    a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0;
  const range = (options: { from?: unknown; to?: unknown } | undefined): [bigint, bigint] => [
    options?.from === undefined ? MIN_INT64_MILLIS : sortKey(options.from, "from"),
    options?.to === undefined ? MAX_INT64_MILLIS : sortKey(options.to, "to"),
  ];
  /** What the runner holds, minus the ranges this bundle cleared. */
  const remote = async (): Promise<TimestampedValue[]> => {
    if (cleared) return [];
    return decodePages(await state().get(stateKey), entryCoder)
      .map((kv) => ({ timestamp: BigInt(kv.key), value: kv.value }))
      .filter((e) => !removes.some(([a, b]) => inRange(e.timestamp, a, b)));
  };

  return {
    add: (entry: { timestamp: unknown; value: unknown }) => {
      if (entry === null || typeof entry !== "object")
        throw new TypeError("ordered list add takes {timestamp, value}");
      const timestamp = sortKey(entry.timestamp, "timestamp");
      valueCoder.encode(entry.value, "nested"); // fail in the user's call on a value the coder cannot encode
      adds.push({ timestamp, value: entry.value });
    },
    /** Entries with `from <= timestamp < to`, sorted by timestamp (stable: earlier adds first). */
    read: async (options?: { from?: unknown; to?: unknown }): Promise<TimestampedValue[]> => {
      const [from, to] = range(options);
      const all = [...(await remote()), ...adds];
      return all.filter((e) => inRange(e.timestamp, from, to)).sort(byTimestamp);
    },
    clearRange: (fromMillis: unknown, toMillis: unknown) => {
      const [from, to] = range({ from: fromMillis, to: toMillis });
      adds = adds.filter((e) => !inRange(e.timestamp, from, to));
      if (!cleared && from < to) removes.push([from, to]);
    },
    clear: () => {
      cleared = true;
      adds = [];
      removes = [];
    },
    flush: async () => {
      const s = state();
      let write = adds;
      if (!cleared && removes.length > 0) {
        write = [...(await remote()), ...adds];
        cleared = true;
      }
      if (cleared) await s.clear(stateKey);
      if (write.length > 0) {
        const writer = new ByteWriter(256);
        for (const e of write.sort(byTimestamp))
          entryCoder.encodeTo({ key: e.timestamp, value: e.value }, writer, "nested");
        await s.append(stateKey, writer.finish());
      }
      cleared = false;
      adds = [];
      removes = [];
    },
  };
}
